// Package pdfgen writes simple text PDFs with PDFium: one PDF page per
// input page, lines wrapped to the page, in the Go Regular font (embedded,
// so any Latin, Greek or Cyrillic text survives a round trip). The demo
// turns its bundled letters into PDFs with it, and tests generate their
// PDFs with it.
package pdfgen

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/structs"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/distill-rag/distill/loader"
)

// Letter-size page geometry, in points.
const (
	pageWidth  = 612
	pageHeight = 792
	margin     = 60
	fontSize   = 10
	lineHeight = 13
	lineChars  = 96 // wrap width; Go Regular at 10 pt is about 5 pt a character
	maxLines   = (pageHeight - 2*margin) / lineHeight
)

// Options set document metadata.
type Options struct {
	Title string
}

// Write returns a PDF with one page per element of pages. Lines longer than
// the page are wrapped at spaces; a page with more lines than fit is an error.
func Write(ctx context.Context, pages []string, opts Options) ([]byte, error) {
	pool, err := loader.Pool()
	if err != nil {
		return nil, err
	}
	inst, err := pool.GetInstanceWithContext(ctx)
	if err != nil {
		return nil, err
	}
	defer inst.Close()
	doc, err := inst.FPDF_CreateNewDocument(&requests.FPDF_CreateNewDocument{})
	if err != nil {
		return nil, err
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	font, err := inst.FPDFText_LoadFont(&requests.FPDFText_LoadFont{Document: doc.Document, Data: goregular.TTF, FontType: enums.FPDF_FONT_TRUETYPE, CID: true})
	if err != nil {
		return nil, fmt.Errorf("load font: %w", err)
	}
	for i, text := range pages {
		lines := Wrap(text, lineChars)
		if len(lines) > maxLines {
			return nil, fmt.Errorf("page %d has %d lines; at most %d fit", i+1, len(lines), maxLines)
		}
		page, err := inst.FPDFPage_New(&requests.FPDFPage_New{Document: doc.Document, PageIndex: i, Width: pageWidth, Height: pageHeight})
		if err != nil {
			return nil, err
		}
		ref := requests.Page{ByReference: &page.Page}
		for j, line := range lines {
			if strings.TrimSpace(line) == "" {
				continue
			}
			obj, err := inst.FPDFPageObj_CreateTextObj(&requests.FPDFPageObj_CreateTextObj{Document: doc.Document, Font: font.Font, FontSize: fontSize})
			if err != nil {
				return nil, err
			}
			if _, err := inst.FPDFText_SetText(&requests.FPDFText_SetText{PageObject: obj.PageObject, Text: line}); err != nil {
				return nil, err
			}
			y := float32(pageHeight - margin - lineHeight*(j+1))
			if _, err := inst.FPDFPageObj_Transform(&requests.FPDFPageObj_Transform{PageObject: obj.PageObject, Transform: structs.FPDF_FS_MATRIX{A: 1, D: 1, E: margin, F: y}}); err != nil {
				return nil, err
			}
			if _, err := inst.FPDFPage_InsertObject(&requests.FPDFPage_InsertObject{Page: ref, PageObject: obj.PageObject}); err != nil {
				return nil, err
			}
		}
		if _, err := inst.FPDFPage_GenerateContent(&requests.FPDFPage_GenerateContent{Page: ref}); err != nil {
			return nil, err
		}
		inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: page.Page})
	}
	var buf bytes.Buffer
	if _, err := inst.FPDF_SaveAsCopy(&requests.FPDF_SaveAsCopy{Document: doc.Document, FileWriter: &buf}); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if opts.Title != "" {
		out = withTitle(out, opts.Title)
	}
	return out, nil
}

// Wrap breaks text into lines of at most width characters at spaces,
// keeping existing line breaks; blank lines stay blank.
func Wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		line := words[0]
		for _, w := range words[1:] {
			if utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
				out = append(out, line)
				line = w
				continue
			}
			line += " " + w
		}
		out = append(out, line)
	}
	return out
}

// withTitle appends an incremental update that gives the PDF an Info
// dictionary with a Title, since PDFium can read metadata but not write it.
func withTitle(pdf []byte, title string) []byte {
	size, root, prev := trailerInfo(pdf)
	if size == 0 || root == "" {
		return pdf
	}
	var b bytes.Buffer
	b.Write(pdf)
	if !bytes.HasSuffix(pdf, []byte("\n")) {
		b.WriteByte('\n')
	}
	obj := size
	offset := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Title %s >>\nendobj\n", obj, pdfString(title))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", obj, offset, obj+1, root, obj, prev, xref)
	return b.Bytes()
}

// trailerInfo reads /Size and /Root from the last trailer and the last
// startxref offset.
func trailerInfo(pdf []byte) (size int, root string, prev int) {
	t := bytes.LastIndex(pdf, []byte("trailer"))
	s := bytes.LastIndex(pdf, []byte("startxref"))
	if t < 0 || s < 0 {
		return 0, "", 0
	}
	tr := string(pdf[t:s])
	if i := strings.Index(tr, "/Size"); i >= 0 {
		fmt.Sscanf(strings.TrimSpace(tr[i+5:]), "%d", &size)
	}
	if i := strings.Index(tr, "/Root"); i >= 0 {
		var a, g int
		if n, _ := fmt.Sscanf(strings.TrimSpace(tr[i+5:]), "%d %d R", &a, &g); n == 2 {
			root = fmt.Sprintf("%d %d R", a, g)
		}
	}
	fmt.Sscanf(strings.TrimSpace(string(pdf[s+9:])), "%d", &prev)
	return size, root, prev
}

// pdfString encodes s as a UTF-16BE hex string, which carries any text.
func pdfString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xFFFF {
			r1, r2 := utf16Surrogates(r)
			fmt.Fprintf(&b, "%04X%04X", r1, r2)
			continue
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}
