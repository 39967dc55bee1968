package sqlite

import (
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// BenchmarkMergeBlocks merges eight segments of about 4,500 chunks of 60
// words of prose each, as the tier merge after eight 1 MiB documents does.
func BenchmarkMergeBlocks(b *testing.B) {
	const segments, chunks, words = 8, 4500, 60
	var all [][]block
	var offsets []int64
	postings := 0
	for s := 0; s < segments; s++ {
		text := strings.Fields(testsupport.Prose(uint64(s), chunks*words*7))
		var sp segmentPostings
		for c := 0; c < chunks && (c+1)*words <= len(text); c++ {
			tf := map[string]uint32{}
			for _, w := range text[c*words : (c+1)*words] {
				tf[strings.ToLower(strings.Trim(w, ".,"))]++
			}
			for term, n := range tf {
				sp.add(term, posting{chunk: int64(c), tf: n, dl: words})
			}
		}
		postings += sp.count
		all = append(all, sp.blocks())
		offsets = append(offsets, int64(s*chunks*2))
	}
	b.ReportMetric(float64(postings), "postings")
	for b.Loop() {
		srcs := make([]blockSource, len(all))
		for i := range all {
			m := memBlocks(all[i])
			srcs[i] = &m
		}
		if _, err := mergeBlocks(srcs, offsets, nil); err != nil {
			b.Fatal(err)
		}
	}
}
