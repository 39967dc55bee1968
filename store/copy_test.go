package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

var splits = []store.Split{
	{Name: "chunks", Size: 200, Overlap: 20, Search: true},
	{Name: "parents", Size: 400, Overlap: 40},
	{Name: "children", Size: 100, Overlap: 20, Parent: "parents", Search: true},
}

func open(t *testing.T, sp []store.Split) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenStore(context.Background(), t.TempDir()+"/c", store.Options{Create: true, Splits: sp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func write(t *testing.T, s store.Store, source string, pages ...string) {
	t.Helper()
	ctx := context.Background()
	w, err := s.Begin(ctx, document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: "h" + source, Meta: map[string]string{"k": source}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pages {
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: p}, ingest.Chunks(splits, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// notExporter hides a store's ExportDocument.
type notExporter struct{ store.Store }

func TestCopy(t *testing.T) {
	ctx := context.Background()
	page := strings.Repeat("The harbor beacon turned all night while the keeper wrote his log. ", 12)
	src := open(t, splits)
	write(t, src, "/a.txt", page, page[:300])
	write(t, src, "/b.txt", page[100:])

	dst := open(t, splits)
	write(t, dst, "/a.txt", "an older version of a") // replaced by the copy
	rep, err := store.Copy(ctx, dst, src, "src", "dst", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Documents != 2 || rep.Pages != 3 || rep.Vectors != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, id := range []string{document.IDFor("/a.txt"), document.IDFor("/b.txt")} {
		want, err := src.ExportDocument(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.ExportDocument(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("copy of %s differs:\n%+v\n%+v", id, got, want)
		}
	}
	for _, q := range []string{"harbor beacon", "keeper log"} {
		a, _ := src.SearchText(ctx, "children", q, 5)
		b, _ := dst.SearchText(ctx, "children", q, 5)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q searches differently after the copy", q)
		}
	}

	var ie *store.IncompatibleError
	other := open(t, splits[:1])
	if _, err := store.Copy(ctx, other, src, "src", "other", nil); !errors.As(err, &ie) || !strings.Contains(err.Error(), "splits differ") {
		t.Fatalf("different splits: %v", err)
	}
	if _, err := store.Copy(ctx, dst, notExporter{src}, "src", "dst", nil); !errors.As(err, &ie) || !strings.Contains(err.Error(), "cannot export") {
		t.Fatalf("no exporter: %v", err)
	}
	if _, err := src.ExportDocument(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing document: %v", err)
	}
}
