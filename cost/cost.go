// Package cost owns the accounting of what answering a question costs:
// model calls and tokens per stage (retrieval, rerank, compression,
// answer), context size before and after compression, and time.
package cost

import "time"

// Usage is what model calls cost.
type Usage struct {
	Calls            int  `json:"llm_calls"`
	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	Estimated        bool `json:"tokens_estimated,omitempty"` // counted locally, not reported by the provider
	Cached           int  `json:"cached_calls,omitempty"`     // LLM calls answered from the cache, at no cost
	RerankCalls      int  `json:"rerank_calls,omitempty"`
	EmbedCalls       int  `json:"embed_calls,omitempty"`
}

// Add sums u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Calls:            u.Calls + v.Calls,
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		Estimated:        u.Estimated || v.Estimated,
		Cached:           u.Cached + v.Cached,
		RerankCalls:      u.RerankCalls + v.RerankCalls,
		EmbedCalls:       u.EmbedCalls + v.EmbedCalls,
	}
}

// Stage is what one stage of a technique did and cost.
type Stage struct {
	Name      string `json:"name"` // "retrieve", "compress:extract", "answer"
	Usage     `json:",inline"`
	In        int      `json:"passages_in"`
	Out       int      `json:"passages_out"`
	CharsIn   int      `json:"chars_in"`
	CharsOut  int      `json:"chars_out"`
	LatencyMS float64  `json:"latency_ms"`
	Notes     []string `json:"notes,omitempty"` // e.g. which chunks were not compressed and why
	// Uncompressed counts the passages a compressor passed on whole because
	// its model call failed or gave nothing usable.
	Uncompressed int `json:"uncompressed,omitempty"`
	// InventedChars counts characters of model output that were not in the
	// passage and were dropped rather than passed on as a source.
	InventedChars int `json:"invented_chars,omitempty"`
}

// Since returns the milliseconds elapsed since t.
func Since(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
