package compress

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
)

func init() { Register("embeddings", buildEmbeddings) }

// EmbeddingsFilter drops passages whose embedding is not similar enough to
// the question's: under Threshold (cosine), or outside the TopK most
// similar. It costs two embedding calls and no LLM call. Passages keep
// their order and scores. When the embedding call fails the passages are
// passed on unfiltered with a note, unless Strict.
type EmbeddingsFilter struct {
	Embedder  model.Embedder
	Threshold *float64
	TopK      int
	Strict    bool
}

type embeddingsParams struct {
	config.Typed `yaml:",inline"`
	Threshold    *float64 `yaml:"threshold"`
	TopK         int      `yaml:"top_k"`
	Strict       bool     `yaml:"strict"`
}

func buildEmbeddings(env Env, stage config.Stage) (Compressor, error) {
	var p embeddingsParams
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if p.Threshold == nil && p.TopK == 0 {
		return nil, stage.ParamError("threshold", "give a similarity threshold, top_k or both")
	}
	if p.Threshold != nil && (*p.Threshold < -1 || *p.Threshold > 1) {
		return nil, stage.ParamError("threshold", "must be a cosine similarity in [-1, 1], got %g", *p.Threshold)
	}
	if p.TopK < 0 {
		return nil, stage.ParamError("top_k", "must be a positive number of passages, got %d", p.TopK)
	}
	if env.Embedder == nil {
		return &Unavailable{Err: missingModel(stage, "embed")}, nil
	}
	return &EmbeddingsFilter{Embedder: env.Embedder, Threshold: p.Threshold, TopK: p.TopK, Strict: p.Strict}, nil
}

// Compress keeps the passages most similar to the question.
func (f *EmbeddingsFilter) Compress(ctx context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	var rep Report
	if len(passages) == 0 {
		return nil, rep, nil
	}
	sims, usage, err := similarities(ctx, f.Embedder, query, passages)
	rep.Usage = usage
	if err != nil {
		if f.Strict || ctx.Err() != nil {
			return nil, rep, err
		}
		rep.Uncompressed = len(passages)
		rep.Notes = append(rep.Notes, fmt.Sprintf("not filtered: %v", err))
		return passages, rep, nil
	}
	keep := make([]bool, len(passages))
	order := make([]int, len(passages))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sims[order[a]] > sims[order[b]] })
	for rank, i := range order {
		keep[i] = (f.Threshold == nil || sims[i] >= *f.Threshold) && (f.TopK == 0 || rank < f.TopK)
	}
	var out []document.Passage
	for i, p := range passages {
		if keep[i] {
			out = append(out, p)
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("dropped %s: similarity %.2f to the question", p.ChunkID, sims[i]))
		}
	}
	return out, rep, nil
}

// similarities embeds the query and the passages and returns the cosine
// of each passage to the query.
func similarities(ctx context.Context, e model.Embedder, query string, passages []document.Passage) ([]float64, cost.Usage, error) {
	usage := cost.Usage{EmbedCalls: 1}
	qv, err := e.Embed(ctx, []string{query}, model.ForQuery)
	if err == nil && len(qv) != 1 {
		err = fmt.Errorf("returned %d vectors for 1 text", len(qv))
	}
	if err != nil {
		return nil, usage, fmt.Errorf("embed the question with %s: %w", e.Name(), err)
	}
	vs, err := embedPassages(ctx, e, passages)
	usage.EmbedCalls++
	if err != nil {
		return nil, usage, err
	}
	sims := make([]float64, len(vs))
	for i, v := range vs {
		sims[i] = cosine32(qv[0], v)
	}
	return sims, usage, nil
}

func embedPassages(ctx context.Context, e model.Embedder, passages []document.Passage) ([][]float32, error) {
	texts := make([]string, len(passages))
	for i, p := range passages {
		texts[i] = p.Text
	}
	vs, err := e.Embed(ctx, texts, model.ForDocuments)
	if err == nil && len(vs) != len(texts) {
		err = fmt.Errorf("returned %d vectors for %d texts", len(vs), len(texts))
	}
	if err != nil {
		return nil, fmt.Errorf("embed the passages with %s: %w", e.Name(), err)
	}
	return vs, nil
}

// cosine32 is the cosine similarity of two vectors (0 when either is zero
// or their lengths differ).
func cosine32(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
