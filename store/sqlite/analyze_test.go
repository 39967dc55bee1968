package sqlite

import (
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// BenchmarkAnalyze tokenizes 1 MiB of prose into term ids with a warm
// vocabulary, as a writer does for every page after the first documents.
func BenchmarkAnalyze(b *testing.B) {
	text := testsupport.Prose(1, 1<<20)
	w := &writer{}
	w.analyze(text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		w.analyze(text)
	}
	w.rollback()
}
