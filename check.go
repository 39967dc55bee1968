package distill

import (
	"context"

	"github.com/distill-rag/distill/store"
)

// Check verifies the collection (see store.Checker) and, with
// opts.Repair, rebuilds its derived indexes from the stored data.
func (e *Engine) Check(ctx context.Context, opts store.CheckOptions) (*store.CheckReport, error) {
	c, ok := e.store.(store.Checker)
	if !ok {
		return nil, &store.NotCheckableError{Store: e.db}
	}
	return c.Check(ctx, opts)
}
