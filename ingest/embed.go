package ingest

import (
	"context"
	"fmt"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

// page is a loaded page with its chunks, waiting to be written.
type page struct {
	p      document.Page
	chunks []store.Chunk
}

// EmbedError is a failure to embed a document's chunks; nothing of the
// document was written, and ingesting it again redoes only it.
type EmbedError struct {
	Source string
	Model  string
	Err    error
}

func (e *EmbedError) Error() string {
	return fmt.Sprintf("%s: embed with %s: %v", e.Source, e.Model, e.Err)
}

func (e *EmbedError) Unwrap() error { return e.Err }

// checkEmbedding refuses a run whose vectors the collection could not take:
// another model than the collection's, or none for an embedded collection.
// The store checks again inside each transaction; this says it once.
func (in *Ingester) checkEmbedding(ctx context.Context) error {
	vs, ok := in.Store.(store.VectorWriter)
	if !ok {
		if in.Embedder != nil {
			return fmt.Errorf("this store does not keep vectors; ingest without --embed")
		}
		return nil
	}
	emb, err := vs.Embedding(ctx)
	if err != nil {
		return err
	}
	switch {
	case emb.Model == "":
		return nil // the store refuses vectors for a collection with unembedded documents
	case in.Embedder == nil:
		return &store.EmbeddingMismatchError{Collection: emb, Reason: fmt.Sprintf("pass --embed %s (or set DISTILL_EMBED) to add documents to it", emb.Model)}
	case in.Embedder.Name() != emb.Model:
		return &store.EmbeddingMismatchError{Collection: emb, Got: store.Embedding{Model: in.Embedder.Name()},
			Reason: fmt.Sprintf("use --embed %s, or switch the collection with distill reindex --embed %s", emb.Model, in.Embedder.Name())}
	}
	return nil
}

func (in *Ingester) begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	if in.Embedder == nil {
		return in.Store.Begin(ctx, doc)
	}
	return in.Store.(store.VectorWriter).BeginVectors(ctx, doc, in.Embedder.Name())
}

func (in *Ingester) searched() map[string]bool {
	out := map[string]bool{}
	for _, sp := range in.Splits {
		if sp.Search {
			out[sp.Name] = true
		}
	}
	return out
}

// embedDocument embeds the searched chunks of all of a document's pages in
// one call, which the embedding provider batches.
func (in *Ingester) embedDocument(ctx context.Context, source string, pages []page) error {
	if in.Embedder == nil {
		return nil
	}
	searched := in.searched()
	var texts []string
	var targets []*store.Chunk
	for _, pg := range pages {
		for i := range pg.chunks {
			c := &pg.chunks[i]
			if searched[c.Split] {
				texts = append(texts, pg.p.Text[c.Start:c.End])
				targets = append(targets, c)
			}
		}
	}
	if len(texts) == 0 {
		return nil
	}
	vecs, err := in.Embedder.Embed(ctx, texts, model.ForDocuments)
	if err == nil && len(vecs) != len(texts) {
		err = fmt.Errorf("got %d vectors for %d texts", len(vecs), len(texts))
	}
	if err != nil {
		return &EmbedError{Source: source, Model: in.Embedder.Name(), Err: err}
	}
	for i, c := range targets {
		c.Vector = vecs[i]
	}
	return nil
}

// embed embeds one streamed page's chunks.
func (in *Ingester) embed(ctx context.Context, source, text string, chunks []store.Chunk) error {
	return in.embedDocument(ctx, source, []page{{p: document.Page{Text: text}, chunks: chunks}})
}
