package distill

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/store"
)

// Migrate copies the collection, with its vectors (nothing is loaded or
// embedded again), into the store at uri, creating it with the
// collection's splits when it does not exist; see store.Copy. Documents
// already there with the same source are replaced.
func (e *Engine) Migrate(ctx context.Context, uri string, progress func(store.CopyProgress)) (store.CopyReport, error) {
	dst, err := store.Open(ctx, uri, store.Options{Create: true, Splits: e.splits})
	if err != nil {
		return store.CopyReport{}, err
	}
	defer dst.Close()
	to := uri
	if n, ok := dst.(fmt.Stringer); ok {
		to = n.String()
	}
	return store.Copy(ctx, dst, e.store, e.DB(), to, progress)
}
