package loader

import (
	"context"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"github.com/distill-rag/distill/document"
)

// HTML reads a web page as clean text: scripts, styles, navigation and
// forms are dropped, block elements become lines and paragraphs, and the
// character set declared by the page is honoured. The <title> (or first
// <h1>) is the title.
var HTML Format = htmlFormat{}

type htmlFormat struct{}

func (htmlFormat) Name() string { return "html" }

// skipped elements hold no reading text.
var skipped = map[string]bool{
	"script": true, "style": true, "noscript": true, "template": true, "head": true,
	"nav": true, "form": true, "button": true, "select": true, "svg": true, "iframe": true,
	"object": true, "canvas": true,
}

// blocks end a line; paragraphs end a paragraph.
var blocks = map[string]bool{
	"div": true, "section": true, "article": true, "main": true, "header": true, "footer": true,
	"aside": true, "ul": true, "ol": true, "dl": true, "dt": true, "dd": true, "table": true,
	"tr": true, "figure": true, "figcaption": true, "address": true, "li": true, "br": true, "hr": true,
}

var paragraphs = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "pre": true, "table": true, "ul": true, "ol": true,
}

func (htmlFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	rd, err := charset.NewReader(io.NewSectionReader(r, 0, size), "text/html")
	if err != nil {
		return err
	}
	var (
		out      strings.Builder
		skip     int
		pre      int
		title    strings.Builder
		inTitle  bool
		h1       strings.Builder
		inH1     bool
		tableRow bool
	)
	z := html.NewTokenizer(rd)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err()
			}
			if doc.Title == "" {
				doc.Title = strings.TrimSpace(collapseSpace(title.String()))
			}
			if doc.Title == "" {
				doc.Title = strings.TrimSpace(collapseSpace(h1.String()))
			}
			tidy := tidyLines(out.String())
			return readPages(ctx, strings.NewReader(tidy), int64(len(tidy)), emit)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			start := tt != html.EndTagToken
			if tag == "title" {
				inTitle = start && tt == html.StartTagToken
			}
			if skipped[tag] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case tag == "h1":
				inH1 = start
			case tag == "pre":
				if start {
					pre++
				} else if pre > 0 {
					pre--
				}
			case tag == "td" || tag == "th":
				if start && tableRow {
					out.WriteString(" | ")
				}
				tableRow = true
			case tag == "tr":
				tableRow = false
			case tag == "img" && start:
				for {
					k, v, more := z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						out.WriteString(" ")
						out.Write(v)
						out.WriteString(" ")
					}
					if !more {
						break
					}
				}
			}
			if paragraphs[tag] {
				out.WriteString("\n\n")
			} else if blocks[tag] {
				out.WriteString("\n")
			}
			if tag == "li" && start {
				out.WriteString("- ")
			}
		case html.TextToken:
			text := string(z.Text())
			if inTitle {
				title.WriteString(text)
				continue
			}
			if skip > 0 {
				continue
			}
			if inH1 {
				h1.WriteString(text)
			}
			if pre > 0 {
				out.WriteString(text)
			} else {
				out.WriteString(collapseSpace(text))
			}
		}
	}
}

// collapseSpace turns runs of white space into one space, as a browser does.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		} else if space {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyLines trims every line and keeps at most one blank line in a row.
func tidyLines(s string) string {
	var b strings.Builder
	blank := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteString("\n")
			}
		}
		blank = 0
		b.WriteString(line)
	}
	return b.String()
}
