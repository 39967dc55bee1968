package retrieve

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

func init() { Register("bm25", buildBM25) }

// BM25 ranks the chunks of one split by BM25.
type BM25 struct {
	Store TextSearcher
	Split string
	K     int
}

// Retrieve returns the top K chunks, of those the context's filter allows
// (see store.WithFilter).
func (r *BM25) Retrieve(ctx context.Context, query string) ([]document.Passage, error) {
	if f := store.FilterFrom(ctx); !f.Empty() {
		fs, ok := r.Store.(store.FilterSearcher)
		if !ok {
			return nil, &store.NoFilterError{Store: fmt.Sprintf("%T", r.Store)}
		}
		return fs.SearchTextFiltered(ctx, r.Split, query, r.K, f)
	}
	return r.Store.SearchText(ctx, r.Split, query, r.K)
}

type splitK struct {
	config.Typed `yaml:",inline"`
	Split        string `yaml:"split"`
	K            int    `yaml:"k"`
}

func (p *splitK) check(stage config.Stage) error {
	if p.Split == "" {
		return stage.ParamError("split", "is required")
	}
	if p.K <= 0 {
		return stage.ParamError("k", "must be a positive number of results, got %d", p.K)
	}
	return nil
}

func buildBM25(env Env, stage config.Stage) (Retriever, error) {
	p := splitK{K: 4}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.check(stage); err != nil {
		return nil, err
	}
	return &BM25{Store: env.Store, Split: p.Split, K: p.K}, nil
}
