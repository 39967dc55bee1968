package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// writeCollection makes a closed collection with one searchable document.
func writeCollection(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "c")
	st, err := sqlite.OpenStore(ctx, dir, store.Options{Create: true, Splits: []store.Split{{Name: "chunks", Size: 100, Search: true}}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Begin(ctx, document.Document{ID: "d1", Source: "/a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	text := "the quokka census"
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, []store.Chunk{{Split: "chunks", Start: 0, End: len(text), Parent: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReadOnlyCollection: a collection that cannot be written (or is
// opened read-only) is searched as usual; every write fails with a
// ReadOnlyError and changes nothing.
func TestReadOnlyCollection(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		opts   store.Options
		revoke bool
	}{
		{"opened read-only", store.Options{ReadOnly: true}, false},
		{"no write access", store.Options{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCollection(t)
			if tc.revoke {
				testsupport.ReadOnly(t, dir)
			}
			st, err := sqlite.OpenStore(ctx, dir, tc.opts)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer st.Close()
			hits, err := st.SearchText(ctx, "chunks", "quokka", 5)
			if err != nil || len(hits) != 1 {
				t.Fatalf("search: %v %v", hits, err)
			}
			if docs, err := st.Documents(ctx); err != nil || len(docs) != 1 {
				t.Fatalf("documents: %v %v", docs, err)
			}
			if rep, err := st.Check(ctx, store.CheckOptions{}); err != nil || !rep.OK() {
				t.Fatalf("check: %+v %v", rep, err)
			}
			var ro *store.ReadOnlyError
			_, err = st.Begin(ctx, document.Document{ID: "d2", Source: "/b.txt"})
			if !errors.As(err, &ro) {
				t.Fatalf("Begin: %v, want a ReadOnlyError", err)
			}
			if _, err := st.Delete(ctx, "d1"); !errors.As(err, &ro) {
				t.Fatalf("Delete: %v, want a ReadOnlyError", err)
			}
			if err := st.Destroy(ctx); !errors.As(err, &ro) {
				t.Fatalf("Destroy: %v, want a ReadOnlyError", err)
			}
			if docs, _ := st.Documents(ctx); len(docs) != 1 {
				t.Fatalf("a refused write changed the collection: %v", docs)
			}
		})
	}
}
