package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/server"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
	benchInfo string
)

// benchCollection builds, once per process, a data directory whose default
// collection holds synthetic documents: about 10,000 chunks in the
// "chunks" split that regular searches (and about four times as many
// 400-character children that parent searches).
func benchCollection(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "distill-bench-")
		if benchErr != nil {
			return
		}
		files := filepath.Join(benchDir, "files")
		os.MkdirAll(files, 0o755)
		rng := rand.New(rand.NewPCG(1, 2))
		vocab := make([]string, 6000)
		syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "bra", "cle", "dro", "fin", "gal", "hur", "jex", "mon", "pel", "qua", "sto"}
		for i := range vocab {
			var w strings.Builder
			for j := 0; j < 2+rng.IntN(3); j++ {
				w.WriteString(syll[rng.IntN(len(syll))])
			}
			vocab[i] = w.String()
		}
		zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, uint64(len(vocab)-1))
		const docs, pages, pageChars = 100, 30, 3000 // 9 MB of text
		for d := 0; d < docs; d++ {
			var text strings.Builder
			for p := 0; p < pages; p++ {
				if p > 0 {
					text.WriteString("\f")
				}
				n := 0
				for n < pageChars {
					var s strings.Builder
					for k := 0; k < 8+rng.IntN(12); k++ {
						if k > 0 {
							s.WriteByte(' ')
						}
						s.WriteString(vocab[zipf.Uint64()])
					}
					s.WriteString(". ")
					text.WriteString(s.String())
					n += s.Len()
				}
				text.WriteString("\n")
			}
			os.WriteFile(filepath.Join(files, fmt.Sprintf("doc-%03d.txt", d)), []byte(text.String()), 0o644)
		}
		ctx := context.Background()
		eng, err := distill.Open(ctx, distill.Options{DB: filepath.Join(benchDir, "data", "default"), Create: true, Models: distill.Models{LLM: "none", Embed: "none", Rerank: "none"}})
		if err != nil {
			benchErr = err
			return
		}
		defer eng.Close()
		start := time.Now()
		rep, err := eng.Ingest(ctx, []string{files}, ingest.Options{})
		if err != nil || rep.Count(ingest.Failed) > 0 {
			benchErr = fmt.Errorf("ingest: %v %+v", err, rep.Failures())
			return
		}
		chunks, err := countChunks(eng)
		if err != nil {
			benchErr = err
			return
		}
		benchInfo = fmt.Sprintf("%d documents, %d chunks in all splits, ingested in %s", docs, chunks, time.Since(start).Round(time.Second))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "data")
}

func countChunks(eng *distill.Engine) (int, error) {
	docs, err := eng.Documents(context.Background())
	n := 0
	for _, d := range docs {
		n += d.Chunks
	}
	return n, err
}

// BenchmarkAskConcurrent measures POST ask (offline default) with 32
// concurrent clients against the synthetic collection: requests per
// second and latency percentiles. Target: p99 under 50 ms.
func BenchmarkAskConcurrent(b *testing.B) {
	// Measure what `distill serve` runs: it tunes the collector the same way.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	server.TuneGC()
	for _, technique := range []string{"regular", "parent"} {
		b.Run(technique, func(b *testing.B) {
			data := benchCollection(b)
			srv, err := server.New(context.Background(), server.Config{DataDir: data})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			defer func() { ts.Close(); srv.Close(context.Background()) }()
			b.Log(benchInfo)
			const clients = 32
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			rng := rand.New(rand.NewPCG(5, 6))
			var questions [][]byte
			for i := 0; i < 256; i++ {
				q := fmt.Sprintf(`{"question": "What does the %s say about %s and %s?", "technique": %q}`,
					[]string{"report", "letter", "record"}[i%3], benchWord(rng), benchWord(rng), technique)
				questions = append(questions, []byte(q))
			}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						resp, err := client.Post(ts.URL+"/v1/collections/default/ask", "application/json", bytes.NewReader(questions[i%int64(len(questions))]))
						if err != nil {
							failed.Add(1)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							failed.Add(1)
						}
						lat[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d requests failed", failed.Load())
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// benchWord picks a word the synthetic documents use.
func benchWord(rng *rand.Rand) string {
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "bra", "cle", "dro", "fin", "gal", "hur", "jex", "mon", "pel", "qua", "sto"}
	return syll[rng.IntN(len(syll))] + syll[rng.IntN(len(syll))]
}
