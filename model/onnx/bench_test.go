package onnx

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport/onnxgen"
	"github.com/distill-rag/distill/model"
)

var (
	miniLMOnce sync.Once
	miniLMDir  string
	miniLMErr  error
)

// miniLM writes a model of all-MiniLM-L6-v2's shape with random weights
// once per test process.
func miniLM(b *testing.B) string {
	miniLMOnce.Do(func() {
		if miniLMDir, miniLMErr = os.MkdirTemp("", "distill-minilm-"); miniLMErr != nil {
			return
		}
		miniLMErr = onnxgen.New(onnxgen.MiniLM()).Write(miniLMDir, onnxgen.Files{Pooling: "mean", Normalize: true, MaxSeqLength: 256})
	})
	if miniLMErr != nil {
		b.Fatal(miniLMErr)
	}
	return miniLMDir
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEmbedMiniLM embeds passages of 40 words (about 50 tokens with
// this vocabulary) with a MiniLM-sized model. Besides wall-clock
// sentences/s it reports sentences per CPU-second, which does not depend
// on what else the machine runs, and the heap the loaded model holds.
func BenchmarkEmbedMiniLM(b *testing.B) {
	dir := miniLM(b)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	e, err := OpenEmbedder(context.Background(), "bench", dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	modelMB := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1e6

	words := strings.Fields("the revenue grew in june and the warehouse opened for solar lantern sales with fast delivery to zurich")
	for _, size := range []int{1, 32} {
		texts := make([]string, size)
		for i := range texts {
			var s []string
			for j := range 40 {
				s = append(s, words[(i*7+j)%len(words)])
			}
			texts[i] = strings.Join(s, " ")
		}
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			// The first run of a shape builds its graph; keep it out.
			if _, err := e.Embed(context.Background(), texts, model.ForDocuments); err != nil {
				b.Fatal(err)
			}
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := e.Embed(context.Background(), texts, model.ForDocuments); err != nil {
					b.Fatal(err)
				}
			}
			sentences := float64(b.N * size)
			b.ReportMetric(sentences/b.Elapsed().Seconds(), "sentences/s")
			b.ReportMetric(sentences/(cpuTime()-cpu0).Seconds(), "sentences/cpu-s")
			b.ReportMetric(modelMB, "model-heap-MB")
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1e3, "peak-RSS-MB")
			}
		})
	}
}
