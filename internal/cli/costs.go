package cli

import (
	"fmt"
	"strings"

	"github.com/distill-rag/distill"
)

// printCostTables prints what each technique cost, side by side: passages
// and characters retrieved → answered from, calls, tokens and time; then
// the stages between retrieval and answer (rerank, compression) one per row.
func (a *app) printCostTables(cmp *distill.Comparison) {
	w := a.stdout
	var rows, stages [][]string
	for _, r := range cmp.Results {
		before := 0
		for _, s := range r.Stats.Stages {
			if s.Name == "retrieve" {
				before = s.CharsOut
			}
		}
		rows = append(rows, []string{r.Technique, fmt.Sprintf("%d → %d", r.Stats.Retrieved, len(r.Contexts)),
			thousands(before) + " → " + thousands(r.Stats.ContextChars), calls(r.Stats.LLMCalls, r.Stats.CachedCalls),
			tokenCount(r.Stats.PromptTokens+r.Stats.CompletionTokens, r.Stats.TokensEstimated), ms(r.Stats.LatencyMS)})
		for _, s := range r.Stats.Stages {
			if s.Name == "retrieve" || s.Name == "answer" && s.Calls == 0 {
				continue
			}
			c := calls(s.Calls, s.Cached)
			if s.RerankCalls > 0 {
				c = fmt.Sprintf("%d rerank", s.RerankCalls)
			} else if s.EmbedCalls > 0 {
				c = fmt.Sprintf("%d embed", s.EmbedCalls)
			}
			stages = append(stages, []string{r.Technique, strings.TrimPrefix(s.Name, "compress:"), fmt.Sprintf("%d → %d", s.In, s.Out),
				thousands(s.CharsIn) + " → " + thousands(s.CharsOut), c,
				tokenCount(s.PromptTokens+s.CompletionTokens, s.Estimated), ms(s.LatencyMS)})
		}
	}
	table(w, []string{"technique", "passages", "chars", "LLM calls", "tokens", "time"},
		[]bool{false, true, true, true, true, true}, rows)
	if len(stages) > 0 {
		fmt.Fprintln(w)
		table(w, []string{"technique", "stage", "passages", "chars", "calls", "tokens", "time"},
			[]bool{false, false, true, true, true, true, true}, stages)
	}
}

// calls shows LLM calls made and answered from the cache: "4", "4 cached",
// "1+3 cached".
func calls(n, cached int) string {
	switch {
	case cached == 0:
		return thousands(n)
	case n == 0:
		return thousands(cached) + " cached"
	}
	return thousands(n) + "+" + thousands(cached) + " cached"
}

func tokenCount(n int, estimated bool) string {
	if estimated && n > 0 {
		return "~" + thousands(n)
	}
	return thousands(n)
}

// faultNotes are the notes of stages that could not do their work on some
// chunks (a failed call, an answer not found in the chunk), which the user
// should see; routine notes (what a filter dropped) stay in the JSON.
func faultNotes(r *distill.Result) []string {
	var out []string
	for _, s := range r.Stats.Stages {
		if s.Uncompressed == 0 && s.InventedChars == 0 {
			continue
		}
		for _, n := range s.Notes {
			if strings.Contains(n, "not compressed") || strings.Contains(n, "not filtered") || strings.Contains(n, "not reranked") || strings.Contains(n, "not in the chunk") {
				out = append(out, s.Name+": "+n)
			}
		}
	}
	return out
}
