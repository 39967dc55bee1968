package eval

import (
	"math"
	"slices"
	"testing"
)

// The expected values below were worked out by hand from trec_eval's
// definitions (log2 discounts written out in the comments).
func TestRankingMetrics(t *testing.T) {
	j := Judgments{"a": 2, "b": 1, "c": 1, "d": 0}
	tests := []struct {
		name   string
		ranked []string
		metric func([]string, Judgments, int) float64
		k      int
		want   float64
	}{
		// DCG = 2/log2(3) + 1/log2(5) = 1.2618595 + 0.4306766
		// IDCG = 2/1 + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5
		{"ndcg@10", []string{"x", "a", "y", "c"}, NDCG, 10, 1.6925361 / 3.1309298},
		// only the first two count: 2/log2(3) over 2 + 1/log2(3)
		{"ndcg@2", []string{"x", "a", "y", "c"}, NDCG, 2, 1.2618595 / 2.6309298},
		{"ndcg perfect", []string{"a", "b", "c"}, NDCG, 10, 1},
		// a non-relevant judged document gains nothing
		{"ndcg judged zero", []string{"d"}, NDCG, 10, 0},
		{"ndcg empty run", nil, NDCG, 10, 0},
		{"recall@10", []string{"x", "a", "y", "c"}, Recall, 10, 2.0 / 3},
		{"recall@2", []string{"x", "a", "y", "c"}, Recall, 2, 1.0 / 3},
		{"mrr@10", []string{"x", "a", "y", "c"}, ReciprocalRank, 10, 0.5},
		{"mrr@1", []string{"x", "a", "y", "c"}, ReciprocalRank, 1, 0},
		// relevant at ranks 2 and 4: (1/2 + 2/4) / 3 relevant
		{"map@100", []string{"x", "a", "y", "c"}, AveragePrecision, 100, 1.0 / 3},
		{"map@3", []string{"x", "a", "y", "c"}, AveragePrecision, 3, 0.5 / 3},
		{"map all found first", []string{"b", "a", "c", "x"}, AveragePrecision, 100, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.metric(tc.ranked, j, tc.k); math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("got %.7f, want %.7f", got, tc.want)
			}
		})
	}
}

func TestMetricsWithoutRelevantDocuments(t *testing.T) {
	j := Judgments{"a": 0}
	for name, m := range map[string]func([]string, Judgments, int) float64{
		"ndcg": NDCG, "recall": Recall, "mrr": ReciprocalRank, "map": AveragePrecision,
	} {
		if got := m([]string{"a"}, j, 10); got != 0 {
			t.Errorf("%s = %v, want 0", name, got)
		}
	}
}

func TestRankDocsBreaksTiesLikeTrecEval(t *testing.T) {
	got := RankDocs(map[string]float64{"MED-1": 1, "MED-3": 2, "MED-2": 1, "MED-10": 1})
	want := []string{"MED-3", "MED-2", "MED-10", "MED-1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPercentile(t *testing.T) {
	values := []float64{15, 20, 35, 40, 50}
	tests := []struct {
		p    float64
		want float64
	}{{50, 35}, {95, 50}, {0, 15}, {100, 50}, {40, 20}}
	for _, tc := range tests {
		if got := Percentile(values, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
}
