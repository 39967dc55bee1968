package loader

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/distill-rag/distill/document"
)

// DOCX reads Word documents (word/document.xml). Paragraphs are kept,
// headings become Markdown "#" lines by their Heading level, tables become
// " | " rows, and footnotes follow the last page as "[^n]: text". A page
// break or section break starts a new page; text without breaks is cut
// into sections of about SectionBytes.
var DOCX Format = docxFormat{}

// ODT reads OpenDocument text (content.xml) like DOCX: headings, " | "
// table rows, footnotes at the end; explicit page breaks are not recorded
// in content.xml, so pages are sections of about SectionBytes.
var ODT Format = odtFormat{}

// PPTX reads PowerPoint decks: one page per slide, its title first, then
// the rest of its text, then its speaker notes.
var PPTX Format = pptxFormat{}

type docxFormat struct{}

func (docxFormat) Name() string { return "docx" }

func (docxFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	z, err := openZip(r, size, "Word (.docx)", doc.Source, opts)
	if err != nil {
		return err
	}
	body, err := z.read("word/document.xml")
	if err != nil {
		return fmt.Errorf("is not a Word document: %w", err)
	}
	root, err := parseXML(body)
	if err != nil {
		return fmt.Errorf("word/document.xml: %w", err)
	}
	var notes []string
	num := map[string]int{} // footnote id -> its number, in footnotes.xml order
	if z.has("word/footnotes.xml") {
		if b, err := z.read("word/footnotes.xml"); err == nil {
			if fr, err := parseXML(b); err == nil {
				for _, fn := range fr.find("footnote") {
					id, _ := strconv.Atoi(fn.attr("id"))
					if id <= 0 { // separators
						continue
					}
					if t := strings.TrimSpace(docxText(fn, nil)); t != "" {
						num[fn.attr("id")] = len(notes) + 1
						notes = append(notes, fmt.Sprintf("[^%d]: %s", len(notes)+1, t))
					}
				}
			}
		}
	}
	p := newPager(ctx, emit)
	bodies := root.find("body")
	if len(bodies) == 0 {
		return fmt.Errorf("word/document.xml has no body")
	}
	for _, el := range bodies[0].kids {
		switch el.name.Local {
		case "p":
			text, breakAfter := docxParagraph(el, num)
			if doc.Title == "" && strings.HasPrefix(text, "# ") {
				doc.Title = strings.TrimPrefix(text, "# ")
			}
			if err := p.add(text); err != nil {
				return err
			}
			if breakAfter {
				if err := p.flush(); err != nil {
					return err
				}
			}
		case "tbl":
			if err := p.add(tableRows(el, "tr", "tc", func(c *xnode) string { return docxText(c, num) })); err != nil {
				return err
			}
		}
	}
	if len(notes) > 0 {
		if err := p.add(strings.Join(notes, "\n")); err != nil {
			return err
		}
	}
	return p.flush()
}

// docxParagraph renders a paragraph and says whether a page or section
// break follows it.
func docxParagraph(el *xnode, num map[string]int) (string, bool) {
	level := 0
	brk := false
	for _, ps := range el.find("pStyle") {
		v := strings.ToLower(ps.attr("val"))
		switch {
		case v == "title":
			level = 1
		case strings.HasPrefix(v, "heading"):
			level, _ = strconv.Atoi(strings.TrimPrefix(v, "heading"))
		}
	}
	if len(el.find("sectPr")) > 0 {
		brk = true
	}
	for _, b := range el.find("br") {
		if b.attr("type") == "page" {
			brk = true
		}
	}
	text := strings.TrimSpace(docxText(el, num))
	if level > 0 && level <= 6 && text != "" {
		text = strings.Repeat("#", level) + " " + text
	}
	return text, brk
}

// docxText is the text of runs under n: w:t text, tabs, line breaks and
// footnote references as [^n], n from num.
func docxText(n *xnode, num map[string]int) string {
	var b strings.Builder
	var walk func(*xnode)
	walk = func(m *xnode) {
		switch m.name.Local {
		case "t":
			b.WriteString(m.plain())
			return
		case "tab":
			b.WriteByte('\t')
		case "br", "cr":
			if m.attr("type") != "page" {
				b.WriteByte('\n')
			}
		case "footnoteReference":
			if k, ok := num[m.attr("id")]; ok {
				fmt.Fprintf(&b, "[^%d]", k)
			}
		case "instrText", "delText":
			return
		case "p":
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}

// tableRows renders a table as one line per row, cells joined by " | ".
func tableRows(tbl *xnode, row, cell string, text func(*xnode) string) string {
	var lines []string
	for _, tr := range tbl.find(row) {
		var cells []string
		for _, tc := range tr.find(cell) {
			cells = append(cells, strings.Join(strings.Fields(text(tc)), " "))
		}
		lines = append(lines, strings.Join(cells, " | "))
	}
	return strings.Join(lines, "\n")
}

// pager gathers blocks of text into pages, cutting a page near
// SectionBytes at a block boundary.
type pager struct {
	ctx  context.Context
	emit EmitFunc
	buf  strings.Builder
	page int
}

func newPager(ctx context.Context, emit EmitFunc) *pager {
	return &pager{ctx: ctx, emit: emit, page: 1}
}

func (p *pager) add(block string) error {
	block = strings.TrimSpace(block)
	if block == "" {
		return nil
	}
	if p.buf.Len() > 0 && p.buf.Len()+len(block) > SectionBytes {
		if err := p.flush(); err != nil {
			return err
		}
	}
	if p.buf.Len() > 0 {
		p.buf.WriteString("\n\n")
	}
	p.buf.WriteString(block)
	return nil
}

func (p *pager) flush() error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if p.buf.Len() == 0 {
		return nil
	}
	pg := document.Page{Number: p.page, Text: p.buf.String()}
	p.page++
	p.buf.Reset()
	return p.emit(pg)
}

type odtFormat struct{}

func (odtFormat) Name() string { return "odt" }

func (odtFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	z, err := openZip(r, size, "OpenDocument (.odt)", doc.Source, opts)
	if err != nil {
		return err
	}
	b, err := z.read("content.xml")
	if err != nil {
		return fmt.Errorf("is not an OpenDocument text: %w", err)
	}
	root, err := parseXML(b)
	if err != nil {
		return fmt.Errorf("content.xml: %w", err)
	}
	texts := root.find("text")
	var body *xnode
	for _, t := range texts {
		if t.name.Space == "urn:oasis:names:tc:opendocument:xmlns:office:1.0" {
			body = t
		}
	}
	if body == nil {
		return fmt.Errorf("content.xml has no office:text body")
	}
	var notes []string
	p := newPager(ctx, emit)
	var walk func(*xnode) error
	walk = func(n *xnode) error {
		for _, el := range n.kids {
			switch el.name.Local {
			case "h":
				level, _ := strconv.Atoi(el.attr("outline-level"))
				level = min(max(level, 1), 6)
				t := strings.TrimSpace(odtText(el, &notes))
				if t == "" {
					continue
				}
				if doc.Title == "" {
					doc.Title = t
				}
				if err := p.add(strings.Repeat("#", level) + " " + t); err != nil {
					return err
				}
			case "p":
				if err := p.add(odtText(el, &notes)); err != nil {
					return err
				}
			case "table":
				if err := p.add(tableRows(el, "table-row", "table-cell", func(c *xnode) string { return odtText(c, &notes) })); err != nil {
					return err
				}
			case "list", "list-item", "section", "div":
				if err := walk(el); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(body); err != nil {
		return err
	}
	if len(notes) > 0 {
		if err := p.add(strings.Join(notes, "\n")); err != nil {
			return err
		}
	}
	return p.flush()
}

// odtText is the text of an ODF paragraph; notes are moved to notes and
// leave a [^n] mark.
func odtText(n *xnode, notes *[]string) string {
	var b strings.Builder
	var walk func(*xnode)
	walk = func(m *xnode) {
		switch m.name.Local {
		case "":
			b.WriteString(m.text)
			return
		case "s":
			c, _ := strconv.Atoi(m.attr("c"))
			b.WriteString(strings.Repeat(" ", max(c, 1)))
			return
		case "tab":
			b.WriteByte('\t')
			return
		case "line-break":
			b.WriteByte('\n')
			return
		case "note":
			id := len(*notes) + 1
			var body string
			for _, nb := range m.find("note-body") {
				body = strings.TrimSpace(odtText(nb, notes))
			}
			*notes = append(*notes, fmt.Sprintf("[^%d]: %s", id, body))
			fmt.Fprintf(&b, "[^%d]", id)
			return
		case "p", "h":
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}

type pptxFormat struct{}

func (pptxFormat) Name() string { return "pptx" }

func (pptxFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	z, err := openZip(r, size, "PowerPoint (.pptx)", doc.Source, opts)
	if err != nil {
		return err
	}
	type slide struct {
		n    int
		name string
	}
	var slides []slide
	for _, name := range z.names("ppt/slides/slide") {
		num := strings.TrimSuffix(strings.TrimPrefix(name, "ppt/slides/slide"), ".xml")
		if n, err := strconv.Atoi(num); err == nil && strings.HasSuffix(name, ".xml") {
			slides = append(slides, slide{n, name})
		}
	}
	if len(slides) == 0 {
		return fmt.Errorf("is not a PowerPoint deck: it has no slides")
	}
	sort.Slice(slides, func(i, j int) bool { return slides[i].n < slides[j].n })
	for i, s := range slides {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := z.read(s.name)
		if err != nil {
			return err
		}
		root, err := parseXML(b)
		if err != nil {
			return fmt.Errorf("slide %d: %w", i+1, err)
		}
		var title string
		var rest []string
		for _, sp := range root.find("sp") {
			text := drawingText(sp)
			if text == "" {
				continue
			}
			isTitle := false
			for _, ph := range sp.find("ph") {
				if t := ph.attr("type"); t == "title" || t == "ctrTitle" {
					isTitle = true
				}
			}
			if isTitle && title == "" {
				title = text
			} else {
				rest = append(rest, text)
			}
		}
		for _, tbl := range root.find("tbl") {
			rest = append(rest, tableRows(tbl, "tr", "tc", drawingText))
		}
		if doc.Title == "" && title != "" {
			doc.Title = title
		}
		var parts []string
		if title != "" {
			parts = append(parts, "# "+title)
		}
		parts = append(parts, rest...)
		if notes := slideNotes(z, s.name); notes != "" {
			parts = append(parts, "Notes: "+notes)
		}
		if err := emit(document.Page{Number: i + 1, Text: strings.Join(parts, "\n\n")}); err != nil {
			return err
		}
	}
	return nil
}

// drawingText is the text of DrawingML paragraphs (a:p, a:t) under n.
func drawingText(n *xnode) string {
	var paras []string
	for _, p := range n.find("p") {
		var b strings.Builder
		for _, t := range p.find("t") {
			b.WriteString(t.plain())
		}
		if s := strings.TrimSpace(b.String()); s != "" {
			paras = append(paras, s)
		}
	}
	return strings.Join(paras, "\n")
}

// slideNotes finds a slide's notes through its relationships.
func slideNotes(z *zipDoc, slideName string) string {
	rels := path.Join(path.Dir(slideName), "_rels", path.Base(slideName)+".rels")
	if !z.has(rels) {
		return ""
	}
	b, err := z.read(rels)
	if err != nil {
		return ""
	}
	root, err := parseXML(b)
	if err != nil {
		return ""
	}
	for _, rel := range root.find("Relationship") {
		if !strings.HasSuffix(rel.attr("Type"), "/notesSlide") {
			continue
		}
		target := path.Clean(path.Join(path.Dir(slideName), rel.attr("Target")))
		nb, err := z.read(target)
		if err != nil {
			return ""
		}
		nr, err := parseXML(nb)
		if err != nil {
			return ""
		}
		var parts []string
		for _, sp := range nr.find("sp") {
			isBody := false
			for _, ph := range sp.find("ph") {
				if ph.attr("type") == "body" {
					isBody = true
				}
			}
			if isBody {
				if t := drawingText(sp); t != "" {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}
