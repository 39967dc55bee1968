package retrieve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/hashembed"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

func ps(ids ...string) []document.Passage {
	var out []document.Passage
	for _, id := range ids {
		out = append(out, document.Passage{ChunkID: id, Text: "text of " + id})
	}
	return out
}

func TestFuseRRF(t *testing.T) {
	type want struct {
		id    string
		score float64
	}
	for _, tc := range []struct {
		name     string
		rankings [][]document.Passage
		weights  []float64
		rrfK     float64
		k        int
		want     []want
	}{
		{"agreement wins", [][]document.Passage{ps("a", "b", "c"), ps("c", "a", "d")}, []float64{1, 1}, 60, 0,
			[]want{{"a", 1.0/61 + 1.0/62}, {"c", 1.0/63 + 1.0/61}, {"b", 1.0 / 62}, {"d", 1.0 / 63}}},
		{"weights tilt the fusion", [][]document.Passage{ps("a", "b"), ps("b", "a")}, []float64{1, 3}, 0, 0,
			[]want{{"b", 1.0/2 + 3.0/1}, {"a", 1.0/1 + 3.0/2}}},
		{"zero weight ignores a ranking", [][]document.Passage{ps("a"), ps("z")}, []float64{0, 1}, 10, 0,
			[]want{{"z", 1.0 / 11}, {"a", 0}}},
		{"ties go to the better best rank, then to the first seen", [][]document.Passage{ps("a", "b"), ps("c", "d")}, []float64{1, 1}, 60, 3,
			[]want{{"a", 1.0 / 61}, {"c", 1.0 / 61}, {"b", 1.0 / 62}}},
		{"empty", nil, nil, 60, 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FuseRRF(tc.rankings, tc.weights, tc.rrfK, tc.k)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d passages, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].ChunkID != w.id || math.Abs(got[i].Score-w.score) > 1e-12 || got[i].Text != "text of "+w.id {
					t.Fatalf("rank %d = %s %.6f, want %s %.6f", i+1, got[i].ChunkID, got[i].Score, w.id, w.score)
				}
			}
		})
	}
}

// corpus is a small collection where BM25 and the toy embedder disagree
// in known ways.
var corpus = []string{
	"The quarterly revenue report shows growth in solar lantern sales.",
	"Solar lanterns were recalled because of faulty lithium batteries.",
	"Our Krakow warehouse opened in June with forty staff.",
	"Lithium battery suppliers were changed after the recall.",
	"Customer satisfaction rose to ninety one percent this year.",
}

func newCollection(t *testing.T, embedder model.Embedder) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.OpenStore(ctx, t.TempDir(), store.Options{Create: true, Splits: []store.Split{{Name: "chunks", Size: 1000, Search: true}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	vecs, err := embedder.Embed(ctx, corpus, model.ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.BeginVectors(ctx, document.Document{ID: "doc", Source: "/doc.txt", Type: "text"}, embedder.Name())
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range corpus {
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1, Vector: vecs[i]}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func stage(t *testing.T, src string) config.Stage {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	var typ string
	for i := 0; i+1 < len(n.Content[0].Content); i += 2 {
		if n.Content[0].Content[i].Value == "type" {
			typ = n.Content[0].Content[i+1].Value
		}
	}
	return config.Stage{Type: typ, Node: n.Content[0], Path: "techniques.t.retriever", File: "test.yaml"}
}

func TestDenseAndHybridRetrieval(t *testing.T) {
	ctx := context.Background()
	emb := &hashembed.Embedder{Dim: 256}
	s := newCollection(t, emb)
	env := Env{Store: s, Auto: "dense", Embedder: emb}
	for _, tc := range []struct {
		stage string
		query string
		want  []int // corpus indexes, best first
	}{
		{"{type: dense, split: chunks, k: 2}", "recall of lithium batteries", []int{3, 1}},
		{"{type: dense, split: chunks, k: 1, exact: true}", "Krakow warehouse", []int{2}},
		{"{type: auto, split: chunks, k: 1}", "satisfaction percent", []int{4}},
		{"{type: hybrid, split: chunks, k: 3}", "recall of lithium batteries", []int{3, 1}},
		{"{type: hybrid, split: chunks, k: 1, weights: {bm25: 0, dense: 1}}", "solar lantern revenue", []int{0}},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			r, err := Build(env, stage(t, tc.stage))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Retrieve(ctx, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < len(tc.want) {
				t.Fatalf("got %d passages", len(got))
			}
			for i, w := range tc.want {
				if got[i].Text != corpus[w] {
					t.Fatalf("rank %d = %q, want %q", i+1, got[i].Text, corpus[w])
				}
				if i > 0 && got[i].Score > got[i-1].Score {
					t.Fatalf("scores not descending: %v", got)
				}
			}
		})
	}
	// Hybrid's scores are the RRF of the two rankings it fuses.
	r, _ := Build(env, stage(t, "{type: hybrid, split: chunks, k: 5, rrf_k: 10}"))
	fused, _ := r.Retrieve(ctx, "lithium batteries recall")
	bm, _ := (&BM25{Store: s, Split: "chunks", K: 20}).Retrieve(ctx, "lithium batteries recall")
	de, _ := (&Dense{Store: s, Embedder: emb, Split: "chunks", K: 20}).Retrieve(ctx, "lithium batteries recall")
	want := FuseRRF([][]document.Passage{bm, de}, []float64{1, 1}, 10, 5)
	if fmt.Sprint(texts(fused)) != fmt.Sprint(texts(want)) || fused[0].Score != want[0].Score {
		t.Fatalf("hybrid = %v, want %v", texts(fused), texts(want))
	}
}

func texts(ps []document.Passage) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Text)
	}
	return out
}

func TestDenseErrors(t *testing.T) {
	ctx := context.Background()
	s := newCollection(t, &hashembed.Embedder{Dim: 64})
	var mm *MissingModelError
	for _, src := range []string{"{type: dense, split: chunks, k: 2}", "{type: hybrid, split: chunks, k: 2}"} {
		r, err := Build(Env{Store: s}, stage(t, src))
		if err != nil {
			t.Fatalf("%s offline: %v", src, err)
		}
		u, ok := r.(interface{ Unavailable() error })
		if !ok || !errors.As(u.Unavailable(), &mm) {
			t.Fatalf("%s offline built %T, not an unavailable stand-in", src, r)
		}
		if _, err := r.Retrieve(ctx, "q"); !errors.As(err, &mm) || !strings.Contains(err.Error(), `technique "t" needs an embedding model for its `) {
			t.Fatalf("%s offline: Retrieve = %v", src, err)
		}
	}
	// A parent retriever whose children need a model is unavailable too.
	r, err := Build(Env{Store: s}, stage(t, "{type: parent, split: chunks, child_k: 2, search: hybrid}"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.(*Parent).Unavailable(); !errors.As(err, &mm) {
		t.Fatalf("parent over hybrid offline: %v", err)
	}
	var ce *config.Error
	for _, src := range []string{
		"{type: hybrid, split: chunks, k: 2, rrf_k: -1}",
		"{type: hybrid, split: chunks, k: 2, weights: {bm25: 0, dense: 0}}",
		"{type: hybrid, split: chunks, k: 5, candidates: 2}",
		"{type: dense, split: chunks, k: 0}",
		"{type: dense, split: chunks, k: 2, bogus: 1}",
	} {
		if _, err := Build(Env{Store: s, Embedder: &hashembed.Embedder{Dim: 64}}, stage(t, src)); !errors.As(err, &ce) {
			t.Fatalf("%s: %v, want a config error", src, err)
		}
	}
	r, err = Build(Env{Store: s, Embedder: &hashembed.Embedder{Dim: 32}}, stage(t, "{type: dense, split: chunks, k: 2}"))
	if err != nil {
		t.Fatal(err)
	}
	var em *store.EmbeddingMismatchError
	if _, err := r.Retrieve(ctx, "lithium"); !errors.As(err, &em) || !strings.Contains(err.Error(), "hash:64") || !strings.Contains(err.Error(), "hash:32") {
		t.Fatalf("querying with another model: %v", err)
	}
}
