package eval

import (
	"math"
	"sort"
)

// Judgments are one query's graded relevance by document id; a grade above
// zero is relevant (trec_eval's default relevance level of 1).
type Judgments map[string]int

// relevant counts the documents judged relevant.
func (j Judgments) relevant() int {
	n := 0
	for _, g := range j {
		if g > 0 {
			n++
		}
	}
	return n
}

// RankDocs orders documents as trec_eval does: by score, highest first,
// and ties by document id in decreasing order. trec_eval ignores the
// order a run lists tied documents in, so the same tie-break is needed for
// the same numbers.
func RankDocs(scores map[string]float64) []string {
	ids := make([]string, 0, len(scores))
	for id := range scores {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		sa, sb := scores[ids[a]], scores[ids[b]]
		if sa != sb {
			return sa > sb
		}
		return ids[a] > ids[b]
	})
	return ids
}

// NDCG is trec_eval's ndcg_cut.k: the discounted cumulative gain of the
// first k documents, with the grade as gain and log2(rank+1) as discount,
// divided by that of the ideal ordering of all judged documents.
func NDCG(ranked []string, j Judgments, k int) float64 {
	var dcg float64
	for i, id := range cut(ranked, k) {
		if g := j[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	var gains []int
	for _, g := range j {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	var ideal float64
	for i, g := range gains {
		if i == k {
			break
		}
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// Recall is trec_eval's recall_k: the share of the relevant documents found
// in the first k.
func Recall(ranked []string, j Judgments, k int) float64 {
	rel := j.relevant()
	if rel == 0 {
		return 0
	}
	found := 0
	for _, id := range cut(ranked, k) {
		if j[id] > 0 {
			found++
		}
	}
	return float64(found) / float64(rel)
}

// ReciprocalRank is 1/rank of the first relevant document within the
// first k, else 0 (MRR@k once averaged over queries).
func ReciprocalRank(ranked []string, j Judgments, k int) float64 {
	for i, id := range cut(ranked, k) {
		if j[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// AveragePrecision is trec_eval's map_cut.k for one query: the precision at
// the rank of each relevant document found in the first k, summed and
// divided by the number of relevant documents (found or not).
func AveragePrecision(ranked []string, j Judgments, k int) float64 {
	rel := j.relevant()
	if rel == 0 {
		return 0
	}
	var sum float64
	found := 0
	for i, id := range cut(ranked, k) {
		if j[id] > 0 {
			found++
			sum += float64(found) / float64(i+1)
		}
	}
	return sum / float64(rel)
}

func cut(ranked []string, k int) []string {
	if len(ranked) > k {
		return ranked[:k]
	}
	return ranked
}

// Percentile is the nearest-rank percentile p (0-100) of values: the
// smallest value with at least p% of the values at or below it.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func mean(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
