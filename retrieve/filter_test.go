package retrieve

import (
	"context"
	"fmt"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/hashembed"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// filterCollection holds a "hot" document (2024) whose ten pages match the
// query strongly and a "cold" one (2020) whose ten pages match it weakly:
// every retriever ranks all of hot above cold, so a post-filter on the
// top k for year=2020 would return nothing.
func filterCollection(t *testing.T, emb model.Embedder) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.OpenStore(ctx, t.TempDir(), store.Options{Create: true, Splits: []store.Split{
		{Name: "parents", Size: 2000}, {Name: "chunks", Size: 1000, Parent: "parents", Search: true}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, d := range []struct{ source, year, text string }{
		{"/hot.txt", "2024", "lithium batteries recall lithium batteries recall page %d"},
		{"/cold.txt", "2020", "minutes of meeting %d mention a recall among unrelated warehouse staffing topics and holidays"},
	} {
		w, err := s.BeginVectors(ctx, document.Document{ID: document.IDFor(d.source), Source: d.source, Type: "text", Meta: map[string]string{"year": d.year}}, emb.Name())
		if err != nil {
			t.Fatal(err)
		}
		for p := 1; p <= 10; p++ {
			text := fmt.Sprintf(d.text, p)
			vecs, err := emb.Embed(ctx, []string{text}, model.ForDocuments)
			if err != nil {
				t.Fatal(err)
			}
			chunks := []store.Chunk{{Split: "parents", End: len(text), Parent: -1}, {Split: "chunks", End: len(text), Parent: 0, Vector: vecs[0]}}
			if err := w.AddPage(ctx, document.Page{Number: p, Text: text}, chunks); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestFiltersApplyBeforeTopK proves the filter is not a post-filter: for
// every retriever the unfiltered top 4 are all hot, and the filtered top 4
// are 4 cold passages.
func TestFiltersApplyBeforeTopK(t *testing.T) {
	ctx := context.Background()
	emb := &hashembed.Embedder{Dim: 256}
	s := filterCollection(t, emb)
	env := Env{Store: s, Embedder: emb}
	cold, err := store.ParseFilter([]string{"year=2020"})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := store.ParseFilter([]string{"year<2024", "page>=5"})
	const query = "lithium batteries recall"
	for _, src := range []string{
		"{type: bm25, split: chunks, k: 4}",
		"{type: dense, split: chunks, k: 4}",
		"{type: dense, split: chunks, k: 4, exact: true}",
		"{type: hybrid, split: chunks, k: 4}",
		"{type: parent, split: chunks, child_k: 4, search: bm25}",
		"{type: parent, split: chunks, child_k: 4, search: dense}",
		"{type: parent, split: chunks, child_k: 4, search: hybrid}",
	} {
		t.Run(src, func(t *testing.T) {
			r, err := Build(env, stage(t, src))
			if err != nil {
				t.Fatal(err)
			}
			all, err := r.Retrieve(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 4 {
				t.Fatalf("unfiltered: %d passages", len(all))
			}
			for _, p := range all {
				if p.Source != "/hot.txt" {
					t.Fatalf("unfiltered top 4 holds %s: the fixture does not test a post-filter", p.Source)
				}
			}
			got, err := r.Retrieve(store.WithFilter(ctx, cold), query)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 {
				t.Fatalf("year=2020: %d passages, want 4", len(got))
			}
			for _, p := range got {
				if p.Source != "/cold.txt" {
					t.Fatalf("year=2020 returned %s", p.Source)
				}
			}
			got, err = r.Retrieve(store.WithFilter(ctx, page), query)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 {
				t.Fatalf("page>=5: %d passages, want 4", len(got))
			}
			for _, p := range got {
				if p.Source != "/cold.txt" || p.Page < 5 {
					t.Fatalf("year<2024, page>=5 returned %s page %d", p.Source, p.Page)
				}
			}
		})
	}
}

// noFilterStore is a store without filtered search.
type noFilterStore struct{ Store }

func TestFilterOnAStoreThatCannotFilter(t *testing.T) {
	s := filterCollection(t, &hashembed.Embedder{Dim: 64})
	f, _ := store.ParseFilter([]string{"year=2020"})
	_, err := (&BM25{Store: noFilterStore{s}, Split: "chunks", K: 2}).Retrieve(store.WithFilter(context.Background(), f), "recall")
	if _, ok := err.(*store.NoFilterError); !ok {
		t.Fatalf("got %v, want a NoFilterError", err)
	}
}
