package retrieve

import (
	"context"
	"sort"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"golang.org/x/sync/errgroup"
)

func init() { Register("hybrid", buildHybrid) }

// Hybrid runs BM25 and dense retrieval and fuses their rankings with
// reciprocal rank fusion (Cormack et al. 2009): a passage scores
// Σ weight / (rrfK + rank) over the rankings it appears in, so agreement
// between the two lifts a passage, and neither retriever's raw scores
// (unbounded BM25, cosine) need calibrating against the other's.
type Hybrid struct {
	Rankers []Ranker
	RRFK    float64
	K       int
}

// Ranker is one ranking that Hybrid fuses, with its weight.
type Ranker struct {
	Name      string
	Retriever Retriever
	Weight    float64
}

// Retrieve returns the top K fused passages.
func (h *Hybrid) Retrieve(ctx context.Context, query string) ([]document.Passage, error) {
	rankings := make([][]document.Passage, len(h.Rankers))
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range h.Rankers {
		g.Go(func() error {
			var err error
			rankings[i], err = r.Retriever.Retrieve(gctx, query)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	weights := make([]float64, len(h.Rankers))
	for i, r := range h.Rankers {
		weights[i] = r.Weight
	}
	return FuseRRF(rankings, weights, h.RRFK, h.K), nil
}

// FuseRRF fuses rankings (each best first) by reciprocal rank: a passage's
// score is Σ weights[i] / (rrfK + rank in ranking i), ranks from 1. Ties
// go to the passage with the better best rank, then to the one seen first.
// Passages are told apart by ChunkID; the fused score replaces theirs.
func FuseRRF(rankings [][]document.Passage, weights []float64, rrfK float64, k int) []document.Passage {
	type fused struct {
		p     document.Passage
		score float64
		best  int
		order int
	}
	byID := map[string]*fused{}
	var all []*fused
	for i, ranking := range rankings {
		for r, p := range ranking {
			rank := r + 1
			f := byID[p.ChunkID]
			if f == nil {
				f = &fused{p: p, best: rank, order: len(all)}
				byID[p.ChunkID] = f
				all = append(all, f)
			}
			f.score += weights[i] / (rrfK + float64(rank))
			f.best = min(f.best, rank)
		}
	}
	sort.SliceStable(all, func(a, b int) bool {
		if all[a].score != all[b].score {
			return all[a].score > all[b].score
		}
		if all[a].best != all[b].best {
			return all[a].best < all[b].best
		}
		return all[a].order < all[b].order
	})
	if k > 0 && len(all) > k {
		all = all[:k]
	}
	out := make([]document.Passage, len(all))
	for i, f := range all {
		out[i] = f.p
		out[i].Score = f.score
	}
	return out
}

type hybridParams struct {
	splitK     `yaml:",inline"`
	Candidates int      `yaml:"candidates"` // how many each retriever contributes
	RRFK       *float64 `yaml:"rrf_k"`
	Weights    struct {
		BM25  *float64 `yaml:"bm25"`
		Dense *float64 `yaml:"dense"`
	} `yaml:"weights"`
}

func buildHybrid(env Env, stage config.Stage) (Retriever, error) {
	p := hybridParams{splitK: splitK{K: 4}}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.check(stage); err != nil {
		return nil, err
	}
	rrfK, wb, wd := 60.0, 1.0, 1.0 // 60: the constant of the RRF paper
	if p.RRFK != nil {
		if rrfK = *p.RRFK; rrfK < 0 {
			return nil, stage.ParamError("rrf_k", "must be 0 or more, got %g", rrfK)
		}
	}
	if p.Weights.BM25 != nil {
		wb = *p.Weights.BM25
	}
	if p.Weights.Dense != nil {
		wd = *p.Weights.Dense
	}
	if wb < 0 || wd < 0 || wb+wd == 0 {
		return nil, stage.ParamError("weights", "must be 0 or more and not both 0, got bm25 %g, dense %g", wb, wd)
	}
	if p.Candidates == 0 {
		p.Candidates = max(4*p.K, 20)
	}
	if p.Candidates < p.K {
		return nil, stage.ParamError("candidates", "must be at least k (%d), got %d", p.K, p.Candidates)
	}
	vs, stand, err := vectorEnv(env, stage)
	if stand != nil || err != nil {
		return stand, err
	}
	return &Hybrid{K: p.K, RRFK: rrfK, Rankers: []Ranker{
		{Name: "bm25", Weight: wb, Retriever: &BM25{Store: env.Store, Split: p.Split, K: p.Candidates}},
		{Name: "dense", Weight: wd, Retriever: &Dense{Store: vs, Embedder: env.Embedder, Split: p.Split, K: p.Candidates}},
	}}, nil
}
