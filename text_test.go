package distill_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
)

func openEmpty(t *testing.T) *distill.Engine {
	t.Helper()
	eng, err := distill.Open(context.Background(), distill.Options{DB: filepath.Join(t.TempDir(), "db"), Create: true,
		ConfigFile: writeEmptyConfig(t), Models: distill.Models{LLM: "none", Embed: "none", Rerank: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func TestIngestText(t *testing.T) {
	ctx := context.Background()
	eng := openEmpty(t)
	tests := []struct {
		name, text string
		status     ingest.Status
		docType    string
		err        string // the error's message, when it fails
	}{
		{name: "notes.md", text: "# Notes\n\nThe quokka census counted 412 animals.", status: ingest.Added, docType: "markdown"},
		{name: "notes.md", text: "# Notes\n\nThe quokka census counted 412 animals.", status: ingest.Unchanged, docType: "markdown"},
		{name: "notes.md", text: "The quokka census counted 977 animals.", status: ingest.Updated, docType: "markdown"},
		{name: "meeting notes", text: "Plain words without an extension.", status: ingest.Added, docType: "text"},
		{name: "page.html", text: "<html><body><p>Hello from HTML.</p></body></html>", status: ingest.Added, docType: "html"},
		{name: "", text: "x", err: `document "": a document needs a name, such as notes.md`},
		{name: "dir/notes.md", text: "x", err: `document "dir/notes.md": give a file name such as notes.md, not a path`},
		{name: `..\notes.md`, text: "x", err: `document "..\\notes.md": give a file name such as notes.md, not a path`},
		{name: "..", text: "x", err: `document "..": give a file name such as notes.md, not a path`},
		{name: "bell\a.md", text: "x", err: `document "bell\a.md": the name has control characters`},
		{name: strings.Repeat("n", 256) + ".md", text: "x", err: "the name is longer than 255 bytes"},
		{name: "empty.md", text: " \n\t", err: `document "empty.md": the text is empty`},
		{name: "tool.exe", text: "x", err: "tool.exe: unsupported file type .exe"},
	}
	for _, tt := range tests {
		res, err := eng.IngestText(ctx, tt.name, tt.text, ingest.Options{Meta: map[string]string{"via": "test"}})
		if tt.err != "" {
			var ue interface{ UserError() }
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.name, err, tt.err)
			} else if !errors.As(err, &ue) && !strings.Contains(tt.err, "unsupported") {
				t.Errorf("%q: %T is not a user error", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.name, err)
			continue
		}
		if res.Status != tt.status || res.Source != tt.name || res.DocID != document.IDFor(tt.name) {
			t.Errorf("%q: %+v, want status %s", tt.name, res, tt.status)
		}
		d, err := eng.Document(ctx, res.DocID)
		if err != nil || d.Type != tt.docType || d.Meta["via"] != "test" {
			t.Errorf("%q stored as %+v (%v), want type %s", tt.name, d, err, tt.docType)
		}
	}
	// The replaced text is the one searched, and nothing of the failed
	// ones was stored.
	res, err := eng.Retrieve(ctx, "quokka census", "regular")
	if err != nil || len(res.Contexts) == 0 || !strings.Contains(res.Contexts[0].Text, "977") {
		t.Errorf("search after replacing: %+v, %v", res, err)
	}
	docs, _ := eng.Documents(ctx)
	var sources []string
	for _, d := range docs {
		sources = append(sources, d.Source)
	}
	if want := []string{"meeting notes", "notes.md", "page.html"}; !slices.Equal(sources, want) {
		t.Errorf("documents %v, want %v", sources, want)
	}
}

func TestPage(t *testing.T) {
	ctx := context.Background()
	eng := openEmpty(t)
	res, err := eng.IngestText(ctx, "a.txt", "Alpha page text.", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := eng.Page(ctx, res.DocID, 1)
	if err != nil || p.Text != "Alpha page text." || p.Source != "a.txt" || p.Pages != 1 || p.Page != 1 {
		t.Errorf("page 1: %+v, %v", p, err)
	}
	tests := []struct {
		doc  string
		page int
		want string
	}{
		{"nope", 1, `no document "nope" in the collection (list them with distill ls)`},
		{res.DocID, 2, `document "` + res.DocID + `" has no page 2 (blank pages and pages left out by --pages are not stored)`},
		{res.DocID, 0, `page 0 of document "` + res.DocID + `": pages are numbered from 1`},
	}
	for _, tt := range tests {
		_, err := eng.Page(ctx, tt.doc, tt.page)
		var ue interface{ UserError() }
		if err == nil || err.Error() != tt.want || !errors.As(err, &ue) {
			t.Errorf("page %d of %s: %v, want user error %q", tt.page, tt.doc, err, tt.want)
		}
	}
}

func TestCited(t *testing.T) {
	three := []distill.Context{{Rank: 1}, {Rank: 2}, {Rank: 3}}
	tests := []struct {
		answer string
		want   []int
	}{
		{"No citation.", nil},
		{"First [2]. Then [1] and [2] again.", []int{1, 2}},
		{"Out of range [4] and [0], in range [3].", []int{3}},
		{"Not a citation: [x] [1a] [ 1 ].", nil},
		{"Huge [99999999999999999999].", nil},
	}
	for _, tt := range tests {
		r := &distill.Result{Answer: tt.answer, Contexts: three}
		if got := r.Cited(); !slices.Equal(got, tt.want) {
			t.Errorf("%q: cited %v, want %v", tt.answer, got, tt.want)
		}
	}
}
