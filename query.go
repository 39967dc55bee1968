package distill

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/store"
)

// QueryOption shapes one query (Ask, AskStream, AskConversation, Compare,
// Retrieve).
type QueryOption func(*queryOptions)

type queryOptions struct {
	where *store.Filter
}

// Where limits retrieval to the chunks f allows. The filter is applied
// inside each retriever's store search, before the top k is cut, so a
// technique still returns k passages when at least k pass. A nil or empty
// filter allows everything.
func Where(f *store.Filter) QueryOption {
	return func(o *queryOptions) { o.where = f }
}

// ParseWhere parses filter expressions ("year>=2021", "source~*/2021*"),
// ANDed; see store.ParseFilter. Errors are *store.FilterError.
func ParseWhere(exprs []string) (*store.Filter, error) { return store.ParseFilter(exprs) }

// queryContext applies opts: the filter travels to the retrievers on the
// context (store.WithFilter), since retrievers are built once per
// technique and serve every query.
func (e *Engine) queryContext(ctx context.Context, opts []QueryOption) (context.Context, error) {
	var o queryOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.where.Empty() {
		return ctx, nil
	}
	if _, ok := e.store.(store.FilterSearcher); !ok {
		return nil, &store.NoFilterError{Store: fmt.Sprintf("%T", e.store)}
	}
	return store.WithFilter(ctx, o.where), nil
}
