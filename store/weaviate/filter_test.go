package weaviate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// TestFilteredSearch checks native filters on Weaviate: the filtered top k
// are k chunks that pass, for BM25 and dense, with document-level and page
// conditions, and a key no document has is a FilterError.
func TestFilteredSearch(t *testing.T) {
	ctx := context.Background()
	w, _ := newWeaviate(t)
	year := map[string]int{}
	for i := 0; i < 6; i++ {
		doc, pages := corpusDoc(i, 4, "")
		doc.Meta = map[string]string{"year": fmt.Sprint(2019 + i)}
		year[doc.ID] = 2019 + i
		writeDoc(t, w, doc, pages, true)
	}
	const k = 5
	query := "zeppelin quarterly revenue customers"
	searches := map[string]func(f *store.Filter) ([]document.Passage, error){
		"bm25": func(f *store.Filter) ([]document.Passage, error) {
			return w.SearchTextFiltered(ctx, "chunks", query, k, f)
		},
		"dense": func(f *store.Filter) ([]document.Passage, error) {
			return w.SearchVectorFiltered(ctx, "chunks", embed(query), k, f)
		},
	}
	for name, search := range searches {
		all, err := search(nil)
		if err != nil || len(all) != k {
			t.Fatalf("%s unfiltered: %d, %v", name, len(all), err)
		}
		for _, tc := range []struct {
			where []string
			pass  func(p document.Passage) bool
		}{
			{[]string{"year>=2022"}, func(p document.Passage) bool { return year[p.DocID] >= 2022 }},
			{[]string{"year!=2019", "page>=3"}, func(p document.Passage) bool { return year[p.DocID] != 2019 && p.Page >= 3 }},
			{[]string{"source~*/doc0[12].txt"}, func(p document.Passage) bool { return year[p.DocID] == 2020 || year[p.DocID] == 2021 }},
			{[]string{"page=4", "type=text"}, func(p document.Passage) bool { return p.Page == 4 }},
		} {
			f, err := store.ParseFilter(tc.where)
			if err != nil {
				t.Fatal(err)
			}
			got, err := search(f)
			if err != nil {
				t.Fatalf("%s %v: %v", name, tc.where, err)
			}
			if len(got) != k {
				t.Errorf("%s %v: %d results, want %d", name, tc.where, len(got), k)
			}
			for _, p := range got {
				if !tc.pass(p) {
					t.Errorf("%s %v returned %s page %d (year %d)", name, tc.where, p.Source, p.Page, year[p.DocID])
				}
			}
		}
		none, _ := store.ParseFilter([]string{"year>3000"})
		if got, err := search(none); err != nil || len(got) != 0 {
			t.Errorf("%s year>3000: %d results, %v", name, len(got), err)
		}
		unknown, _ := store.ParseFilter([]string{"colour=red"})
		var fe *store.FilterError
		if _, err := search(unknown); !errors.As(err, &fe) || fe.Key != "colour" {
			t.Errorf("%s colour=red: %v, want a FilterError naming colour", name, err)
		}
	}
}
