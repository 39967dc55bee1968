package ingest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/store"
	_ "github.com/distill-rag/distill/store/sqlite"
)

func TestRecords(t *testing.T) {
	ctx := context.Background()
	splits := []store.Split{{Name: "chunks", Size: 40, Overlap: 0, Search: true}}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "c"), store.Options{Create: true, Splits: splits})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := Ingester{Store: st, Splits: splits}
	recs := []Record{
		{Source: "set/a", Title: "A", Pages: []string{"Alpha words about freight railways and their locomotives."}},
		{Source: "set/b", Title: "B", Pages: []string{"Beta.", "A second page on volcanoes."}},
	}
	tests := []struct {
		name  string
		recs  []Record
		want  []Status
		pages []int
	}{
		{"first run adds", recs, []Status{Added, Added}, []int{1, 2}},
		{"same content is unchanged", recs, []Status{Unchanged, Unchanged}, []int{1, 2}},
		{"changed text updates", []Record{recs[0], {Source: "set/b", Title: "B", Pages: []string{"Beta, rewritten."}}}, []Status{Unchanged, Updated}, []int{1, 1}},
		{"a record without text fails alone", []Record{{Source: "set/c", Pages: []string{"   "}}, recs[0]}, []Status{Failed, Unchanged}, []int{0, 1}},
	}
	for _, tc := range tests {
		rep, err := in.Records(ctx, tc.recs, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, f := range rep.Files {
			if f.Status != tc.want[i] || f.Pages != tc.pages[i] {
				t.Errorf("%s: %s is %s with %d pages (%s), want %s with %d", tc.name, f.Source, f.Status, f.Pages, f.Error, tc.want[i], tc.pages[i])
			}
		}
	}
	hits, err := st.SearchText(ctx, "chunks", "volcanoes", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("the replaced page still matches: %+v", hits)
	}
	hits, _ = st.SearchText(ctx, "chunks", "locomotives", 5)
	if len(hits) != 1 || hits[0].Title != "A" || hits[0].Page != 1 {
		t.Errorf("search: %+v", hits)
	}
}
