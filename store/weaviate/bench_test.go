package weaviate_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// benchChunks is the size of the benchmark collection:
// DISTILL_BENCH_CHUNKS, default 20000 (100000 takes some minutes here).
func benchChunks() int {
	if n, err := strconv.Atoi(os.Getenv("DISTILL_BENCH_CHUNKS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

type benchDoc struct {
	doc   document.Document
	pages []document.Page
}

// benchCorpus makes documents until they hold about n chunks.
func benchCorpus(n int) []benchDoc {
	var out []benchDoc
	total := 0
	for i := 0; total < n; i++ {
		doc, pages := corpusDoc(i, 20, "")
		doc.Source = fmt.Sprintf("/bench/doc%05d.txt", i)
		doc.ID = document.IDFor(doc.Source)
		for _, p := range pages {
			total += len(chunksWithVectors(p.Text, false))
		}
		out = append(out, benchDoc{doc, pages})
	}
	return out
}

// ingestAll writes the corpus with GOMAXPROCS writers, as distill ingest
// does, and returns the chunks written.
func ingestAll(b *testing.B, s store.Store, docs []benchDoc) int {
	ctx := context.Background()
	var mu sync.Mutex
	chunks := 0
	next := make(chan benchDoc)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				wr, err := begin(ctx, s, d.doc, true)
				if err != nil {
					b.Error(err)
					return
				}
				n := 0
				for _, p := range d.pages {
					cs := chunksWithVectors(p.Text, true)
					n += len(cs)
					if err := wr.AddPage(ctx, p, cs); err != nil {
						b.Error(err)
						wr.Rollback()
						return
					}
				}
				if err := wr.Commit(ctx); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				chunks += n
				mu.Unlock()
			}
		}()
	}
	for _, d := range docs {
		next <- d
	}
	close(next)
	wg.Wait()
	return chunks
}

var benchQueries = []string{"zeppelin airship", "glacier crevasse moraine", "saxophone", "volcano caldera", "harbor beacon keeper",
	"pear cider orchard", "quarterly revenue growth", "cloud infrastructure investment", "delivery logistics safety", "advertising margins"}

// latencies runs fn b.N times and reports p50 and p99 in milliseconds.
func latencies(b *testing.B, fn func(i int) error) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkStores compares the embedded store and a single-node Weaviate
// on the same collection: ingest throughput (chunks/s, vectors included
// for Weaviate) and query latency percentiles.
func BenchmarkStores(b *testing.B) {
	docs := benchCorpus(benchChunks())
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"embedded", func(b *testing.B) store.Store { return newSQLite(b) }},
		{"weaviate", func(b *testing.B) store.Store {
			s, _ := newWeaviate(b, os.Getenv("DISTILL_BENCH_WEAVIATE_OPTS"))
			return s
		}},
	}
	for _, st := range stores {
		// One ingest of the whole collection, timed here and reported by
		// the ingest sub-benchmark, which b.N cannot repeat.
		s := st.open(b)
		start := time.Now()
		n := ingestAll(b, s, docs)
		el := time.Since(start)
		b.Run(st.name+"/ingest", func(b *testing.B) {
			b.ReportMetric(float64(n)/el.Seconds(), "chunks/s")
			b.ReportMetric(float64(n), "chunks")
			b.ReportMetric(0, "ns/op")
		})
		ctx := context.Background()
		b.Run(st.name+"/bm25", func(b *testing.B) {
			latencies(b, func(i int) error {
				_, err := s.SearchText(ctx, "chunks", benchQueries[i%len(benchQueries)], 4)
				return err
			})
		})
		if vs, ok := s.(store.VectorStore); ok {
			if e, _ := vs.Embedding(ctx); e.Dim > 0 {
				b.Run(st.name+"/dense", func(b *testing.B) {
					latencies(b, func(i int) error {
						_, err := vs.SearchVector(ctx, "chunks", embed(benchQueries[i%len(benchQueries)]), 4)
						return err
					})
				})
			}
		}
		b.Run(st.name+"/parents", func(b *testing.B) {
			children, err := s.SearchText(ctx, "children", "harbor beacon", 4)
			if err != nil {
				b.Fatal(err)
			}
			latencies(b, func(int) error { _, err := s.Parents(ctx, ids(children)); return err })
		})
	}
}
