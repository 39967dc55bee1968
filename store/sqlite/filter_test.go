package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// filterCorpus writes six documents, years 2019 to 2024, of three pages
// each; every page mentions lanterns, later years more often, so that the
// unfiltered ranking puts the early years last.
func filterCorpus(t *testing.T, s *Store, embed func(string) []float32) map[string]store.DocumentInfo {
	t.Helper()
	ctx := context.Background()
	docs := map[string]store.DocumentInfo{}
	for i, year := range []int{2019, 2020, 2021, 2022, 2023, 2024} {
		source := fmt.Sprintf("reports/%d/annual.%s", year, []string{"pdf", "txt"}[i%2])
		meta := map[string]string{"year": fmt.Sprint(year), "dept": []string{"legal", "sales", "ops"}[i%3]}
		if year == 2021 {
			meta["signed"] = "2021-06-30"
		}
		typ := []string{"pdf", "text"}[i%2]
		doc := document.Document{ID: document.IDFor(source), Source: source, Type: typ, Hash: source, Meta: meta}
		w, err := s.BeginVectors(ctx, doc, "toy")
		if err != nil {
			t.Fatal(err)
		}
		for p := 1; p <= 3; p++ {
			text := fmt.Sprintf("page %d of %d: %s harbour report", p, year, strings.Repeat("lantern ", 1+i+p))
			chunks := []store.Chunk{{Split: "parents", End: len(text), Parent: -1}, {Split: "chunks", End: len(text), Parent: 0, Vector: embed(text)}}
			if err := w.AddPage(ctx, document.Page{Number: p, Text: text}, chunks); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		docs[doc.ID] = store.DocumentInfo{ID: doc.ID, Source: source, Type: typ, Meta: meta}
	}
	return docs
}

// filterCases are one or more expressions and the predicate they mean.
var filterCases = []struct {
	where []string
	want  func(d store.DocumentInfo, page int) bool
}{
	{[]string{"year=2020"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] == "2020" }},
	{[]string{"year!=2024"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] != "2024" }},
	{[]string{"year>=2022"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] >= "2022" }},
	{[]string{"year<=2020"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] <= "2020" }},
	{[]string{"year>2022"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] > "2022" }},
	{[]string{"year<2020"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["year"] < "2020" }},
	{[]string{"signed>=2021-01-01"}, func(d store.DocumentInfo, _ int) bool { return d.Meta["signed"] != "" }},
	{[]string{"source~*/2021/*"}, func(d store.DocumentInfo, _ int) bool { return strings.Contains(d.Source, "/2021/") }},
	{[]string{"type=pdf"}, func(d store.DocumentInfo, _ int) bool { return d.Type == "pdf" }},
	{[]string{"doc_id=" + document.IDFor("reports/2019/annual.pdf")}, func(d store.DocumentInfo, _ int) bool { return d.Source == "reports/2019/annual.pdf" }},
	{[]string{"page=2"}, func(_ store.DocumentInfo, p int) bool { return p == 2 }},
	{[]string{"page>1", "dept=legal", "year<2022"}, func(d store.DocumentInfo, p int) bool {
		return p > 1 && d.Meta["dept"] == "legal" && d.Meta["year"] < "2022"
	}},
	{[]string{"ingested>=2000-01-01"}, func(store.DocumentInfo, int) bool { return true }},
	{[]string{"ingested<2000-01-01"}, func(store.DocumentInfo, int) bool { return false }},
}

// TestFilteredSearchIsTheFilteredRanking checks every operator, for BM25,
// dense through the graph and dense exactly over the allowed vectors: the
// filtered top k is the unfiltered full ranking restricted to the allowed
// chunks, cut at k.
func TestFilteredSearchIsTheFilteredRanking(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c"))
	defer s.Close()
	embed := embedText(32)
	docs := filterCorpus(t, s, embed)
	const k = 3
	query := "lantern harbour"
	searches := []struct {
		name     string
		all      func() ([]document.Passage, error)
		filtered func(f *store.Filter) ([]document.Passage, error)
	}{
		{"bm25", func() ([]document.Passage, error) { return s.SearchText(ctx, "chunks", query, 100) },
			func(f *store.Filter) ([]document.Passage, error) {
				return s.SearchTextFiltered(ctx, "chunks", query, k, f)
			}},
		{"dense-flat", func() ([]document.Passage, error) { return s.SearchVectorExact(ctx, "chunks", embed(query), 100) },
			func(f *store.Filter) ([]document.Passage, error) {
				return s.SearchVectorFiltered(ctx, "chunks", embed(query), k, f)
			}},
		{"dense-graph", func() ([]document.Passage, error) { return s.SearchVectorExact(ctx, "chunks", embed(query), 100) },
			func(f *store.Filter) ([]document.Passage, error) {
				defer func(n int) { flatBelow = n }(flatBelow)
				flatBelow = 0
				return s.SearchVectorFiltered(ctx, "chunks", embed(query), k, f)
			}},
		{"dense-exact", func() ([]document.Passage, error) { return s.SearchVectorExact(ctx, "chunks", embed(query), 100) },
			func(f *store.Filter) ([]document.Passage, error) {
				return s.SearchVectorExactFiltered(ctx, "chunks", embed(query), k, f)
			}},
	}
	for _, sc := range searches {
		all, err := sc.all()
		if err != nil || len(all) != 18 {
			t.Fatalf("%s: unfiltered search: %d results, %v", sc.name, len(all), err)
		}
		for _, tc := range filterCases {
			t.Run(sc.name+"/"+strings.Join(tc.where, ","), func(t *testing.T) {
				f, err := store.ParseFilter(tc.where)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, p := range all {
					if tc.want(docs[p.DocID], p.Page) && len(want) < k {
						want = append(want, p.ChunkID)
					}
				}
				got, err := sc.filtered(f)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, p := range got {
					ids = append(ids, p.ChunkID)
				}
				if !slices.Equal(ids, want) {
					t.Errorf("got %v, want %v", ids, want)
				}
			})
		}
	}
}

func TestFilterUnknownKeyIsAnError(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c"))
	defer s.Close()
	embed := embedText(32)
	filterCorpus(t, s, embed)
	f, _ := store.ParseFilter([]string{"colour=red"})
	_, err := s.SearchTextFiltered(ctx, "chunks", "lantern", 3, f)
	var fe *store.FilterError
	if !errors.As(err, &fe) || fe.Key != "colour" {
		t.Fatalf("BM25: %v, want a FilterError naming colour", err)
	}
	_, err = s.SearchVectorFiltered(ctx, "chunks", embed("lantern"), 3, f)
	if !errors.As(err, &fe) || fe.Key != "colour" {
		t.Fatalf("dense: %v, want a FilterError naming colour", err)
	}
}

// TestFilterSeesDocumentChanges checks that the cached documents follow
// replacements and deletions.
func TestFilterSeesDocumentChanges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c"))
	defer s.Close()
	embed := embedText(32)
	filterCorpus(t, s, embed)
	f, _ := store.ParseFilter([]string{"year=2020"})
	count := func() int {
		t.Helper()
		ps, err := s.SearchTextFiltered(ctx, "chunks", "lantern", 10, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	if n := count(); n != 3 {
		t.Fatalf("year=2020: %d chunks, want 3", n)
	}
	// Replace the 2020 report with one of 2030.
	source := "reports/2020/annual.txt"
	doc := document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: "new", Meta: map[string]string{"year": "2030"}}
	w, err := s.BeginVectors(ctx, doc, "toy")
	if err != nil {
		t.Fatal(err)
	}
	text := "lantern lantern"
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, []store.Chunk{{Split: "parents", End: len(text), Parent: -1}, {Split: "chunks", End: len(text), Parent: 0, Vector: embed(text)}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after the replacement, year=2020: %d chunks, want 0", n)
	}
	f, _ = store.ParseFilter([]string{"year=2030"})
	if n := count(); n != 1 {
		t.Fatalf("year=2030: %d chunks, want 1", n)
	}
	if _, err := s.Delete(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after the deletion, year=2030: %d chunks, want 0", n)
	}
}
