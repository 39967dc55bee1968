package cost

import "testing"

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"Revenue grew 12% to $40 million in 2021.", 14}, // digits go in threes: "202", "1"
	}
	for _, tt := range tests {
		if got := EstimateTokens(tt.text); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestUsageAdd(t *testing.T) {
	a := Usage{Calls: 1, PromptTokens: 10, CompletionTokens: 2, Cached: 1, RerankCalls: 1}
	b := Usage{Calls: 2, PromptTokens: 5, CompletionTokens: 1, Estimated: true, EmbedCalls: 2}
	want := Usage{Calls: 3, PromptTokens: 15, CompletionTokens: 3, Estimated: true, Cached: 1, RerankCalls: 1, EmbedCalls: 2}
	if got := a.Add(b); got != want {
		t.Errorf("Add = %+v, want %+v", got, want)
	}
}
