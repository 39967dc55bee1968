package loader

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/distill-rag/distill/document"
)

// Markdown reads CommonMark with GitHub tables and renders it as clean
// text: headings, paragraphs and list items on their own lines, without
// the markup. The first top-level heading is the title.
var Markdown Format = markdownFormat{}

type markdownFormat struct{}

func (markdownFormat) Name() string { return "markdown" }

var markdownParser = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough)).Parser()

func (markdownFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	rd, err := decodedReader(io.NewSectionReader(r, 0, size), size)
	if err != nil {
		return err
	}
	src, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if err := checkUTF8(src, 0); err != nil {
		return err
	}
	var out strings.Builder
	root := markdownParser.Parse(text.NewReader(src))
	renderMarkdown(&out, root, src, doc)
	return readPages(ctx, strings.NewReader(out.String()), int64(out.Len()), emit)
}

func renderMarkdown(out *strings.Builder, root ast.Node, src []byte, doc *document.Document) {
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n := n.(type) {
		case *ast.Heading:
			if entering {
				line := inlineText(n, src)
				if doc.Title == "" && n.Level == 1 {
					doc.Title = line
				}
				blockBreak(out)
				out.WriteString(line)
				out.WriteString("\n\n")
			}
			return ast.WalkSkipChildren, nil
		case *ast.Paragraph, *ast.TextBlock:
			if entering {
				if _, inItem := n.Parent().(*ast.ListItem); !inItem {
					blockBreak(out)
				}
				out.WriteString(inlineText(n, src))
				out.WriteString("\n")
				if _, inItem := n.Parent().(*ast.ListItem); !inItem {
					out.WriteString("\n")
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.ListItem:
			if entering {
				out.WriteString("- ")
			}
		case *ast.List:
			if !entering {
				out.WriteString("\n")
			}
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			if entering {
				blockBreak(out)
				lines := n.Lines()
				for i := 0; i < lines.Len(); i++ {
					seg := lines.At(i)
					out.Write(seg.Value(src))
				}
				out.WriteString("\n")
			}
			return ast.WalkSkipChildren, nil
		case *east.TableRow, *east.TableHeader:
			if entering {
				var cells []string
				for c := n.FirstChild(); c != nil; c = c.NextSibling() {
					cells = append(cells, inlineText(c, src))
				}
				out.WriteString(strings.Join(cells, " | "))
				out.WriteString("\n")
			}
			return ast.WalkSkipChildren, nil
		case *ast.HTMLBlock, *ast.ThematicBreak:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
}

// blockBreak makes sure a new block starts on a fresh line.
func blockBreak(out *strings.Builder) {
	s := out.String()
	if len(s) > 0 && !strings.HasSuffix(s, "\n") {
		out.WriteString("\n")
	}
}

// inlineText renders the inline content of a block without markup.
func inlineText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.HardLineBreak() {
				b.WriteByte('\n')
			} else if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if s, ok := t.(*ast.Text); ok {
					b.Write(s.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(c.URL(src))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}
