package ann

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
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
// (the generated vectors' intrinsic dimension, default 32),
// DISTILL_BENCH_EF (the search's candidate list sizes, comma-separated), DISTILL_BENCH_STORAGE
// (int8, the default, or float32) and DISTILL_BENCH_RERANK (how many of an
// int8 search's best hits are re-ranked with their float32 vectors,
// default 40), DISTILL_BENCH_M and DISTILL_BENCH_EFC (the graph's
// Parameters), DISTILL_BENCH_THP=0 (no transparent huge pages),
// DISTILL_BENCH_NIBBLES=0 (walk with int8 codes, not 4-bit ones) and
// DISTILL_BENCH_PREFETCH (cache lines asked for ahead per neighbour)
// change the rest.
//
// As in a collection, the float32 vectors live in a file, not in the
// index: an int8 search reads its re-ranked candidates' vectors from it
// (from the page cache once warm, as a collection's would be).
func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchStorage() Storage {
	if os.Getenv("DISTILL_BENCH_STORAGE") == "float32" {
		return Float32
	}
	return Int8
}

var benchIndex struct {
	sync.Once
	ix      *Index
	vectors *os.File // vector i (key i+1) at offset i·dim·4
	build   time.Duration
	heap    uint64
	queries [][]float32
	truth   [][]Result
}

func setupBench(b *testing.B) {
	n, dim := benchEnv("DISTILL_BENCH_VECTORS", 20000), benchEnv("DISTILL_BENCH_DIM", 1024)
	benchIndex.Do(func() {
		if n, err := strconv.Atoi(os.Getenv("DISTILL_BENCH_PREFETCH")); err == nil {
			prefetchLinesPerNode = n
		}
		if os.Getenv("DISTILL_BENCH_NIBBLES") == "0" {
			walkNibbles = false
		}
		if os.Getenv("DISTILL_BENCH_THP") == "0" {
			hugePages = false
		}
		if dir := os.Getenv("DISTILL_BENCH_KEEP"); dir != "" && loadBench(b, dir) {
			return
		}
		g := newEmbeddings(dim, benchEnv("DISTILL_BENCH_LATENT", 32), 42)
		f, err := os.Create(filepath.Join(os.TempDir(), "distill-ann-bench-"+strconv.Itoa(os.Getpid())))
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(f.Name()) // gone when the process ends
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		ix := New(dim, Parameters{Seed: 42, Storage: benchStorage(),
			M: benchEnv("DISTILL_BENCH_M", 0), EfConstruction: benchEnv("DISTILL_BENCH_EFC", 0)})
		ix.Grow(n)
		buf := make([]byte, 0, 20000*dim*4)
		for done := 0; done < n; {
			size := min(20000, n-done)
			keys := make([]int64, size)
			vecs := make([][]float32, size)
			buf = buf[:0]
			for i := range keys {
				keys[i], vecs[i] = int64(done+i+1), g.next()
				for _, x := range vecs[i] {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
				}
			}
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
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
		buf = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		benchIndex.ix, benchIndex.vectors, benchIndex.heap = ix, f, after.HeapAlloc-before.HeapAlloc
		for q := 0; q < 200; q++ {
			benchIndex.queries = append(benchIndex.queries, g.next())
		}
		benchIndex.truth = exactTruth(b, f, n, dim, benchIndex.queries, 10)
		if dir := os.Getenv("DISTILL_BENCH_KEEP"); dir != "" {
			keepBench(b, dir)
		}
	})
}

// keepBench saves the built index, its vectors and the queries in dir, so
// that a later run with DISTILL_BENCH_KEEP=dir measures the same graph
// without building it again (a million vectors take a quarter of an hour).
func keepBench(b *testing.B, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	write := func(name string, fill func(*os.File) error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		if err := fill(f); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	meta := []byte(strconv.FormatFloat(benchIndex.build.Seconds(), 'f', 1, 64) + " " + strconv.FormatUint(benchIndex.heap, 10))
	write("index.hnsw", func(f *os.File) error { return benchIndex.ix.Write(f, meta) })
	write("vectors.f32", func(f *os.File) error {
		_, err := io.Copy(f, io.NewSectionReader(benchIndex.vectors, 0, 1<<62))
		return err
	})
	write("queries.f32", func(f *os.File) error {
		var buf []byte
		for _, q := range benchIndex.queries {
			for _, x := range q {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			}
		}
		_, err := f.Write(buf)
		return err
	})
}

// loadBench loads what keepBench saved, reporting whether there was any.
func loadBench(b *testing.B, dir string) bool {
	f, err := os.Open(filepath.Join(dir, "index.hnsw"))
	if err != nil {
		return false
	}
	defer f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix, meta, err := Read(f)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	var build float64
	fmt.Sscan(string(meta), &build)
	vectors, err := os.Open(filepath.Join(dir, "vectors.f32"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "queries.f32"))
	if err != nil {
		b.Fatal(err)
	}
	dim := ix.Dim()
	for off := 0; off+dim*4 <= len(raw); off += dim * 4 {
		q := make([]float32, dim)
		decodeFloats(raw[off:off+dim*4], q)
		benchIndex.queries = append(benchIndex.queries, q)
	}
	benchIndex.ix, benchIndex.vectors = ix, vectors
	benchIndex.build = time.Duration(build * float64(time.Second))
	benchIndex.heap = after.HeapAlloc - before.HeapAlloc
	benchIndex.truth = exactTruth(b, vectors, ix.Len(), dim, benchIndex.queries, 10)
	return true
}

// exactTruth ranks every stored float32 vector for each query: the ground
// truth, in one pass over the file.
func exactTruth(b *testing.B, f *os.File, n, dim int, queries [][]float32, k int) [][]Result {
	tops := make([]minHeap, len(queries))
	buf := make([]byte, 4096*dim*4)
	v := make([]float32, dim)
	for first := 0; first < n; first += 4096 {
		m := min(4096, n-first)
		if _, err := f.ReadAt(buf[:m*dim*4], int64(first)*int64(dim)*4); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < m; i++ {
			decodeFloats(buf[i*dim*4:(i+1)*dim*4], v)
			for qi, q := range queries {
				s, top := dot(q, v), &tops[qi]
				if len(*top) < k {
					top.push(candidate{uint32(first + i), s})
				} else if s > (*top)[0].sim {
					(*top)[0] = candidate{uint32(first + i), s}
					top.fix()
				}
			}
		}
	}
	out := make([][]Result, len(queries))
	for qi := range tops {
		for len(tops[qi]) > 0 {
			c := tops[qi].pop()
			out[qi] = append([]Result{{Key: int64(c.id) + 1, Score: c.sim}}, out[qi]...)
		}
	}
	return out
}

func decodeFloats(b []byte, v []float32) {
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
	}
}

// searchReranked is what a collection does: search the index, and for an
// int8 index read the best depth hits' vectors and re-rank them.
func searchReranked(ix *Index, f *os.File, q []float32, k, depth int, buf []byte) []Result {
	if ix.Storage() != Int8 {
		hits, _ := ix.Search(q, k)
		return hits
	}
	hits, _ := ix.Search(q, max(k, depth))
	dim := ix.Dim()
	vecs := make([][]float32, len(hits))
	for i, h := range hits {
		if _, err := f.ReadAt(buf, (h.Key-1)*int64(dim)*4); err != nil {
			continue
		}
		vecs[i] = make([]float32, dim)
		decodeFloats(buf, vecs[i])
	}
	return Rerank(q, hits, vecs, k)
}

// BenchmarkSearch reports the approximate search's p50 latency (with the
// re-ranking of an int8 index), its recall@10 against exact search, and
// the heap per vector.
func BenchmarkSearch(b *testing.B) {
	efs := []int{64, 96, 160}
	if list := os.Getenv("DISTILL_BENCH_EF"); list != "" {
		efs = nil
		for _, f := range strings.Split(list, ",") {
			if ef, err := strconv.Atoi(f); err == nil && ef > 0 {
				efs = append(efs, ef)
			}
		}
	}
	for _, ef := range efs {
		b.Run("ef="+strconv.Itoa(ef), func(b *testing.B) { benchSearch(b, ef) })
	}
}

func benchSearch(b *testing.B, ef int) {
	setupBench(b)
	ix, f := benchIndex.ix, benchIndex.vectors
	ix.SetEfSearch(ef)
	depth := benchEnv("DISTILL_BENCH_RERANK", 40)
	buf := make([]byte, ix.Dim()*4)
	qs := benchIndex.queries
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]int64, 0, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, c := time.Now(), threadCPU()
		searchReranked(ix, f, qs[i%len(qs)], 10, depth, buf)
		cpu = append(cpu, threadCPU()-c)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	slices.Sort(cpu)
	var r float64
	for i, q := range qs {
		r += recall(searchReranked(ix, f, q, 10, depth, buf), benchIndex.truth[i])
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
