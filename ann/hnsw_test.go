package ann

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// embeddings generates n unit vectors that look like text embeddings
// rather than uniform noise: points of a low-dimensional latent space
// (latent dimensions) mapped into dim dimensions by a fixed random basis,
// plus a little noise in every dimension. Uniform random vectors in 1024
// dimensions have no meaningful nearest neighbours, which makes any ANN
// benchmark on them meaningless.
type embeddings struct {
	dim, latent int
	basis       []float32 // latent x dim
	rng         *rand.Rand
}

func newEmbeddings(dim, latent int, seed uint64) *embeddings {
	g := &embeddings{dim: dim, latent: latent, rng: rand.New(rand.NewPCG(seed, 7)), basis: make([]float32, latent*dim)}
	scale := 1 / math.Sqrt(float64(latent))
	for i := range g.basis {
		g.basis[i] = float32(g.rng.NormFloat64() * scale)
	}
	return g
}

func (g *embeddings) next() []float32 {
	v := make([]float32, g.dim)
	for d := range v {
		v[d] = float32(g.rng.NormFloat64()) * 0.3
	}
	for j := 0; j < g.latent; j++ {
		z := float32(g.rng.NormFloat64())
		row := g.basis[j*g.dim : (j+1)*g.dim]
		for d := range v {
			v[d] += z * row[d]
		}
	}
	Normalize(v)
	return v
}

func recall(got, want []Result) float64 {
	truth := map[int64]bool{}
	for _, r := range want {
		truth[r.Key] = true
	}
	hits := 0
	for _, r := range got {
		if truth[r.Key] {
			hits++
		}
	}
	return float64(hits) / float64(len(want))
}

func build(t testing.TB, n, dim int, seed uint64) (*Index, *embeddings) {
	t.Helper()
	g := newEmbeddings(dim, 32, seed)
	ix := New(dim, Parameters{Seed: seed})
	for i := 0; i < n; i++ {
		if err := ix.Add(int64(i+1), g.next()); err != nil {
			t.Fatal(err)
		}
	}
	return ix, g
}

func meanRecall(t testing.TB, ix *Index, g *embeddings, queries, k int) float64 {
	t.Helper()
	var sum float64
	for q := 0; q < queries; q++ {
		v := g.next()
		want, err := ix.SearchExact(v, k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ix.Search(v, k)
		if err != nil {
			t.Fatal(err)
		}
		sum += recall(got, want)
	}
	return sum / float64(queries)
}

func TestSearchAgreesWithExact(t *testing.T) {
	for _, tc := range []struct {
		n, dim int
		min    float64
	}{
		{n: 1, dim: 8, min: 1},
		{n: 50, dim: 16, min: 1}, // fewer nodes than ef: the search sees them all
		{n: 3000, dim: 64, min: 0.97},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.n, tc.dim), func(t *testing.T) {
			ix, g := build(t, tc.n, tc.dim, 1)
			if r := meanRecall(t, ix, g, 50, min(10, tc.n)); r < tc.min {
				t.Fatalf("recall@10 = %.3f, want >= %.2f", r, tc.min)
			}
		})
	}
}

func TestExactSearchRanksByCosine(t *testing.T) {
	ix := New(2, Parameters{})
	for i, v := range [][]float32{{1, 0}, {0, 1}, {1, 1}, {-1, 0}} {
		if err := ix.Add(int64(i+1), v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ix.SearchExact([]float32{3, 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []int64{1, 3, 2, 4}
	wantScores := []float64{3 / math.Sqrt(10), 4 / math.Sqrt(20), 1 / math.Sqrt(10), -3 / math.Sqrt(10)}
	for i, r := range got {
		if r.Key != wantKeys[i] || math.Abs(float64(r.Score)-wantScores[i]) > 1e-6 {
			t.Fatalf("hit %d = %+v, want key %d score %.6f", i, r, wantKeys[i], wantScores[i])
		}
	}
	approx, _ := ix.Search([]float32{3, 1}, 4)
	if fmt.Sprint(approx) != fmt.Sprint(got) {
		t.Fatalf("Search = %v, SearchExact = %v", approx, got)
	}
}

func TestDeleteHidesKeysAndCompactDropsThem(t *testing.T) {
	ix, g := build(t, 2000, 32, 2)
	for key := int64(1); key <= 1000; key++ {
		if !ix.Delete(key) {
			t.Fatalf("Delete(%d) = false", key)
		}
	}
	if ix.Delete(5) {
		t.Fatal("deleting twice reported true")
	}
	if ix.Len() != 1000 || ix.Deleted() != 1000 || !ix.NeedsCompaction() {
		t.Fatalf("Len %d Deleted %d NeedsCompaction %v", ix.Len(), ix.Deleted(), ix.NeedsCompaction())
	}
	check := func() {
		for q := 0; q < 30; q++ {
			res, err := ix.Search(g.next(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 10 {
				t.Fatalf("got %d results, want 10", len(res))
			}
			for _, r := range res {
				if r.Key <= 1000 {
					t.Fatalf("deleted key %d returned", r.Key)
				}
			}
		}
	}
	check()
	if r := meanRecall(t, ix, g, 30, 10); r < 0.95 {
		t.Fatalf("recall with tombstones = %.3f", r)
	}
	ix.Compact()
	if ix.Len() != 1000 || ix.Deleted() != 0 {
		t.Fatalf("after compaction Len %d Deleted %d", ix.Len(), ix.Deleted())
	}
	check()
	if r := meanRecall(t, ix, g, 30, 10); r < 0.97 {
		t.Fatalf("recall after compaction = %.3f", r)
	}
}

func TestAddRejectsBadInput(t *testing.T) {
	ix := New(4, Parameters{})
	var de *DimensionError
	if err := ix.Add(1, []float32{1, 2, 3}); !errors.As(err, &de) || de.Got != 3 || de.Want != 4 {
		t.Fatalf("Add with 3 dims: %v", err)
	}
	if err := ix.Add(1, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(1, []float32{1, 2, 3, 4}); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("duplicate Add: %v", err)
	}
	if _, err := ix.Search([]float32{1}, 1); !errors.As(err, &de) {
		t.Fatalf("Search with 1 dim: %v", err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	ix, g := build(t, 1500, 24, 3)
	ix.Delete(7)
	var buf bytes.Buffer
	if err := ix.Write(&buf, []byte(`{"model":"m"}`)); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	back, meta, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if string(meta) != `{"model":"m"}` || back.Len() != ix.Len() || back.Has(7) || !back.Has(8) {
		t.Fatalf("meta %q len %d/%d", meta, back.Len(), ix.Len())
	}
	for q := 0; q < 20; q++ {
		v := g.next()
		a, _ := ix.Search(v, 10)
		b, _ := back.Search(v, 10)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("reloaded index answers differently:\n%v\n%v", a, b)
		}
	}
	if m, err := ReadMeta(bytes.NewReader(data)); err != nil || string(m) != `{"model":"m"}` {
		t.Fatalf("ReadMeta = %q, %v", m, err)
	}
	// Every truncation and a flipped byte anywhere are caught.
	for _, cut := range []int{0, 5, 20, len(data) / 2, len(data) - 1} {
		if _, _, err := Read(bytes.NewReader(data[:cut])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
	}
	for _, at := range []int{len(data) / 3, len(data) - 10} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x40
		if _, _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipped byte %d: %v", at, err)
		}
	}
}

func TestAddBatchBuildsInParallel(t *testing.T) {
	g := newEmbeddings(64, 32, 5)
	keys := make([]int64, 2500)
	vecs := make([][]float32, len(keys))
	for i := range keys {
		keys[i], vecs[i] = int64(i+10), g.next()
	}
	ix := New(64, Parameters{Seed: 5})
	if err := ix.AddBatch(keys[:10], vecs[:10], 1); err != nil {
		t.Fatal(err)
	}
	if err := ix.AddBatch(keys[10:], vecs[10:], 4); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != len(keys) {
		t.Fatalf("Len = %d", ix.Len())
	}
	if r := meanRecall(t, ix, g, 50, 10); r < 0.97 {
		t.Fatalf("recall@10 after a parallel build = %.3f", r)
	}
	if err := ix.AddBatch(keys[:1], vecs[:1], 2); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("re-adding a key: %v", err)
	}
	var de *DimensionError
	if err := ix.AddBatch([]int64{1}, [][]float32{{1}}, 2); !errors.As(err, &de) {
		t.Fatalf("wrong dimension: %v", err)
	}
}
