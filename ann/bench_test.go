package ann

import (
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The benchmark's size comes from the environment, since building a
// million-vector graph takes a long while on a small machine:
//
//	DISTILL_BENCH_VECTORS=100000 go test -run - -bench Search -benchtime 2000x ./ann
//
// DISTILL_BENCH_DIM (default 1024, BGE Large's size), DISTILL_BENCH_LATENT
// (the generated vectors' intrinsic dimension, default 32) and
// DISTILL_BENCH_EF (the search's candidate list) change the rest.
func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var benchIndex struct {
	sync.Once
	ix      *Index
	g       *embeddings
	build   time.Duration
	heap    uint64
	queries [][]float32
	truth   [][]Result
}

func setupBench(b *testing.B) {
	n, dim := benchEnv("DISTILL_BENCH_VECTORS", 20000), benchEnv("DISTILL_BENCH_DIM", 1024)
	benchIndex.Do(func() {
		g := newEmbeddings(dim, benchEnv("DISTILL_BENCH_LATENT", 32), 42)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		ix := New(dim, Parameters{Seed: 42})
		ix.Grow(n)
		for done := 0; done < n; {
			size := min(20000, n-done)
			keys := make([]int64, size)
			vecs := make([][]float32, size)
			for i := range keys {
				keys[i], vecs[i] = int64(done+i+1), g.next()
			}
			if err := ix.AddBatch(keys, vecs, 0); err != nil {
				b.Fatal(err)
			}
			done += size
			if done%100000 == 0 {
				b.Logf("built %d in %s", done, time.Since(start).Round(time.Second))
			}
		}
		benchIndex.build = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		benchIndex.ix, benchIndex.g, benchIndex.heap = ix, g, after.HeapAlloc-before.HeapAlloc
		for q := 0; q < 200; q++ {
			v := g.next()
			want, _ := ix.SearchExact(v, 10)
			benchIndex.queries = append(benchIndex.queries, v)
			benchIndex.truth = append(benchIndex.truth, want)
		}
	})
}

// BenchmarkSearch reports the approximate search's p50 latency, its
// recall@10 against exact search, and the heap per vector.
func BenchmarkSearch(b *testing.B) {
	efs := []int{96, 160, 256}
	if ef := benchEnv("DISTILL_BENCH_EF", 0); ef > 0 {
		efs = []int{ef}
	}
	for _, ef := range efs {
		b.Run("ef="+strconv.Itoa(ef), func(b *testing.B) { benchSearch(b, ef) })
	}
}

func benchSearch(b *testing.B, ef int) {
	setupBench(b)
	ix := benchIndex.ix
	ix.SetEfSearch(ef)
	qs := benchIndex.queries
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]int64, 0, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, c := time.Now(), threadCPU()
		ix.Search(qs[i%len(qs)], 10)
		cpu = append(cpu, threadCPU()-c)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	slices.Sort(cpu)
	var r float64
	for i, q := range qs {
		got, _ := ix.Search(q, 10)
		r += recall(got, benchIndex.truth[i])
	}
	n := ix.Len()
	raw := float64(n * ix.Dim() * 4)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(cpu[len(cpu)/2])/1e3, "p50-cpu-µs")
	b.ReportMetric(r/float64(len(qs)), "recall@10")
	b.ReportMetric(float64(benchIndex.heap)/float64(n), "heap-B/vector")
	b.ReportMetric(float64(benchIndex.heap)/raw, "heap/raw")
	b.ReportMetric(benchIndex.build.Seconds(), "build-s")
}

// BenchmarkSearchExact is the brute-force scan the index replaces.
func BenchmarkSearchExact(b *testing.B) {
	setupBench(b)
	qs := benchIndex.queries
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchIndex.ix.SearchExact(qs[i%len(qs)], 10)
	}
}
