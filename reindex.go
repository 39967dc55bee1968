package distill

import (
	"context"
	"errors"
	"fmt"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
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

// ResplitOptions shape a resplit run.
type ResplitOptions struct {
	// Progress, when set, is called after each document.
	Progress func(done, total int)
}

// ResplitReport is the outcome of a resplit.
type ResplitReport struct {
	Added     []string `json:"added,omitempty"`   // splits the collection did not have
	Changed   []string `json:"changed,omitempty"` // splits whose parameters changed
	Removed   []string `json:"removed,omitempty"` // splits the configuration no longer has
	Documents int      `json:"documents"`         // documents rewritten by this run
	Chunks    int      `json:"chunks"`            // chunks they have now
	Resumed   bool     `json:"resumed,omitempty"` // an interrupted run was continued
}

// Resplit makes the collection's splits those of the configuration: splits
// it lacks are built, splits whose size, overlap, parent or search changed
// are rebuilt, and splits the configuration dropped go. Every document is
// rewritten from its stored page text, each in its own transaction (with
// vectors from the collection's model when it has them), so no loader or
// source file is needed; an interrupted run, run again, rewrites only the
// documents still left. Nothing happens when the splits already match.
func (e *Engine) Resplit(ctx context.Context, opts ResplitOptions) (*ResplitReport, error) {
	rs, ok := e.store.(store.Resplitter)
	exp, canExport := e.store.(store.Exporter)
	if !ok || !canExport {
		return nil, fmt.Errorf("collection %s: this store cannot change its splits; ingest into a new collection", e.db)
	}
	target := e.cfg.Splits
	if err := ingest.CheckSplits(target); err != nil {
		return nil, err
	}
	rep := diffSplits(e.splits, target)
	changing := len(rep.Added)+len(rep.Changed)+len(rep.Removed) > 0
	pending, err := rs.StartResplit(ctx, target)
	if err != nil {
		return nil, err
	}
	rep.Resumed = !changing && len(pending) > 0
	e.splits = append([]store.Split(nil), target...)
	e.warnings = nil
	in := ingest.Ingester{Store: e.store, Splits: e.splits, Embedder: e.embedder}
	if len(pending) > 1 {
		defer in.Bulk(ctx)()
	}
	for i, source := range pending {
		n, err := e.rewrite(ctx, &in, exp, source)
		if err != nil {
			return rep, fmt.Errorf("%w (run distill reindex again to resume; %d of %d documents are done)", err, rep.Documents, len(pending))
		}
		rep.Documents++
		rep.Chunks += n
		if opts.Progress != nil {
			opts.Progress(i+1, len(pending))
		}
	}
	if err := rs.FinishResplit(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// rewrite rewrites one document from its stored pages; a document removed
// meanwhile is skipped.
func (e *Engine) rewrite(ctx context.Context, in *ingest.Ingester, exp store.Exporter, source string) (int, error) {
	info, err := e.store.Document(ctx, source)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	doc, err := exp.ExportDocument(ctx, info.ID)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", source, err)
	}
	pages := make([]document.Page, len(doc.Pages))
	for j, p := range doc.Pages {
		pages[j] = p.Page
	}
	n, err := in.Rewrite(ctx, doc.Document, pages)
	if err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", source, err)
	}
	return n, nil
}

// diffSplits names the splits added, changed and removed from have to want.
func diffSplits(have, want []store.Split) *ResplitReport {
	rep := &ResplitReport{}
	old := map[string]store.Split{}
	for _, sp := range have {
		old[sp.Name] = sp
	}
	kept := map[string]bool{}
	for _, sp := range want {
		kept[sp.Name] = true
		switch o, ok := old[sp.Name]; {
		case !ok:
			rep.Added = append(rep.Added, sp.Name)
		case o != sp:
			rep.Changed = append(rep.Changed, sp.Name)
		}
	}
	for _, sp := range have {
		if !kept[sp.Name] {
			rep.Removed = append(rep.Removed, sp.Name)
		}
	}
	return rep
}
