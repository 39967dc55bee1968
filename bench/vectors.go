package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// annModel names the generated vectors in the collection.
const annModel = "bench:structured"

// annLatent is the intrinsic dimension of the generated vectors: uniform
// random vectors in hundreds of dimensions have no meaningful neighbours
// and would measure nothing, while embeddings of text lie near a
// low-dimensional surface.
const annLatent = 32

// vectorSource makes vectors of dim dimensions: points of a latent space
// mapped through a fixed random matrix, plus a little noise.
type vectorSource struct {
	dim  int
	proj []float32 // dim × annLatent
	rng  *rand.Rand
}

func newVectorSource(dim int, seed uint64) *vectorSource {
	rng := rand.New(rand.NewPCG(seed, 0xa22))
	proj := make([]float32, dim*annLatent)
	for i := range proj {
		proj[i] = float32(rng.NormFloat64())
	}
	return &vectorSource{dim: dim, proj: proj, rng: rng}
}

func (s *vectorSource) next() []float32 {
	var z [annLatent]float32
	for i := range z {
		z[i] = float32(s.rng.NormFloat64())
	}
	v := make([]float32, s.dim)
	for i := range v {
		var x float32
		row := s.proj[i*annLatent : (i+1)*annLatent]
		for j, p := range row {
			x += p * z[j]
		}
		v[i] = x + float32(s.rng.NormFloat64())*0.5
	}
	return v
}

// annSearcher is the store the section measures: approximate and exact
// dense search, and the size of the index.
type annSearcher interface {
	store.VectorWriter
	SearchVectorExact(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error)
	VectorIndexStats(ctx context.Context, split string) (sqlite.VectorIndexStats, error)
	SyncIndexes(ctx context.Context) error
}

var annSplits = []store.Split{{Name: "chunks", Size: 1000, Search: true}}

// ann measures the store's approximate vector search against exact search
// on size generated vectors written through the store's VectorWriter, one
// chunk each, into a collection of their own.
func (b *runner) ann(ctx context.Context, size int) ([]string, error) {
	dim := b.opts.ANNDim
	row := func(note string) []string {
		return []string{count(size), fmt.Sprint(dim), "–", "–", "–", "–", "–", "–", note}
	}
	db := filepath.Join(b.dir, fmt.Sprintf("vectors-%d", size))
	defer os.RemoveAll(db)
	opened, err := store.Open(ctx, db, store.Options{Create: true, Splits: annSplits})
	if err != nil {
		return nil, err
	}
	defer opened.Close()
	st, ok := opened.(annSearcher)
	if !ok {
		return row("not measured: this store has no exact search or index statistics to compare with"), nil
	}

	b.opts.Progress(fmt.Sprintf("writing %s vectors of %d dimensions", count(size), dim))
	src := newVectorSource(dim, uint64(size))
	const perDoc = 500
	start := time.Now()
	for d := 0; d*perDoc < size; d++ {
		source := fmt.Sprintf("/bench/vectors-%06d", d)
		w, err := st.BeginVectors(ctx, document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: source}, annModel)
		if err != nil {
			return nil, err
		}
		for p := 1; p <= perDoc && (d*perDoc+p) <= size; p++ {
			text := fmt.Sprintf("vector %d", d*perDoc+p)
			if err := w.AddPage(ctx, document.Page{Number: p, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1, Vector: src.next()}}); err != nil {
				w.Rollback()
				return nil, err
			}
		}
		if err := w.Commit(ctx); err != nil {
			return nil, err
		}
	}
	write := time.Since(start)

	b.opts.Progress(fmt.Sprintf("building the vector index of %s vectors", count(size)))
	start = time.Now()
	stats, err := st.VectorIndexStats(ctx, "chunks")
	if err != nil {
		return nil, err
	}
	build := time.Since(start)
	start = time.Now()
	if err := st.SyncIndexes(ctx); err != nil {
		return nil, err
	}
	save := time.Since(start)
	if stats, err = st.VectorIndexStats(ctx, "chunks"); err != nil {
		return nil, err
	}
	if stats.Vectors != size {
		return nil, fmt.Errorf("bench: the vector index holds %d vectors, want %d", stats.Vectors, size)
	}

	b.opts.Progress(fmt.Sprintf("searching %s vectors", count(size)))
	const k = 10
	queries := make([][]float32, b.opts.Queries)
	for i := range queries {
		queries[i] = src.next()
	}
	var recalls []float64
	var approxP50, exactP50 []float64
	for range b.opts.Reps {
		var approxLat, exactLat []float64
		for _, q := range queries {
			t0 := time.Now()
			got, err := st.SearchVector(ctx, "chunks", q, k)
			if err != nil {
				return nil, err
			}
			t1 := time.Now()
			want, err := st.SearchVectorExact(ctx, "chunks", q, k)
			if err != nil {
				return nil, err
			}
			approxLat = append(approxLat, float64(t1.Sub(t0).Microseconds())/1000)
			exactLat = append(exactLat, float64(time.Since(t1).Microseconds())/1000)
			recalls = append(recalls, recall(got, want))
		}
		approxP50 = append(approxP50, percentile(approxLat, 50))
		exactP50 = append(exactP50, percentile(exactLat, 50))
	}
	var mean float64
	for _, r := range recalls {
		mean += r
	}
	mean /= float64(max(len(recalls), 1))
	note := fmt.Sprintf("stored in %.1f s (%s vectors/s); index saved in %.2f s", write.Seconds(), count(int(float64(size)/math.Max(write.Seconds(), 1e-9))), save.Seconds())
	if size < sqlite.ExactBelow {
		note = fmt.Sprintf("below %s vectors the store searches exactly; ", count(sqlite.ExactBelow)) + note
	}
	return []string{count(size), fmt.Sprint(dim), fmt.Sprintf("%.1f s", build.Seconds()), fmt.Sprintf("%.3f", mean),
		ms(median(approxP50)), ms(median(exactP50)),
		fmt.Sprintf("%s B (%.2f× raw)", count(int(stats.MemoryBytes/int64(size))), float64(stats.MemoryBytes)/float64(4*dim*size)),
		fmt.Sprintf("%s B", count(int(stats.FileBytes/int64(size)))), note}, nil
}

// recall is the share of the exact top k the approximate search found.
func recall(got, want []document.Passage) float64 {
	if len(want) == 0 {
		return 1
	}
	in := map[string]bool{}
	for _, p := range want {
		in[p.ChunkID] = true
	}
	n := 0
	for _, p := range got {
		if in[p.ChunkID] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}
