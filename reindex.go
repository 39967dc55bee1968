package distill

import (
	"context"
	"errors"
	"fmt"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

// ReindexOptions shape a re-embedding run.
type ReindexOptions struct {
	// Batch is how many chunks are embedded and stored per transaction;
	// 0 means 256. The embedding provider splits it into its own batches.
	Batch int
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
}

// ReindexReport is the outcome of a reindex.
type ReindexReport struct {
	Model    string `json:"model"`
	Dim      int    `json:"dim"`
	Previous string `json:"previous,omitempty"` // the model replaced, if any
	Embedded int    `json:"embedded"`           // chunks embedded by this run
	Chunks   int    `json:"chunks"`             // chunks the collection searches
}

// ErrNoEmbedder is returned by Reindex when no embedding model is configured.
var ErrNoEmbedder = errors.New("reindex needs an embedding model: pass --embed URI or set DISTILL_EMBED")

// Reindex embeds every searched chunk of the collection with the
// configured embedding model and then switches the collection to it. The
// collection keeps answering with its previous model until the switch,
// which happens in one transaction once every chunk has a vector; an
// interrupted run, run again, embeds only the chunks still missing.
func (e *Engine) Reindex(ctx context.Context, opts ReindexOptions) (*ReindexReport, error) {
	if e.embedder == nil {
		return nil, ErrNoEmbedder
	}
	vs, ok := e.store.(store.VectorWriter)
	if !ok {
		return nil, fmt.Errorf("collection %s: this store does not keep vectors", e.db)
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 256
	}
	name := e.embedder.Name()
	prev, err := vs.Embedding(ctx)
	if err != nil {
		return nil, err
	}
	rep := &ReindexReport{Model: name}
	if prev.Model != name {
		rep.Previous = prev.Model
	}
	var after int64
	total := -1
	// A concurrent ingest can add chunks behind the cursor; a few passes
	// pick them up, and ActivateEmbedding refuses to switch if any remain.
	for pass := 0; pass < 3; {
		chunks, remaining, err := vs.Unembedded(ctx, name, after, batch)
		if err != nil {
			return rep, err
		}
		if total < 0 {
			total = remaining
		}
		if len(chunks) == 0 {
			if remaining == 0 {
				break
			}
			after, pass = 0, pass+1
			continue
		}
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = c.Text
		}
		vecs, err := e.embedder.Embed(ctx, texts, model.ForDocuments)
		if err == nil && len(vecs) != len(texts) {
			err = fmt.Errorf("got %d vectors for %d texts", len(vecs), len(texts))
		}
		if err != nil {
			return rep, fmt.Errorf("embed with %s: %w (run distill reindex again to resume; %d of %d chunks are done)", name, err, rep.Embedded, total)
		}
		cvs := make([]store.ChunkVector, len(chunks))
		for i, c := range chunks {
			cvs[i] = store.ChunkVector{ID: c.ID, Vector: vecs[i]}
		}
		if err := vs.PutVectors(ctx, name, cvs); err != nil {
			return rep, err
		}
		rep.Embedded += len(chunks)
		after = chunks[len(chunks)-1].ID
		if opts.Progress != nil {
			opts.Progress(rep.Embedded, total)
		}
	}
	emb, err := vs.ActivateEmbedding(ctx, name)
	if err != nil {
		return rep, err
	}
	rep.Dim = emb.Dim
	if _, n, err := vs.Unembedded(ctx, "", 0, 0); err == nil {
		rep.Chunks = n
	}
	return rep, nil
}
