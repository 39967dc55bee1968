package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/store"
)

// BenchmarkFilteredSearch compares BM25 and dense queries with and
// without a filter that selects 1% of the chunks (one document of 100,
// by a meta key), in the same run. The goal: filtered no slower than 2x
// unfiltered. 10k chunks by default; DISTILL_BENCH_FILTER_CHUNKS=100000
// for the size (the build takes a minute or two).
func BenchmarkFilteredSearch(b *testing.B) {
	n := 10000
	if v := os.Getenv("DISTILL_BENCH_FILTER_CHUNKS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("DISTILL_BENCH_FILTER_CHUNKS=%q: want a number of chunks, at least 100", v)
		}
	}
	const docs, dim = 100, 128
	ctx := context.Background()
	s, err := OpenStore(ctx, filepath.Join(b.TempDir(), "c"), store.Options{Create: true, Splits: []store.Split{{Name: "chunks", Size: 2000, Search: true}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	prose := testsupport.Prose(7, n*400)
	words := strings.Fields(prose)
	for d := 0; d < docs; d++ {
		source := fmt.Sprintf("/bench/%03d.txt", d)
		w, err := s.BeginVectors(ctx, document.Document{ID: document.IDFor(source), Source: source, Type: "text", Meta: map[string]string{"shard": strconv.Itoa(d)}}, "random")
		if err != nil {
			b.Fatal(err)
		}
		for p := 0; p < n/docs; p++ {
			i := (d*(n/docs) + p) * 60 % max(1, len(words)-60)
			text := strings.Join(words[i:i+60], " ")
			if err := w.AddPage(ctx, document.Page{Number: p + 1, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1, Vector: vec()}}); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	one, err := store.ParseFilter([]string{"shard=42"})
	if err != nil {
		b.Fatal(err)
	}
	// Questions of frequent words, as BenchmarkAsk's: long postings lists.
	var queries []string
	for i := 0; i < 64; i++ {
		j := rng.IntN(len(words) - 4)
		queries = append(queries, strings.Join(words[j:j+4], " "))
	}
	qvecs := make([][]float32, 64)
	for i := range qvecs {
		qvecs[i] = vec()
	}
	// Warm up: build the vector index outside the timings.
	if _, err := s.SearchVector(ctx, "chunks", qvecs[0], 4); err != nil {
		b.Fatal(err)
	}
	const k = 10
	for _, bc := range []struct {
		name string
		run  func(i int) ([]document.Passage, error)
	}{
		{"bm25/all", func(i int) ([]document.Passage, error) { return s.SearchText(ctx, "chunks", queries[i%64], k) }},
		{"bm25/1pct", func(i int) ([]document.Passage, error) {
			return s.SearchTextFiltered(ctx, "chunks", queries[i%64], k, one)
		}},
		{"dense/all", func(i int) ([]document.Passage, error) { return s.SearchVector(ctx, "chunks", qvecs[i%64], k) }},
		{"dense/1pct", func(i int) ([]document.Passage, error) {
			return s.SearchVectorFiltered(ctx, "chunks", qvecs[i%64], k, one)
		}},
	} {
		b.Run(fmt.Sprintf("chunks=%d/%s", n, bc.name), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				ps, err := bc.run(i)
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasSuffix(bc.name, "1pct") {
					for _, p := range ps {
						if p.Source != "/bench/042.txt" {
							b.Fatalf("filtered search returned %s", p.Source)
						}
					}
				}
			}
		})
	}
}
