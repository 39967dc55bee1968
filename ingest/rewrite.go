package ingest

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/document"
)

// Rewrite writes a stored document again from its pages with the
// Ingester's splits (and vectors, with an Embedder), keeping its record:
// id, source, title, type, hash and metadata. It replaces the stored
// version in one transaction, as ingest does, and returns the chunks
// written.
func (in *Ingester) Rewrite(ctx context.Context, doc document.Document, pages []document.Page) (int, error) {
	if err := CheckSplits(in.Splits); err != nil {
		return 0, err
	}
	buffered := make([]page, len(pages))
	for i, p := range pages {
		buffered[i] = page{p, Chunks(in.Splits, p.Text)}
	}
	if err := in.embedDocument(ctx, doc.Source, buffered); err != nil {
		return 0, err
	}
	w, err := in.begin(ctx, doc)
	if err != nil {
		return 0, err
	}
	chunks := 0
	for _, pg := range buffered {
		if err := w.AddPage(ctx, pg.p, pg.chunks); err != nil {
			w.Rollback()
			return 0, err
		}
		chunks += len(pg.chunks)
	}
	if err := w.Commit(ctx); err != nil {
		w.Rollback()
		return 0, fmt.Errorf("rewrite %s: %w", doc.Source, err)
	}
	return chunks, nil
}
