package compress

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/document"
)

// LLMExtractor is the study's LLM chain extractor done carefully: for each
// passage the model copies out the parts relevant to the question, or says
// NO_OUTPUT to drop it. The calls for one question run concurrently. Each
// copied part is found again in the passage, so what is passed on is the
// source's own text with its real offsets and page; what the model wrote
// that is not in the passage is dropped and counted. A passage whose call
// fails, or whose answer holds nothing found in it, is passed on whole
// with a note saying why.
type LLMExtractor struct {
	caller *llmCaller
}

// Compress keeps the parts of each passage the model copies out.
func (e *LLMExtractor) Compress(ctx context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	var rep Report
	results, err := e.caller.each(ctx, query, passages)
	if err != nil {
		return nil, rep, err
	}
	var out []document.Passage
	dropped := 0
	for i, p := range passages {
		r := results[i]
		rep.Usage = rep.Usage.Add(r.Usage)
		if r.Truncated {
			rep.Notes = append(rep.Notes, fmt.Sprintf("chunk %s: the answer was cut at %d tokens", p.ChunkID, r.MaxTokens))
		}
		keepWhole := func(why string) {
			out = append(out, p)
			rep.Uncompressed++
			rep.Notes = append(rep.Notes, fmt.Sprintf("chunk %s not compressed: %s", p.ChunkID, why))
		}
		switch {
		case r.Err != nil:
			keepWhole(fmt.Sprintf("%s failed: %v", e.caller.LLM.Name(), r.Err))
			continue
		case isNoOutput(r.Text):
			dropped++
			continue
		case len(words(r.Text, 1)) == 0:
			keepWhole("the model's answer was empty")
			continue
		}
		m := matchBack(p, r.Text)
		rep.InventedChars += m.Invented
		if len(m.Spans) == 0 {
			if containsNoOutput(r.Text) {
				dropped++
				continue
			}
			keepWhole(fmt.Sprintf("none of the answer is in the chunk (%d characters dropped): %s", m.Invented, quote(r.Text)))
			continue
		}
		if m.Invented > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("chunk %s: %d characters of the answer are not in the chunk and were dropped", p.ChunkID, m.Invented))
		}
		out = append(out, p.Cut(m.Spans))
	}
	if dropped > 0 {
		rep.Notes = append(rep.Notes, "dropped "+pluralize(dropped, "passage")+" the model answered NO_OUTPUT for")
	}
	return out, rep, nil
}

// containsNoOutput finds NO_OUTPUT after some preamble ("Answer: NO_OUTPUT").
func containsNoOutput(answer string) bool {
	ws := words(answer, 0)
	for i, w := range ws {
		if w == "no_output" || w == "nooutput" || w == "no" && i+1 < len(ws) && ws[i+1] == "output" {
			return true
		}
	}
	return false
}
