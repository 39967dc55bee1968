package distill

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

// Ingest adds files and directories to the collection; see ingest.Ingester.
func (e *Engine) Ingest(ctx context.Context, paths []string, opts ingest.Options) (*ingest.Report, error) {
	in := ingest.Ingester{Store: e.store, Splits: e.splits, Embedder: e.embedder}
	return in.Ingest(ctx, paths, opts)
}

// Documents lists the collection's documents.
func (e *Engine) Documents(ctx context.Context) ([]store.DocumentInfo, error) {
	docs, err := e.store.Documents(ctx)
	if docs == nil && err == nil {
		docs = []store.DocumentInfo{}
	}
	return docs, err
}

// Empty reports whether the collection holds no document, so that callers
// can say so instead of "no answer".
func (e *Engine) Empty(ctx context.Context) (bool, error) {
	if em, ok := e.store.(store.Emptier); ok {
		return em.Empty(ctx)
	}
	docs, err := e.store.Documents(ctx)
	return len(docs) == 0 && err == nil, err
}

// Matching returns the documents that Remove would remove for refs, so
// that a caller can show or confirm them first.
func (e *Engine) Matching(ctx context.Context, refs ...string) ([]store.DocumentInfo, error) {
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return nil, err
	}
	var match []store.DocumentInfo
	for _, d := range docs {
		if matchesRef(d, refs) {
			match = append(match, d)
		}
	}
	return match, nil
}

// Remove deletes documents named by id, by source path, or by a directory
// holding them. It returns the documents removed.
func (e *Engine) Remove(ctx context.Context, refs ...string) ([]store.DocumentInfo, error) {
	gone, err := e.Matching(ctx, refs...)
	if err != nil || len(gone) == 0 {
		return nil, err
	}
	ids := make([]string, len(gone))
	for i, d := range gone {
		ids[i] = d.ID
	}
	if _, err := e.store.Delete(ctx, ids...); err != nil {
		return nil, err
	}
	return gone, nil
}

func matchesRef(d store.DocumentInfo, refs []string) bool {
	for _, ref := range refs {
		if ref == d.ID || ref == d.Source {
			return true
		}
		abs, err := filepath.Abs(ref)
		if err != nil {
			continue
		}
		if abs == d.Source || strings.HasPrefix(d.Source, abs+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
