package loader

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
)

// needTool skips a test when an external program that writes fixtures is
// missing, unless CI requires it (DISTILL_REQUIRE_<TOOL>=1).
func needTool(t *testing.T, name, env string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv(env) == "1" {
			t.Fatalf("no %s on PATH, and %s=1", name, env)
		}
		t.Skipf("no %s on PATH (set %s=1 to require it)", name, env)
	}
}

// loadPath loads a file and returns its pages.
func loadPath(t *testing.T, path string) (*document.Document, []document.Page, error) {
	t.Helper()
	doc := &document.Document{Source: path}
	var pages []document.Page
	err := LoadFile(context.Background(), path, doc, Options{}, func(p document.Page) error {
		pages = append(pages, p)
		return nil
	})
	return doc, pages, err
}

const pandocSource = `# Annual Report

Revenue grew in the northern region.[^1]

## Costs

| Item | Amount |
|------|--------|
| Rent | 1200 |
| Staff | 5400 |

[^1]: Audited by the board.
`

func TestPandocFormats(t *testing.T) {
	needTool(t, "pandoc", "DISTILL_REQUIRE_PANDOC")
	dir := t.TempDir()
	md := filepath.Join(dir, "report.md")
	if err := os.WriteFile(md, []byte(pandocSource), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ext  string
		want []string
	}{
		{"docx", []string{"# Annual Report", "## Costs", "Rent | 1200", "Staff | 5400", "Revenue grew in the northern region.[^1]", "[^1]: Audited by the board."}},
		{"odt", []string{"# Annual Report", "## Costs", "Rent | 1200", "Staff | 5400", "northern region.[^1]", "[^1]: Audited by the board."}},
	} {
		t.Run(tc.ext, func(t *testing.T) {
			out := filepath.Join(dir, "report."+tc.ext)
			if b, err := exec.Command("pandoc", md, "-o", out).CombinedOutput(); err != nil {
				t.Fatalf("pandoc: %v\n%s", err, b)
			}
			doc, pages, err := loadPath(t, out)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Type != tc.ext || doc.Title != "Annual Report" {
				t.Errorf("type %q title %q, want %q and Annual Report", doc.Type, doc.Title, tc.ext)
			}
			text := joinPages(pages)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestPPTXSlidesWithNotes(t *testing.T) {
	needTool(t, "pandoc", "DISTILL_REQUIRE_PANDOC")
	dir := t.TempDir()
	md := filepath.Join(dir, "deck.md")
	src := "# Quarterly Plan\n\nHire two engineers\n\n::: notes\nMention the budget freeze.\n:::\n\n# Risks\n\nSupplier delays\n"
	if err := os.WriteFile(md, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "deck.pptx")
	if b, err := exec.Command("pandoc", md, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("pandoc: %v\n%s", err, b)
	}
	doc, pages, err := loadPath(t, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("got %d pages, want one per slide (2): %+v", len(pages), pages)
	}
	if !strings.HasPrefix(pages[0].Text, "# Quarterly Plan") || !strings.Contains(pages[0].Text, "Hire two engineers") ||
		!strings.HasSuffix(pages[0].Text, "Notes: Mention the budget freeze.") {
		t.Errorf("slide 1 = %q, want title first, body, then notes", pages[0].Text)
	}
	if !strings.HasPrefix(pages[1].Text, "# Risks") || !strings.Contains(pages[1].Text, "Supplier delays") {
		t.Errorf("slide 2 = %q", pages[1].Text)
	}
	if doc.Title != "Quarterly Plan" {
		t.Errorf("title %q", doc.Title)
	}
}

func TestXLSXSheets(t *testing.T) {
	_, pages, err := loadPath(t, "testdata/budget.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("got %d pages, want one per sheet (2)", len(pages))
	}
	for i, want := range [][]string{
		{"# Costs", "Item: Rent | Amount: 1200", "Item: Staff | Amount: 5400"},
		{"# People", "Name: Ada | Role: Engineer"},
	} {
		for _, w := range want {
			if !strings.Contains(pages[i].Text, w) {
				t.Errorf("sheet %d lacks %q:\n%s", i+1, w, pages[i].Text)
			}
		}
	}
}

func TestCSVRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(path, []byte("name,city\nAda,\"London, UK\"\nLin,Taipei\n"), 0o644)
	_, pages, err := loadPath(t, path)
	if err != nil {
		t.Fatal(err)
	}
	want := "name: Ada | city: London, UK\n\nname: Lin | city: Taipei"
	if len(pages) != 1 || pages[0].Text != want {
		t.Fatalf("pages = %+v, want %q", pages, want)
	}
}

// zipOf builds a zip with the given entries.
func zipOf(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

func TestZipBombsRefused(t *testing.T) {
	dir := t.TempDir()
	many := map[string][]byte{}
	for i := 0; i <= 100; i++ {
		many[fmt.Sprintf("f%d", i)] = nil
	}
	opts := Options{ZipEntries: 100, ZipInflated: 1 << 20}
	huge := bytes.Repeat([]byte("<w:t>aaaa</w:t>"), 2<<20/15)
	for _, tc := range []struct {
		name    string
		entries map[string][]byte
		want    string
	}{
		{"entries.docx", many, LimitZipEntries},
		{"inflated.docx", map[string][]byte{"word/document.xml": huge}, LimitZipInflated},
		{"inflated.xlsx", map[string][]byte{"xl/workbook.xml": huge}, LimitZipInflated},
		{"notzip.pptx", map[string][]byte{}, "PowerPoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			data := zipOf(t, tc.entries)
			if tc.name == "notzip.pptx" {
				data = []byte("this is not a zip file at all")
			}
			os.WriteFile(path, data, 0o644)
			err := LoadFile(context.Background(), path, &document.Document{Source: path}, opts, func(document.Page) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, path, tc.want)
			}
			var lim *LimitError
			if tc.name != "notzip.pptx" && (!errors.As(err, &lim) || lim.Limit != tc.want) {
				t.Fatalf("err = %#v, want a *LimitError for %q", err, tc.want)
			}
		})
	}
}

func TestTextEncodings(t *testing.T) {
	dir := t.TempDir()
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range "Grüße aus Köln" {
		utf16le = append(utf16le, byte(r), byte(r>>8))
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		want    string
		wantErr string
	}{
		{"utf16.txt", utf16le, "Grüße aus Köln", ""},
		{"latin1.txt", []byte("caf\xe9 cr\xe8me \x93quoted\x94"), "café crème \u201cquoted\u201d", ""},
		{"utf8.txt", []byte("déjà vu"), "déjà vu", ""},
		{"elf.txt", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...), "", "binary file"},
		{"nul.txt", []byte("text\x00with\x00nuls"), "", "binary file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			os.WriteFile(path, tc.data, 0o644)
			_, pages, err := loadPath(t, path)
			if tc.wantErr != "" {
				var le *Error
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &le) || le.Source != path {
					t.Fatalf("err = %v, want a loader error for %s saying %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := joinPages(pages); got != tc.want {
				t.Fatalf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

func joinPages(pages []document.Page) string {
	var parts []string
	for _, p := range pages {
		parts = append(parts, p.Text)
	}
	return strings.Join(parts, "\n\f\n")
}
