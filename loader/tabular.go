package loader

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/distill-rag/distill/document"
)

// CSV reads comma-separated tables: the first row is the header and every
// other row becomes one line of "header: value" pairs joined by " | ", so
// a chunk of rows still says what each value is. Pages are sections of
// about SectionBytes.
var CSV Format = csvFormat{}

// XLSX reads Excel workbooks through excelize: one page per sheet, rows
// written like CSV rows, values as Excel displays them.
var XLSX Format = xlsxFormat{}

type csvFormat struct{}

func (csvFormat) Name() string { return "csv" }

func (csvFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	rd, err := decodedReader(io.NewSectionReader(r, 0, size), size)
	if err != nil {
		return err
	}
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("line 1: %w", err)
	}
	p := newPager(ctx, emit)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err // csv.ParseError names the line
		}
		if err := p.add(recordLine(header, rec)); err != nil {
			return err
		}
	}
	if p.page == 1 && p.buf.Len() == 0 { // a header alone is still content
		_ = p.add(strings.Join(header, " | "))
	}
	return p.flush()
}

// recordLine writes a row as "header: value" pairs; empty cells are left
// out and cells beyond the header are numbered.
func recordLine(header, rec []string) string {
	var parts []string
	for i, v := range rec {
		v = strings.Join(strings.Fields(v), " ")
		if v == "" {
			continue
		}
		h := ""
		if i < len(header) {
			h = strings.TrimSpace(header[i])
		}
		if h == "" {
			h = fmt.Sprintf("column %d", i+1)
		}
		parts = append(parts, h+": "+v)
	}
	return strings.Join(parts, " | ")
}

type xlsxFormat struct{}

func (xlsxFormat) Name() string { return "xlsx" }

func (xlsxFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	// Check the entry count ourselves; excelize enforces the inflated size.
	if _, err := openZip(r, size, "Excel (.xlsx)", doc.Source, opts); err != nil {
		return err
	}
	inflated := opts.zipInflated()
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{UnzipSizeLimit: inflated, UnzipXMLSizeLimit: min(16<<20, inflated)})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size") {
			return zipInflatedError(doc.Source, inflated)
		}
		return fmt.Errorf("is not a valid Excel workbook: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return errors.New("is a workbook without sheets")
	}
	for i, name := range sheets {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := f.GetRows(name)
		if err != nil {
			return fmt.Errorf("sheet %q: %w", name, err)
		}
		lines := []string{"# " + name}
		for j, row := range rows {
			if j == 0 {
				continue
			}
			if l := recordLine(rows[0], row); l != "" {
				lines = append(lines, l)
			}
		}
		if len(rows) == 1 {
			lines = append(lines, strings.Join(rows[0], " | "))
		}
		if err := emit(document.Page{Number: i + 1, Text: strings.Join(lines, "\n")}); err != nil {
			return err
		}
	}
	return nil
}
