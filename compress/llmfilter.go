package compress

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/document"
)

// LLMFilter is the study's LLM chain filter done carefully: for each
// passage the model answers whether it is relevant, concurrently. The
// first decisive word counts ("Yes, although it does not mention X" keeps
// the passage); an answer with neither YES nor NO keeps the passage, or
// drops it when KeepUndecided is false, and is noted either way. Passages
// are passed on unchanged, scores and all.
type LLMFilter struct {
	caller        *llmCaller
	KeepUndecided bool
}

// Compress keeps the passages the model judges relevant.
func (f *LLMFilter) Compress(ctx context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	var rep Report
	results, err := f.caller.each(ctx, query, passages)
	if err != nil {
		return nil, rep, err
	}
	var out []document.Passage
	dropped := 0
	for i, p := range passages {
		r := results[i]
		rep.Usage = rep.Usage.Add(r.Usage)
		if r.Err != nil {
			out = append(out, p)
			rep.Uncompressed++
			rep.Notes = append(rep.Notes, fmt.Sprintf("chunk %s not filtered: %s failed: %v", p.ChunkID, f.caller.LLM.Name(), r.Err))
			continue
		}
		switch parseVerdict(r.Text) {
		case relevant:
			out = append(out, p)
		case notRelevant:
			dropped++
		default:
			action := "kept"
			if f.KeepUndecided {
				out = append(out, p)
			} else {
				action = "dropped"
				dropped++
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("chunk %s: the answer %s says neither YES nor NO; %s", p.ChunkID, quote(r.Text), action))
		}
	}
	if dropped > 0 {
		rep.Notes = append(rep.Notes, "dropped "+pluralize(dropped, "passage")+" the model judged not relevant")
	}
	return out, rep, nil
}
