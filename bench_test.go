package distill_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
)

// BenchmarkIngestText measures ingest throughput of plain text (no
// embeddings): loading, splitting into the three default splits, BM25
// indexing and the transactional writes. Target: 20 MB/s.
func BenchmarkIngestText(b *testing.B) {
	dir := b.TempDir()
	const files, size = 8, 1 << 20
	for i := 0; i < files; i++ {
		testsupport.Write(b, dir, fmt.Sprintf("f%d.txt", i), []byte(testsupport.Prose(uint64(i), size)))
	}
	b.SetBytes(files * size)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		eng, err := distill.Open(ctx, distill.Options{DB: filepath.Join(b.TempDir(), "c"), Create: true, ConfigFile: os.DevNull})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := eng.Ingest(ctx, []string{dir}, ingest.Options{})
		if err != nil || rep.Count(ingest.Added) != files {
			b.Fatalf("ingest: %v, %+v", err, rep)
		}
		eng.Close()
	}
}

// BenchmarkIngestPDF measures PDF ingest in pages per second.
func BenchmarkIngestPDF(b *testing.B) {
	dir := b.TempDir()
	const pages = 40
	var texts []string
	for i := 0; i < pages; i++ {
		texts = append(texts, testsupport.Prose(uint64(i), 2500))
	}
	testsupport.PDF(b, dir, "doc.pdf", "Benchmark", texts...)
	ctx := context.Background()
	for b.Loop() {
		eng, err := distill.Open(ctx, distill.Options{DB: filepath.Join(b.TempDir(), "c"), Create: true, ConfigFile: os.DevNull})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := eng.Ingest(ctx, []string{dir}, ingest.Options{}); err != nil {
			b.Fatal(err)
		}
		eng.Close()
	}
	b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkAsk measures answering latency (retrieval, compression and the
// extractive answer) on collections whose children split holds about 10k
// and 100k chunks. Target: parent p50 under 5 ms at 100k on one core
// (-cpu 1). The collection is built once per size and reused.
func BenchmarkAsk(b *testing.B) {
	for _, size := range []int{10_000, 100_000} {
		eng := benchCollection(b, size)
		questions := benchQuestions(200)
		for _, tech := range []string{"regular", "parent", "extract", "filter"} {
			b.Run(fmt.Sprintf("chunks=%dk/%s", size/1000, tech), func(b *testing.B) {
				ctx := context.Background()
				var lat []time.Duration
				i := 0
				for b.Loop() {
					start := time.Now()
					if _, err := eng.Ask(ctx, questions[i%len(questions)], tech); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
					i++
				}
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			})
		}
	}
}

// benchCollection ingests enough prose for about children chunks in the
// children split (400 characters, overlap 200: one chunk per ~200 bytes).
func benchCollection(b *testing.B, children int) *distill.Engine {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("distill-bench-%dk", children/1000))
	db := filepath.Join(dir, "collection")
	ctx := context.Background()
	if _, err := os.Stat(filepath.Join(db, "collection.db")); err != nil {
		os.RemoveAll(dir)
		src := filepath.Join(dir, "src")
		const perFile = 1 << 20
		total := children * 200
		for i := 0; i*perFile < total; i++ {
			testsupport.Write(b, src, fmt.Sprintf("f%03d.txt", i), []byte(testsupport.Prose(uint64(1000+i), perFile)))
		}
		eng, err := distill.Open(ctx, distill.Options{DB: db, Create: true, ConfigFile: os.DevNull})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := eng.Ingest(ctx, []string{src}, ingest.Options{}); err != nil {
			b.Fatal(err)
		}
		eng.Close()
	}
	eng, err := distill.Open(ctx, distill.Options{DB: db, ConfigFile: os.DevNull})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng
}

// benchQuestions draws questions from the benchmark prose's vocabulary.
func benchQuestions(n int) []string {
	r := rand.New(rand.NewPCG(42, 42))
	words := strings.Fields(testsupport.Prose(99, 20000))
	out := make([]string, n)
	for i := range out {
		q := []string{"What"}
		for j := 0; j < 3+r.IntN(4); j++ {
			q = append(q, strings.Trim(words[r.IntN(len(words))], ".,"))
		}
		out[i] = strings.Join(q, " ") + "?"
	}
	return out
}
