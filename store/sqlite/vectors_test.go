package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model/hashembed"
	"github.com/distill-rag/distill/store"
)

var testSplits = []store.Split{
	{Name: "chunks", Size: 1000, Search: true},
	{Name: "parents", Size: 2000},
}

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), dir, store.Options{Create: true, Splits: testSplits})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// embedText is the toy model every test document is embedded with.
var embedText = func(dim int) func(string) []float32 {
	e := &hashembed.Embedder{Dim: dim}
	return func(s string) []float32 {
		v, _ := e.Embed(context.Background(), []string{s}, 0)
		return v[0]
	}
}

// writeDoc stores a document with one searched chunk and one parent per
// page; embed nil writes no vectors.
func writeDoc(t *testing.T, s *Store, source, model string, embed func(string) []float32, pages ...string) error {
	t.Helper()
	ctx := context.Background()
	doc := document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: fmt.Sprint(pages)}
	var w store.DocumentWriter
	var err error
	if model == "" {
		w, err = s.Begin(ctx, doc)
	} else {
		w, err = s.BeginVectors(ctx, doc, model)
	}
	if err != nil {
		return err
	}
	defer w.Rollback()
	for i, text := range pages {
		chunks := []store.Chunk{{Split: "parents", End: len(text), Parent: -1}, {Split: "chunks", End: len(text), Parent: 0}}
		if embed != nil {
			chunks[1].Vector = embed(text)
		}
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: text}, chunks); err != nil {
			return err
		}
	}
	return w.Commit(ctx)
}

func mustWrite(t *testing.T, s *Store, source, model string, embed func(string) []float32, pages ...string) {
	t.Helper()
	if err := writeDoc(t, s, source, model, embed, pages...); err != nil {
		t.Fatal(err)
	}
}

func texts(ps []document.Passage) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Text)
	}
	return out
}

var facts = []string{
	"Revenue grew twelve percent to forty million dollars.",
	"The Zephyr lanterns were recalled over faulty batteries.",
	"A warehouse opened in Krakow in June.",
	"Customer satisfaction reached ninety one percent in the survey.",
	"We acquired Borealis Optics to make lenses in house.",
}

func TestSearchVectorRanksByMeaningOfTheToyModel(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	embed := embedText(64)
	mustWrite(t, s, "/a.txt", "hash:64", embed, facts[:3]...)
	mustWrite(t, s, "/b.txt", "hash:64", embed, facts[3:]...)
	emb, err := s.Embedding(ctx)
	if err != nil || emb != (store.Embedding{Model: "hash:64", Dim: 64}) {
		t.Fatalf("Embedding = %+v, %v", emb, err)
	}
	for _, tc := range []struct{ query, want string }{
		{"which batteries were faulty in the recall", facts[1]},
		{"the lenses of Borealis", facts[4]},
		{"survey satisfaction", facts[3]},
	} {
		got, err := s.SearchVector(ctx, "chunks", embed(tc.query), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Text != tc.want || got[0].Score <= got[1].Score || got[0].Split != "chunks" {
			t.Fatalf("%q: got %q", tc.query, texts(got))
		}
	}
	if _, err := s.SearchVector(ctx, "parents", embed("x"), 2); err == nil {
		t.Fatal("searching a parents-only split succeeded")
	}
}

func TestEmbeddingMismatches(t *testing.T) {
	ctx := context.Background()
	embed := embedText(32)
	var mm *store.EmbeddingMismatchError
	for _, tc := range []struct {
		name  string
		setup func(s *Store)
		act   func(s *Store) error
		want  []string // in the message
	}{
		{"other model on write", func(s *Store) { mustWrite(t, s, "/a", "hash:32", embed, "alpha") },
			func(s *Store) error { return writeDoc(t, s, "/b", "ollama:bge", embed, "beta") },
			[]string{"hash:32 (32 dimensions)", "ollama:bge", "reindex --embed ollama:bge"}},
		{"other dimension on write", func(s *Store) { mustWrite(t, s, "/a", "hash:32", embed, "alpha") },
			func(s *Store) error { return writeDoc(t, s, "/b", "hash:32", embedText(48), "beta") },
			[]string{"hash:32 (32 dimensions)", "48 dimensions"}},
		{"no model on write", func(s *Store) { mustWrite(t, s, "/a", "hash:32", embed, "alpha") },
			func(s *Store) error { return writeDoc(t, s, "/b", "", nil, "beta") },
			[]string{"hash:32", "--embed hash:32"}},
		{"vectors into an unembedded collection", func(s *Store) { mustWrite(t, s, "/a", "", nil, "alpha") },
			func(s *Store) error { return writeDoc(t, s, "/b", "hash:32", embed, "beta") },
			[]string{"no embeddings", "reindex --embed hash:32"}},
		{"query of another dimension", func(s *Store) { mustWrite(t, s, "/a", "hash:32", embed, "alpha") },
			func(s *Store) error { _, err := s.SearchVector(ctx, "chunks", make([]float32, 8), 3); return err },
			[]string{"hash:32 (32 dimensions)", "8 dimensions"}},
		{"query of an unembedded collection", func(s *Store) { mustWrite(t, s, "/a", "", nil, "alpha") },
			func(s *Store) error { _, err := s.SearchVector(ctx, "chunks", make([]float32, 8), 3); return err },
			[]string{"no embeddings", "--embed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			defer s.Close()
			tc.setup(s)
			before, _ := s.Documents(ctx)
			err := tc.act(s)
			if !errors.As(err, &mm) {
				t.Fatalf("err = %v, want an EmbeddingMismatchError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			after, _ := s.Documents(ctx)
			if len(after) != len(before) {
				t.Fatalf("documents changed from %d to %d", len(before), len(after))
			}
		})
	}
}

// randomVectors writes n documents of one chunk with random vectors.
func randomVectors(t *testing.T, s *Store, n, dim int, rng *rand.Rand, from int) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	vecs := map[string][]float32{}
	for i := from; i < from+n; i++ {
		text := fmt.Sprintf("chunk %d", i)
		v := make([]float32, dim)
		for d := range v {
			v[d] = float32(rng.NormFloat64())
		}
		vecs[text] = v
		out[text] = v
	}
	ctx := context.Background()
	w, err := s.BeginVectors(ctx, document.Document{ID: fmt.Sprintf("d%d", from), Source: fmt.Sprintf("/r%d", from), Type: "text"}, "random")
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		text := fmt.Sprintf("chunk %d", i)
		if err := w.AddPage(ctx, document.Page{Number: i - from + 1, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1, Vector: vecs[text]}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApproximateAgreesWithExact(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	randomVectors(t, s, exactBelow+1000, 16, rng, 0)
	hits, total := 0, 0
	for q := 0; q < 40; q++ {
		v := make([]float32, 16)
		for d := range v {
			v[d] = float32(rng.NormFloat64())
		}
		approx, err := s.SearchVector(ctx, "chunks", v, 10)
		if err != nil {
			t.Fatal(err)
		}
		exact, err := s.SearchVectorExact(ctx, "chunks", v, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, p := range exact {
			want[p.ChunkID] = true
		}
		for _, p := range approx {
			if want[p.ChunkID] {
				hits++
			}
		}
		total += len(exact)
	}
	if r := float64(hits) / float64(total); r < 0.95 {
		t.Fatalf("recall@10 of the index against exact search = %.3f", r)
	}
}

func indexFiles(t *testing.T, dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "index", "*.hnsw"))
	return files
}

func TestIndexPersistsAndFollowsChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	embed := embedText(64)
	s := openTest(t, dir)
	mustWrite(t, s, "/a.txt", "hash:64", embed, facts[:3]...)
	mustWrite(t, s, "/b.txt", "hash:64", embed, facts[3:]...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files := indexFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("index files after close: %v", files)
	}
	saved, _ := os.ReadFile(files[0])

	search := func(s *Store, q string) []string {
		t.Helper()
		got, err := s.SearchVector(ctx, "chunks", embed(q), 5)
		if err != nil {
			t.Fatal(err)
		}
		return texts(got)
	}
	// Reopened: the file is used and answers as before.
	s = openTest(t, dir)
	if got := search(s, "faulty batteries recall"); len(got) != 5 || got[0] != facts[1] {
		t.Fatalf("after reopen: %q", got)
	}
	// Another handle (another process) replaces and deletes documents;
	// this handle's loaded index catches up.
	other := openTest(t, dir)
	mustWrite(t, other, "/b.txt", "hash:64", embed, "The lighthouse keeper counted seagulls.")
	if n, err := other.Delete(ctx, document.IDFor("/a.txt")); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	var logged int
	other.reader.QueryRow(`SELECT count(*) FROM vector_log WHERE added = 0`).Scan(&logged)
	if logged != 5 { // b's two chunks replaced, a's three deleted, by cascade
		t.Fatalf("%d deletions logged, want 5", logged)
	}
	other.Close()
	if got := search(s, "faulty batteries recall"); len(got) != 1 || got[0] != "The lighthouse keeper counted seagulls." {
		t.Fatalf("after replace and delete elsewhere: %q", got)
	}
	s.Close()

	for _, tc := range []struct {
		name   string
		damage func(path string)
	}{
		{"stale file from before the changes", func(p string) { os.WriteFile(p, saved, 0o644) }},
		{"corrupt file", func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}},
		{"truncated file", func(p string) { os.Truncate(p, 100) }},
		{"missing file", func(p string) { os.Remove(p) }},
		{"stale file and a lost log", func(p string) {
			os.WriteFile(p, saved, 0o644)
			s := openTest(t, dir)
			defer s.Close()
			if _, err := s.writer.Exec(`DELETE FROM vector_log`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(indexFiles(t, dir)[0])
			s := openTest(t, dir)
			defer s.Close()
			if got := search(s, "faulty batteries recall"); len(got) != 1 || got[0] != "The lighthouse keeper counted seagulls." {
				t.Fatalf("got %q", got)
			}
		})
		if len(indexFiles(t, dir)) != 1 {
			t.Fatalf("%s: index not saved again", tc.name)
		}
	}
}

func TestReembedSwitchesModelsOnlyWhenComplete(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	mustWrite(t, s, "/a.txt", "", nil, facts[:3]...)
	mustWrite(t, s, "/b.txt", "", nil, facts[3:]...)
	embed := embedText(32)
	todo, remaining, err := s.Unembedded(ctx, "hash:32", 0, 3)
	if err != nil || remaining != 5 || len(todo) != 3 {
		t.Fatalf("Unembedded = %d chunks, %d remaining, %v", len(todo), remaining, err)
	}
	for _, c := range todo {
		if c.Split != "chunks" {
			t.Fatalf("chunk of split %s offered for embedding", c.Split)
		}
	}
	put := func(cs []store.ChunkText) {
		var vecs []store.ChunkVector
		for _, c := range cs {
			vecs = append(vecs, store.ChunkVector{ID: c.ID, Vector: embed(c.Text)})
		}
		if err := s.PutVectors(ctx, "hash:32", vecs); err != nil {
			t.Fatal(err)
		}
	}
	put(todo)
	if _, err := s.ActivateEmbedding(ctx, "hash:32"); err == nil || !strings.Contains(err.Error(), "2 chunks have no vector") {
		t.Fatalf("activating a partial embedding: %v", err)
	}
	if emb, _ := s.Embedding(ctx); emb.Model != "" {
		t.Fatalf("embedding switched early to %+v", emb)
	}
	// Resuming offers only what is missing.
	rest, remaining, _ := s.Unembedded(ctx, "hash:32", 0, 100)
	if remaining != 2 || len(rest) != 2 || rest[0].ID <= todo[2].ID {
		t.Fatalf("resume: %d chunks, %d remaining", len(rest), remaining)
	}
	put(rest)
	if emb, err := s.ActivateEmbedding(ctx, "hash:32"); err != nil || emb != (store.Embedding{Model: "hash:32", Dim: 32}) {
		t.Fatalf("ActivateEmbedding = %+v, %v", emb, err)
	}
	got, err := s.SearchVector(ctx, "chunks", embed("Borealis lenses"), 1)
	if err != nil || len(got) != 1 || got[0].Text != facts[4] {
		t.Fatalf("search after re-embedding: %q, %v", texts(got), err)
	}
	// Switching again to another model drops the first one's vectors.
	all, _, _ := s.Unembedded(ctx, "hash:48", 0, 100)
	embed48 := embedText(48)
	var vecs []store.ChunkVector
	for _, c := range all {
		vecs = append(vecs, store.ChunkVector{ID: c.ID, Vector: embed48(c.Text)})
	}
	if err := s.PutVectors(ctx, "hash:48", vecs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActivateEmbedding(ctx, "hash:48"); err != nil {
		t.Fatal(err)
	}
	var n int
	s.reader.QueryRow(`SELECT count(*) FROM vectors`).Scan(&n)
	if n != 5 {
		t.Fatalf("%d vectors kept, want the 5 of the new model", n)
	}
	got, err = s.SearchVector(ctx, "chunks", embed48("warehouse Krakow"), 1)
	if err != nil || len(got) != 1 || got[0].Text != facts[2] {
		t.Fatalf("search after second switch: %q, %v", texts(got), err)
	}
}

// TestExactSearchRanksEveryStoredVector: exact search scans the table in
// batches; its top 10 is the brute-force top 10 over all of them.
func TestExactSearchRanksEveryStoredVector(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	stored := randomVectors(t, s, 9000, 8, rng, 0) // three batches of the scan
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab, aa, bb = ab+float64(a[i])*float64(b[i]), aa+float64(a[i])*float64(a[i]), bb+float64(b[i])*float64(b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	for q := 0; q < 10; q++ {
		v := make([]float32, 8)
		for d := range v {
			v[d] = float32(rng.NormFloat64())
		}
		type scored struct {
			text  string
			score float64
		}
		var all []scored
		for text, sv := range stored {
			all = append(all, scored{text, cos(v, sv)})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].score > all[j].score })
		got, err := s.SearchVectorExact(ctx, "chunks", v, 10)
		if err != nil || len(got) != 10 {
			t.Fatalf("exact search: %d hits, %v", len(got), err)
		}
		for i, p := range got {
			if math.Abs(p.Score-all[i].score) > 1e-5 {
				t.Fatalf("query %d hit %d: %q %.6f, want %q %.6f", q, i, p.Text, p.Score, all[i].text, all[i].score)
			}
		}
	}
}
