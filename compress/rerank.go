package compress

import (
	"context"
	"fmt"
	"sort"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
)

func init() { Register("rerank", buildRerank) }

// Rerank orders passages by a cross-encoder's judgement of how well each
// answers the question, as the study's compression diagram does before
// compressing, and keeps the best TopN (all when 0) scoring at least
// MinScore. Unlike the other compressors it reorders: the passages it
// returns are best first, each scored by the reranker. When the reranker
// fails the passages keep their retrieval order (cut to TopN) with a note,
// unless Strict.
type Rerank struct {
	Reranker model.Reranker
	TopN     int
	MinScore *float64
	Strict   bool
}

type rerankParams struct {
	config.Typed `yaml:",inline"`
	TopN         int      `yaml:"top_n"`
	MinScore     *float64 `yaml:"min_score"`
	Strict       bool     `yaml:"strict"`
}

func buildRerank(env Env, stage config.Stage) (Compressor, error) {
	var p rerankParams
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if p.TopN < 0 {
		return nil, stage.ParamError("top_n", "must be 0 (all) or a positive number of passages, got %d", p.TopN)
	}
	if env.Reranker == nil {
		return &Unavailable{Err: missingModel(stage, "rerank")}, nil
	}
	return &Rerank{Reranker: env.Reranker, TopN: p.TopN, MinScore: p.MinScore, Strict: p.Strict}, nil
}

// Compress reorders the passages by the reranker's scores.
func (r *Rerank) Compress(ctx context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	var rep Report
	if len(passages) == 0 {
		return nil, rep, nil
	}
	texts := make([]string, len(passages))
	for i, p := range passages {
		texts[i] = p.Text
	}
	rep.Usage = cost.Usage{RerankCalls: 1}
	scores, err := r.Reranker.Rerank(ctx, query, texts)
	if err == nil && len(scores) != len(texts) {
		err = fmt.Errorf("returned %d scores for %d passages", len(scores), len(texts))
	}
	if err != nil {
		if r.Strict || ctx.Err() != nil {
			return nil, rep, fmt.Errorf("rerank with %s: %w", r.Reranker.Name(), err)
		}
		out := passages
		if r.TopN > 0 && len(out) > r.TopN {
			out = out[:r.TopN]
		}
		rep.Uncompressed = len(out)
		rep.Notes = append(rep.Notes, fmt.Sprintf("not reranked: %s failed: %v; kept the retrieval order", r.Reranker.Name(), err))
		return append([]document.Passage(nil), out...), rep, nil
	}
	order := make([]int, len(passages))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	var out []document.Passage
	below := 0
	for _, i := range order {
		if r.MinScore != nil && scores[i] < *r.MinScore {
			below++
			continue
		}
		if r.TopN > 0 && len(out) == r.TopN {
			break
		}
		p := passages[i]
		p.Score = scores[i]
		out = append(out, p)
	}
	if below > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("dropped %s scoring under %g", pluralize(below, "passage"), *r.MinScore))
	}
	return out, rep, nil
}
