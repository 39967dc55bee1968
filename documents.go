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

// Remove deletes documents named by id, by source path, or by a directory
// holding them. It returns the documents removed.
func (e *Engine) Remove(ctx context.Context, refs ...string) ([]store.DocumentInfo, error) {
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return nil, err
	}
	var gone []store.DocumentInfo
	var ids []string
	for _, d := range docs {
		if matchesRef(d, refs) {
			gone = append(gone, d)
			ids = append(ids, d.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
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
