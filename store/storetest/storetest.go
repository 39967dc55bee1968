// Package storetest is a conformance suite for store.Store drivers, in the
// spirit of go-cloud's drivertest: a driver's test calls Run with a way to
// open a fresh collection, and every part of the store contract runs as a
// subtest. Optional capabilities (store.Emptier, store.Destroyer, ...) are
// detected by type assertion, the same way distill detects them, and their
// subtests are skipped when the driver does not implement them.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// Harness is what a driver gives the suite.
type Harness struct {
	// Open opens a new, empty collection with opts (Create is set). The
	// harness closes or destroys the store itself; Open may register a
	// t.Cleanup for anything else it made.
	Open func(t *testing.T, opts store.Options) store.Store
	// Gone, when set, reports whether nothing the store made is left
	// after Destroy (for the embedded store: the directory is gone or
	// empty).
	Gone func(t *testing.T) bool
}

// Splits are the chunkings the suite's collections are created with.
var Splits = []store.Split{
	{Name: "chunks", Size: 400, Overlap: 0, Search: true},
	{Name: "other", Size: 400, Overlap: 0, Search: true},
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Run("Documents", func(t *testing.T) { testDocuments(t, h) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, h) })
	t.Run("SearchText", func(t *testing.T) { testSearchText(t, h) })
	t.Run("Vectors", func(t *testing.T) { testVectors(t, h) })
	t.Run("Empty", func(t *testing.T) { testEmpty(t, h) })
	t.Run("Destroy", func(t *testing.T) { testDestroy(t, h) })
}

func open(t *testing.T, h Harness) store.Store {
	t.Helper()
	s := h.Open(t, store.Options{Create: true, Splits: Splits})
	t.Cleanup(func() { s.Close() })
	return s
}

// chunksFor makes one chunk per split covering the whole page.
func chunksFor(text string, splits ...string) []store.Chunk {
	var cs []store.Chunk
	for _, sp := range splits {
		cs = append(cs, store.Chunk{Split: sp, Start: 0, End: len(text), Parent: -1})
	}
	return cs
}

// put writes a document whose pages are chunked into the given splits.
func put(t *testing.T, s store.Store, source string, splits []string, pages ...string) store.DocumentInfo {
	t.Helper()
	ctx := context.Background()
	doc := document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: fmt.Sprint(pages)}
	w, err := s.Begin(ctx, doc)
	if err != nil {
		t.Fatalf("Begin(%s): %v", source, err)
	}
	for i, text := range pages {
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: text}, chunksFor(text, splits...)); err != nil {
			t.Fatalf("AddPage(%s, %d): %v", source, i+1, err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit(%s): %v", source, err)
	}
	info, err := s.Document(ctx, source)
	if err != nil {
		t.Fatalf("Document(%s) after Commit: %v", source, err)
	}
	return info
}

var both = []string{"chunks", "other"}

func testDocuments(t *testing.T, h Harness) {
	ctx := context.Background()
	s := open(t, h)
	if _, err := s.Document(ctx, "missing.txt"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Document(missing) = %v, want ErrNotFound", err)
	}
	b := put(t, s, "b.txt", both, "page one of b", "page two of b")
	put(t, s, "a.txt", both, "only page of a")
	if b.Pages != 2 || b.Source != "b.txt" || b.ID != document.IDFor("b.txt") {
		t.Fatalf("Document(b.txt) = %+v, want 2 pages, id %s", b, document.IDFor("b.txt"))
	}
	docs, err := s.Documents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Source != "a.txt" || docs[1].Source != "b.txt" {
		t.Fatalf("Documents = %+v, want a.txt, b.txt in order", docs)
	}
	text, err := s.Page(ctx, b.ID, 2)
	if err != nil || text != "page two of b" {
		t.Fatalf("Page(b, 2) = %q, %v", text, err)
	}
	if _, err := s.Page(ctx, b.ID, 9); err == nil {
		t.Fatal("Page(b, 9) of a 2-page document: no error")
	}
	// Replacing a source keeps one document with the new pages.
	b2 := put(t, s, "b.txt", both, "the new single page")
	if b2.Pages != 1 {
		t.Fatalf("replaced b.txt has %d pages, want 1", b2.Pages)
	}
	if docs, _ := s.Documents(ctx); len(docs) != 2 {
		t.Fatalf("after replace: %d documents, want 2", len(docs))
	}
	n, err := s.Delete(ctx, b2.ID, "no-such-id")
	if err != nil || n != 1 {
		t.Fatalf("Delete(b, missing) = %d, %v; want 1, nil", n, err)
	}
	if _, err := s.Document(ctx, "b.txt"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Document(b.txt) after Delete = %v, want ErrNotFound", err)
	}
	if res, err := s.SearchText(ctx, "chunks", "single", 10); err != nil || len(res) != 0 {
		t.Fatalf("search after Delete found %d passages (%v), want none", len(res), err)
	}
}

func testRollback(t *testing.T, h Harness) {
	ctx := context.Background()
	s := open(t, h)
	w, err := s.Begin(ctx, document.Document{ID: document.IDFor("r.txt"), Source: "r.txt", Type: "text", Hash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: "rolled back words"}, chunksFor("rolled back words", both...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Document(ctx, "r.txt"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Document after Rollback = %v, want ErrNotFound", err)
	}
	if res, _ := s.SearchText(ctx, "chunks", "rolled", 10); len(res) != 0 {
		t.Fatalf("search after Rollback found %d passages", len(res))
	}
	// Rollback after Commit is safe and keeps the document.
	w, err = s.Begin(ctx, document.Document{ID: document.IDFor("c.txt"), Source: "c.txt", Type: "text", Hash: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: "committed words"}, chunksFor("committed words", both...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_ = w.Rollback()
	if _, err := s.Document(ctx, "c.txt"); err != nil {
		t.Fatalf("Document after Commit+Rollback: %v", err)
	}
}

func testSearchText(t *testing.T, h Harness) {
	ctx := context.Background()
	s := open(t, h)
	put(t, s, "cash.txt", []string{"chunks"}, "cash cash cash flow and more cash")
	put(t, s, "flow.txt", []string{"chunks"}, "the flow of orders slowed and cash was short")
	put(t, s, "sat.txt", []string{"chunks"}, "satellites bring broadband to rural customers")
	put(t, s, "only-other.txt", []string{"other"}, "cash kept only in the other split")

	res, err := s.SearchText(ctx, "chunks", "cash", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("SearchText(chunks, cash) = %d passages, want 2 (split scoping, no match for sat.txt)", len(res))
	}
	if res[0].Source != "cash.txt" {
		t.Fatalf("top passage %q, want cash.txt (most occurrences)", res[0].Source)
	}
	if res[0].Score < res[1].Score {
		t.Fatalf("scores not descending: %v, %v", res[0].Score, res[1].Score)
	}
	if res, err := s.SearchText(ctx, "chunks", "cash", 1); err != nil || len(res) != 1 {
		t.Fatalf("SearchText k=1 = %d passages, %v", len(res), err)
	}
	res, err = s.SearchText(ctx, "other", "cash", 10)
	if err != nil || len(res) != 1 || res[0].Source != "only-other.txt" {
		t.Fatalf("SearchText(other, cash) = %+v, %v; want only-other.txt", res, err)
	}
}

func testEmpty(t *testing.T, h Harness) {
	ctx := context.Background()
	s := open(t, h)
	e, ok := s.(store.Emptier)
	if !ok {
		t.Skip("driver does not implement store.Emptier")
	}
	if empty, err := e.Empty(ctx); err != nil || !empty {
		t.Fatalf("new collection: Empty = %v, %v", empty, err)
	}
	info := put(t, s, "x.txt", both, "some words")
	if empty, err := e.Empty(ctx); err != nil || empty {
		t.Fatalf("with a document: Empty = %v, %v", empty, err)
	}
	if _, err := s.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if empty, err := e.Empty(ctx); err != nil || !empty {
		t.Fatalf("after Delete: Empty = %v, %v", empty, err)
	}
}

func testDestroy(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t, store.Options{Create: true, Splits: Splits})
	d, ok := s.(store.Destroyer)
	if !ok {
		s.Close()
		t.Skip("driver does not implement store.Destroyer")
	}
	put(t, s, "x.txt", both, "words to destroy")
	if err := d.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if h.Gone != nil && !h.Gone(t) {
		t.Fatal("Destroy left the collection's files behind")
	}
}

func testVectors(t *testing.T, h Harness) {
	ctx := context.Background()
	s := open(t, h)
	vw, ok := s.(store.VectorWriter)
	if !ok {
		t.Skip("driver does not implement store.VectorWriter")
	}
	const model = "storetest-model"
	vecs := map[string][]float32{"east.txt": {1, 0, 0, 0}, "north.txt": {0, 1, 0, 0}, "northeast.txt": {0.7, 0.7, 0, 0}}
	for _, src := range []string{"east.txt", "north.txt", "northeast.txt"} {
		w, err := vw.BeginVectors(ctx, document.Document{ID: document.IDFor(src), Source: src, Type: "text", Hash: src}, model)
		if err != nil {
			t.Fatalf("BeginVectors(%s): %v", src, err)
		}
		text := "text of " + src
		cs := chunksFor(text, both...)
		for i := range cs {
			cs[i].Vector = vecs[src]
		}
		if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, cs); err != nil {
			t.Fatalf("AddPage(%s): %v", src, err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatalf("Commit(%s): %v", src, err)
		}
	}
	em, err := vw.Embedding(ctx)
	if err != nil || em.Model != model || em.Dim != 4 {
		t.Fatalf("Embedding = %+v, %v; want %s with 4 dimensions", em, err, model)
	}
	res, err := vw.SearchVector(ctx, "chunks", []float32{1, 0.1, 0, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Source != "east.txt" || res[1].Source != "northeast.txt" {
		t.Fatalf("SearchVector k=2 = %+v, want east.txt then northeast.txt", res)
	}
	// The contract (store.VectorWriter): another model is refused by
	// BeginVectors or, at the latest, by Commit (the embedded store
	// buffers the document and opens its transaction late), and nothing
	// of the document is stored.
	w, err := vw.BeginVectors(ctx, document.Document{ID: document.IDFor("z.txt"), Source: "z.txt", Type: "text", Hash: "z"}, "another-model")
	if err == nil {
		cs := chunksFor("zzz", both...)
		for i := range cs {
			cs[i].Vector = []float32{0, 0, 1, 0}
		}
		err = w.AddPage(ctx, document.Page{Number: 1, Text: "zzz"}, cs)
		if err == nil {
			err = w.Commit(ctx)
		}
		_ = w.Rollback()
	}
	var mismatch *store.EmbeddingMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("BeginVectors with another model = %v, want *store.EmbeddingMismatchError", err)
	}
	if _, err := s.Document(ctx, "z.txt"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Document(z.txt) after a refused model = %v, want ErrNotFound", err)
	}
}
