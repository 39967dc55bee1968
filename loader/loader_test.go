package loader_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/loader"
)

func load(t *testing.T, path string, opts loader.Options) (document.Document, []document.Page, error) {
	t.Helper()
	doc := document.Document{Source: path}
	var pages []document.Page
	err := loader.LoadFile(context.Background(), path, &doc, opts, func(p document.Page) error {
		pages = append(pages, p)
		return nil
	})
	return doc, pages, err
}

func TestLoadFormats(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		wantType      string
		wantTitle     string
		wantText      []string // one per page, compared with white space folded
	}{
		{
			name: "notes.txt", content: "Plain notes\nline two\fSecond page text.",
			wantType: "text", wantTitle: "Plain notes", wantText: []string{"Plain notes line two", "Second page text."},
		},
		{
			name: "bom.txt", content: "\uFEFFWith a byte order mark.",
			wantType: "text", wantTitle: "With a byte order mark.", wantText: []string{"With a byte order mark."},
		},
		{
			name: "guide.md", content: "# The Guide\n\nSome *emphasis* and a [link](http://x.test).\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<!-- hidden -->\n",
			wantType: "markdown", wantTitle: "The Guide", wantText: []string{"The Guide Some emphasis and a link. - item one - item two a | b 1 | 2"},
		},
		{
			name: "page.html",
			content: `<!doctype html><html><head><title>A Page</title><style>p{color:red}</style><script>var x = "no";</script></head>
<body><nav>Menu Home About</nav><h1>Heading</h1><p>First   paragraph with <b>bold</b> text.</p><ul><li>one</li><li>two</li></ul>
<pre>  code  kept</pre><table><tr><td>c1</td><td>c2</td></tr></table><img alt="a chart"></body></html>`,
			wantType: "html", wantTitle: "A Page", wantText: []string{"Heading First paragraph with bold text. - one - two code kept c1 | c2 a chart"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testsupport.Write(t, dir, tt.name, []byte(tt.content))
			doc, pages, err := load(t, path, loader.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Type != tt.wantType || doc.Title != tt.wantTitle {
				t.Errorf("type, title = %q, %q; want %q, %q", doc.Type, doc.Title, tt.wantType, tt.wantTitle)
			}
			if len(pages) != len(tt.wantText) {
				t.Fatalf("got %d pages, want %d: %+v", len(pages), len(tt.wantText), pages)
			}
			for i, p := range pages {
				if got := strings.Join(strings.Fields(p.Text), " "); got != tt.wantText[i] {
					t.Errorf("page %d = %q, want %q", i+1, got, tt.wantText[i])
				}
				if p.Number != i+1 {
					t.Errorf("page %d numbered %d", i+1, p.Number)
				}
			}
		})
	}
}

func TestLoadPDFKeepsPagesAndRange(t *testing.T) {
	dir := t.TempDir()
	path := testsupport.PDF(t, dir, "three.pdf", "Three Pages", "Page one — naïve café.", "Page two.", "Page three, reprinted.")
	doc, pages, err := load(t, path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Type != "pdf" || doc.Title != "Three Pages" || len(pages) != 3 {
		t.Fatalf("doc %+v, %d pages", doc, len(pages))
	}
	if !strings.Contains(pages[0].Text, "naïve café") {
		t.Errorf("page 1 lost its Unicode: %q", pages[0].Text)
	}
	r, _ := loader.ParsePageRange("1,3")
	_, pages, err = load(t, path, loader.Options{Pages: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Number != 1 || pages[1].Number != 3 {
		t.Errorf("range 1,3 gave pages %+v", pages)
	}
}

func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	latin1 := []byte("caf\xe9 au lait\n")
	tests := []struct {
		name    string
		data    []byte
		opts    loader.Options
		wantErr string
	}{
		{"encrypted.pdf", testsupport.EncryptedPDF(), loader.Options{}, "encrypted"},
		{"blank.pdf", testsupport.BlankPDF(), loader.Options{}, "no extractable text"},
		{"corrupt.pdf", testsupport.CorruptPDF(t), loader.Options{}, "not a readable PDF"},
		{"fake.pdf", []byte("this is not a pdf at all"), loader.Options{}, "not a readable PDF"},
		{"empty.txt", nil, loader.Options{}, "is empty"},
		{"binary.txt", append([]byte("\x7fELF"), latin1...), loader.Options{}, "is a binary file"},
		{"picture.png", []byte("\x89PNG\r\n\x1a\n...."), loader.Options{}, "unsupported file type .png"},
		{"big.txt", []byte(strings.Repeat("x", 100)), loader.Options{MaxBytes: 10}, "over the limit of 10"},
		{"pages.txt", []byte("a\fb\fc"), loader.Options{MaxPages: 2}, "more than 2 pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testsupport.Write(t, dir, tt.name, tt.data)
			_, _, err := load(t, path, tt.opts)
			var le *loader.Error
			if !errors.As(err, &le) {
				t.Fatalf("got %v (%T), want a *loader.Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), path) {
				t.Errorf("error %q does not start with the path and contain %q", err, tt.wantErr)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, _, err := load(t, filepath.Join(dir, "nope.txt"), loader.Options{})
		if err == nil || !strings.Contains(err.Error(), "nope.txt: no such file") {
			t.Errorf("got %v", err)
		}
	})
}

func TestTextSectionsStreamLargeFiles(t *testing.T) {
	dir := t.TempDir()
	para := strings.Repeat("word ", 199) + "end.\n\n"
	var b strings.Builder
	for b.Len() < 3*loader.SectionBytes {
		b.WriteString(para)
	}
	path := testsupport.Write(t, dir, "big.txt", []byte(b.String()))
	_, pages, err := load(t, path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 3 {
		t.Fatalf("got %d sections", len(pages))
	}
	var joined strings.Builder
	for i, p := range pages {
		if len(p.Text) > loader.SectionBytes {
			t.Errorf("section %d has %d bytes", i+1, len(p.Text))
		}
		if i < len(pages)-1 && !strings.HasSuffix(p.Text, "end.\n\n") {
			t.Errorf("section %d does not end at a paragraph break: %q", i+1, p.Text[len(p.Text)-20:])
		}
		joined.WriteString(p.Text)
	}
	if joined.String() != b.String() {
		t.Error("sections do not add up to the file")
	}
}

func TestParsePageRange(t *testing.T) {
	tests := []struct {
		in       string
		in1, in9 bool
		str      string
		bad      bool
	}{
		{"", true, true, "", false},
		{"1-3,5", true, false, "1-3,5", false},
		{"2-", false, true, "2-", false},
		{" 9 ", false, true, "9", false},
		{"0-3", false, false, "", true},
		{"5-2", false, false, "", true},
		{"a", false, false, "", true},
	}
	for _, tt := range tests {
		r, err := loader.ParsePageRange(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if r.Contains(1) != tt.in1 || r.Contains(9) != tt.in9 || r.String() != tt.str {
			t.Errorf("%q: contains(1)=%v contains(9)=%v string=%q", tt.in, r.Contains(1), r.Contains(9), r.String())
		}
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

// PDFium marks a hyphen at a line end as soft; the loader keeps it for
// compounds and drops it for broken words, and mends number ranges.
func TestPDFLineEndHyphens(t *testing.T) {
	dir := t.TempDir()
	path := testsupport.PDF(t, dir, "hyphens.pdf", "", "Demand was high. We grew the high-\ndemand items and year-over-\nyear sales of 300-\n400 million, cut trans-\nportation costs, kept Frustration-\nFree packaging and self-\nsufficient teams.")
	_, pages, err := load(t, path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := pages[0].Text
	for _, want := range []string{"high-demand", "year-over-year", "300-400 million", "transportation", "Frustration-Free", "self-sufficient"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q:\n%q", want, text)
		}
	}
	if strings.ContainsRune(text, '\x02') {
		t.Errorf("a soft hyphen mark is left: %q", text)
	}
}

// Running headers and page numbers of a PDF are not in its page texts.
func TestPDFDropsRunningHeadersAndPageNumbers(t *testing.T) {
	dir := t.TempDir()
	path := testsupport.PDF(t, dir, "report.pdf", "",
		"Example Co. Annual Report 2022\nRevenue grew in every segment and our customers\n1",
		"Example Co. Annual Report 2022\nkept buying more each quarter.\n2",
		"Example Co. Annual Report 2022\nWe thank them.\n3")
	_, pages, err := load(t, path, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if strings.Contains(p.Text, "Annual Report") || strings.HasSuffix(strings.TrimSpace(p.Text), strconv.Itoa(p.Number)) {
			t.Errorf("page %d keeps its header or number: %q", p.Number, p.Text)
		}
	}
	if !strings.Contains(pages[1].Text, "kept buying more") {
		t.Errorf("page 2 lost its text: %q", pages[1].Text)
	}
}

// TestPDFReaderCompiled: a compilation cache with no file is cold (the
// first PDF then waits for PDFium to compile, and the CLI says so).
func TestPDFReaderCompiled(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DISTILL_CACHE_DIR", dir)
	if loader.PDFReaderCompiled() {
		t.Fatal("a missing cache counts as compiled")
	}
	if err := os.MkdirAll(filepath.Join(dir, "wasm", "wazero-v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if loader.PDFReaderCompiled() {
		t.Fatal("a cache of empty directories counts as compiled")
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm", "wazero-v1", "module"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !loader.PDFReaderCompiled() {
		t.Fatal("a cache holding a compiled module counts as cold")
	}
}
