package compress

import (
	"context"
	"fmt"
	"math"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/textproc"
)

func init() { Register("redundant", buildRedundant) }

// Redundant drops near-duplicate passages, such as the overlapping chunks
// of one page or one text ingested twice: a passage whose cosine
// similarity to a better-ranked kept one exceeds Threshold goes. With an
// embedding model the vectors are the model's (one embedding call);
// without one they are term frequencies, which catch copies and heavy
// overlap but not paraphrases.
type Redundant struct {
	Embedder  model.Embedder // nil: term frequencies
	Threshold float64
	Strict    bool
}

type redundantParams struct {
	config.Typed `yaml:",inline"`
	Threshold    float64 `yaml:"threshold"`
	Strict       bool    `yaml:"strict"`
}

func buildRedundant(env Env, stage config.Stage) (Compressor, error) {
	p := redundantParams{Threshold: 0.95}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if p.Threshold <= 0 || p.Threshold > 1 {
		return nil, stage.ParamError("threshold", "must be a cosine similarity in (0, 1], got %g", p.Threshold)
	}
	return &Redundant{Embedder: env.Embedder, Threshold: p.Threshold, Strict: p.Strict}, nil
}

// Compress keeps the first of each group of near-duplicates.
func (r *Redundant) Compress(ctx context.Context, _ string, passages []document.Passage) ([]document.Passage, Report, error) {
	var rep Report
	if len(passages) < 2 {
		return passages, rep, nil
	}
	sim := termSimilarity(passages)
	if r.Embedder != nil {
		vs, err := embedPassages(ctx, r.Embedder, passages)
		rep.Usage.EmbedCalls = 1
		if err != nil {
			if r.Strict || ctx.Err() != nil {
				return nil, rep, err
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("compared by terms instead: %v", err))
		} else {
			sim = func(i, j int) float64 { return cosine32(vs[i], vs[j]) }
		}
	}
	var out []document.Passage
	var kept []int
	for i, p := range passages {
		dup := -1
		for _, j := range kept {
			if s := sim(i, j); s > r.Threshold {
				dup = j
				rep.Notes = append(rep.Notes, fmt.Sprintf("dropped %s: %.2f similar to %s", p.ChunkID, s, passages[j].ChunkID))
				break
			}
		}
		if dup < 0 {
			kept = append(kept, i)
			out = append(out, p)
		}
	}
	return out, rep, nil
}

// termSimilarity compares passages by the cosine of their term frequencies.
func termSimilarity(passages []document.Passage) func(i, j int) float64 {
	tf := make([]map[string]float64, len(passages))
	norms := make([]float64, len(passages))
	for i, p := range passages {
		m := map[string]float64{}
		textproc.Content.ForEach(p.Text, func(t string, _, _ int) { m[t]++ })
		var n float64
		for _, c := range m {
			n += c * c
		}
		tf[i], norms[i] = m, math.Sqrt(n)
	}
	return func(i, j int) float64 {
		if norms[i] == 0 || norms[j] == 0 {
			return 0
		}
		var dot float64
		for t, c := range tf[i] {
			dot += c * tf[j][t]
		}
		return dot / (norms[i] * norms[j])
	}
}
