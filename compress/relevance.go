package compress

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/textproc"
)

func init() { Register("relevance", buildRelevance) }

// Relevance is the offline filter: it drops passages that hold less than
// MinCoverage of the question's term weight, or less than RelativeToBest
// times what the best passage holds; weights are inverse frequencies over
// the passages judged together. Passages it keeps are unchanged. It is
// deterministic and costs no model call.
type Relevance struct {
	MinCoverage    float64
	RelativeToBest float64
}

type relevanceParams struct {
	config.Typed     `yaml:",inline"`
	relevanceOptions `yaml:",inline"`
}

type relevanceOptions struct {
	MinCoverage    float64 `yaml:"min_coverage"`
	RelativeToBest float64 `yaml:"relative_to_best"`
}

func defaultRelevanceOptions() relevanceOptions {
	return relevanceOptions{MinCoverage: 0.1, RelativeToBest: 0.6}
}

func buildRelevance(_ Env, stage config.Stage) (Compressor, error) {
	p := relevanceParams{relevanceOptions: defaultRelevanceOptions()}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	return p.build(stage)
}

func (p relevanceOptions) build(stage config.Stage) (*Relevance, error) {
	if p.MinCoverage < 0 || p.MinCoverage > 1 {
		return nil, stage.ParamError("min_coverage", "must be in [0, 1], got %g", p.MinCoverage)
	}
	if p.RelativeToBest < 0 || p.RelativeToBest > 1 {
		return nil, stage.ParamError("relative_to_best", "must be in [0, 1], got %g", p.RelativeToBest)
	}
	return &Relevance{MinCoverage: p.MinCoverage, RelativeToBest: p.RelativeToBest}, nil
}

// Compress keeps the passages that cover enough of the question.
func (r *Relevance) Compress(_ context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	q := textproc.ContentTerms(query)
	units := make([]textproc.TermSet, len(passages))
	for i, p := range passages {
		units[i] = textproc.ContentTerms(p.Text)
	}
	weights := textproc.QueryWeights(q, units)
	coverage := make([]float64, len(passages))
	best := 0.0
	for i := range passages {
		coverage[i] = textproc.Coverage(weights, units[i])
		best = max(best, coverage[i])
	}
	bar := max(r.MinCoverage, r.RelativeToBest*best)
	var out []document.Passage
	var rep Report
	for i, p := range passages {
		if coverage[i] >= bar && coverage[i] > 0 {
			out = append(out, p)
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("dropped %s: covers %.0f%% of the question, under %.0f%%", p.ChunkID, 100*coverage[i], 100*bar))
		}
	}
	return out, rep, nil
}
