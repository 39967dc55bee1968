package loader_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/loader"
)

// fuzzLoad loads data with format and checks what any loader must do on
// any input: return (within the context's bound), fail only with a
// *loader.Error naming the source, and emit pages in increasing order
// within the page limit, as UTF-8, holding text.
func fuzzLoad(t *testing.T, format loader.Format, name string, data []byte) (pages []document.Page) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const maxPages = 50
	doc := document.Document{Source: name}
	err := loader.Load(ctx, format, bytes.NewReader(data), int64(len(data)), &doc, loader.Options{MaxPages: maxPages}, func(p document.Page) error {
		if len(pages) > 0 && p.Number <= pages[len(pages)-1].Number {
			t.Fatalf("page %d after page %d", p.Number, pages[len(pages)-1].Number)
		}
		if p.Number < 1 || p.Number > maxPages {
			t.Fatalf("page number %d outside 1..%d", p.Number, maxPages)
		}
		if !utf8.ValidString(p.Text) {
			t.Fatalf("page %d is not UTF-8: %q", p.Number, p.Text)
		}
		pages = append(pages, p)
		return nil
	})
	if ctx.Err() != nil {
		return nil // the bound held: a hostile input is stopped, not waited for
	}
	if err != nil {
		var le *loader.Error
		if !errors.As(err, &le) || le.Source != name {
			t.Fatalf("error %v (%T) is not a loader.Error naming %s", err, err, name)
		}
		return nil
	}
	if len(pages) == 0 {
		t.Fatal("no error and no pages")
	}
	if !utf8.ValidString(doc.Title) {
		t.Fatalf("title is not UTF-8: %q", doc.Title)
	}
	return pages
}

// FuzzLoadHTML feeds the HTML loader arbitrary bytes. Besides fuzzLoad's
// checks, the text it keeps is bounded by the input: a few bytes per input
// byte at most (character set decoding can triple a byte).
func FuzzLoadHTML(f *testing.F) {
	f.Add([]byte(`<!doctype html><html><head><title>T</title><meta charset="windows-1252"></head><body><p>caf` + "\xe9" + `</p><ul><li>a<li>b</ul></body></html>`))
	f.Add([]byte("<table><tr><td>1<td>2<tr><td>3</table><pre>  x\n  y</pre><script>alert(1)</script>&amp;&lt;&#x1F600;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		for _, p := range fuzzLoad(t, loader.HTML, "fuzz.html", data) {
			total += len(p.Text)
		}
		if total > 4*len(data)+64 {
			t.Fatalf("%d bytes of HTML gave %d bytes of text", len(data), total)
		}
	})
}

// FuzzLoadPDF feeds the PDF loader (PDFium in WebAssembly) arbitrary bytes.
func FuzzLoadPDF(f *testing.F) {
	f.Add(testsupport.MinimalPDF("Hello from page one.", "And (page) two."))
	f.Add(testsupport.BlankPDF())
	f.Add(testsupport.EncryptedPDF())
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, loader.PDF, "fuzz.pdf", data)
	})
}

// FuzzLoadText feeds the text loader arbitrary bytes: form feeds, byte
// order marks, invalid UTF-8.
func FuzzLoadText(f *testing.F) {
	f.Add([]byte("Title\r\nline\fpage two\f\fpage four"))
	f.Add([]byte("\xff\xfeT\x00e\x00x\x00t\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		for _, p := range fuzzLoad(t, loader.Text, "fuzz.txt", data) {
			total += len(p.Text)
		}
		// Windows-1252 bytes decode to at most 3 bytes of UTF-8.
		if total > 3*len(data) {
			t.Fatalf("%d bytes of text gave %d bytes of pages", len(data), total)
		}
	})
}

// The PDF seed must be a readable PDF, or the fuzzer starts from noise.
func TestMinimalPDFSeed(t *testing.T) {
	pages := fuzzLoad(t, loader.PDF, "seed.pdf", testsupport.MinimalPDF("Hello from page one.", "And (page) two."))
	if len(pages) != 2 || pages[0].Text != "Hello from page one." || pages[1].Text != "And (page) two." {
		t.Fatalf("pages = %+v", pages)
	}
}
