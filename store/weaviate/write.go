package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// layout is what a document record says about the objects of its
// generation, so they can be read back by id without scanning.
type layout struct {
	Pages  []int          `json:"pages"`
	Splits map[string]int `json:"splits"` // chunks per split
}

type writer struct {
	s     *Store
	doc   document.Document
	model string // the embedding model of the chunks' vectors; "" for none
	gen   string
	lay   layout
	buf   []*models.Object
	done  bool
	// wrote says whether any object reached Weaviate, so Rollback knows
	// whether there is anything to delete.
	wrote bool
}

// Begin starts writing doc, without vectors, under a new generation.
// Nothing is visible until Commit writes the document record.
func (s *Store) Begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	return s.BeginVectors(ctx, doc, "")
}

// BeginVectors is Begin for a document whose searched chunks carry vectors
// from model. As in the embedded store, a collection embedded with one
// model takes no vectors from another and no documents without, and a
// collection holding documents without vectors takes none with.
func (s *Store) BeginVectors(ctx context.Context, doc document.Document, model string) (store.DocumentWriter, error) {
	if doc.ID == "" {
		doc.ID = document.IDFor(doc.Source)
	}
	s.mu.Lock()
	have := s.meta.Embedding
	s.mu.Unlock()
	switch {
	case have.Model != "" && model == "":
		return nil, s.fail("write "+doc.Source, &store.EmbeddingMismatchError{Collection: have,
			Reason: fmt.Sprintf("pass --embed %s (or set DISTILL_EMBED) to add documents to it", have.Model)})
	case have.Model != "" && model != have.Model:
		return nil, s.fail("write "+doc.Source, &store.EmbeddingMismatchError{Collection: have, Got: store.Embedding{Model: model},
			Reason: fmt.Sprintf("use --embed %s, or a new collection", have.Model)})
	case have.Model == "" && model != "":
		recs, err := s.search(ctx, "read documents", func(q *graphql.Search) *graphql.Search {
			return q.WithCollection(s.names.doc).WithLimit(1).WithProperties(propDocID).
				WithWhere(and(whereText(propKind, filters.Equal, kindDocument), whereText(propDocID, filters.NotEqual, doc.ID)))
		})
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			return nil, s.fail("write "+doc.Source, &store.EmbeddingMismatchError{Got: store.Embedding{Model: model},
				Reason: "its documents were ingested without one; ingest them again with --embed into a new collection"})
		}
	}
	return &writer{s: s, doc: doc, model: model, gen: uuid.NewString(), lay: layout{Splits: map[string]int{}}}, nil
}

func (w *writer) AddPage(ctx context.Context, page document.Page, chunks []store.Chunk) error {
	if w.done {
		return fmt.Errorf("write %s: document already committed or rolled back", w.doc.Source)
	}
	if err := w.addPage(ctx, page, chunks); err != nil {
		return fmt.Errorf("write %s page %d: %w", w.doc.Source, page.Number, err)
	}
	return nil
}

func (w *writer) addPage(ctx context.Context, page document.Page, chunks []store.Chunk) error {
	s := w.s
	objs := make([]*models.Object, 0, len(chunks)+1)
	objs = append(objs, &models.Object{
		Class: s.names.page,
		ID:    strfmtUUID(s.pageUUID(w.doc.ID, w.gen, page.Number)),
		Properties: map[string]any{
			propDocID:  w.doc.ID,
			propGen:    w.gen,
			propNumber: page.Number,
			propText:   page.Text,
		},
	})
	seqs := make([]int, len(chunks))
	meta := store.EncodeMeta(w.doc.Meta)
	for i, c := range chunks {
		sp, ok := s.split(c.Split)
		if !ok {
			return s.unknownSplit(c.Split)
		}
		if c.Start < 0 || c.End > len(page.Text) || c.Start > c.End {
			return fmt.Errorf("chunk %d of split %s has offsets [%d,%d) outside the page (%d bytes)", i, c.Split, c.Start, c.End, len(page.Text))
		}
		parentSeq := -1
		if c.Parent >= 0 {
			if c.Parent >= i {
				return fmt.Errorf("chunk %d of split %s names parent %d, which does not come before it", i, c.Split, c.Parent)
			}
			parentSeq = seqs[c.Parent]
		}
		seq := w.lay.Splits[c.Split]
		w.lay.Splits[c.Split] = seq + 1
		seqs[i] = seq
		text := page.Text[c.Start:c.End]
		props := map[string]any{
			propDocID:     w.doc.ID,
			propGen:       w.gen,
			propSplit:     c.Split,
			propSeq:       seq,
			propPage:      page.Number,
			propStart:     c.Start,
			propEnd:       c.End,
			propParentSeq: parentSeq,
			propText:      text,
			propSource:    w.doc.Source,
			propTitle:     w.doc.Title,
			propMeta:      meta,
		}
		if sp.Search {
			props[propTerms] = strings.Join(textproc.English.Terms(text), " ")
		}
		obj := &models.Object{Class: s.names.chunk, ID: strfmtUUID(s.chunkUUID(w.doc.ID, w.gen, c.Split, seq)), Properties: props}
		if c.Vector != nil && sp.Search && w.model != "" {
			if err := s.checkVector(ctx, w.model, c.Vector, store.ChunkID(w.doc.ID, c.Split, seq)); err != nil {
				return err
			}
			obj.Vectors = models.Vectors{VectorName: c.Vector}
		}
		objs = append(objs, obj)
	}
	w.lay.Pages = append(w.lay.Pages, page.Number)
	w.buf = append(w.buf, objs...)
	if len(w.buf) >= s.cfg.Batch {
		return w.flush(ctx)
	}
	return nil
}

// checkVector refuses a vector whose length differs from the collection's,
// recording the length with the first vector a collection receives.
func (s *Store) checkVector(ctx context.Context, model string, vec []float32, where string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	have := s.meta.Embedding
	if have.Dim == len(vec) && have.Model == model {
		return nil
	}
	if have.Dim != 0 {
		return &DimensionError{Store: s.cfg.String(), Have: have, Got: store.Embedding{Model: model, Dim: len(vec)}, Where: "chunk " + where}
	}
	return s.recordEmbeddingLocked(ctx, store.Embedding{Model: model, Dim: len(vec)})
}

// NotSupportedError reports an operation a Weaviate collection does not
// offer, and what to do instead.
type NotSupportedError struct {
	Store, What, Instead string
}

func (e *NotSupportedError) Error() string {
	return fmt.Sprintf("%s: %s is not supported on Weaviate; %s", e.Store, e.What, e.Instead)
}

// UserError marks the error as the user's to fix.
func (e *NotSupportedError) UserError() {}

func (s *Store) noReindex() error {
	return &NotSupportedError{Store: s.cfg.String(), What: "re-embedding a collection in place (distill reindex)",
		Instead: "copy it to an embedded collection (distill migrate --to DIR), reindex that, and migrate it into a new Weaviate collection"}
}

// Unembedded is part of store.VectorWriter; see NotSupportedError.
func (s *Store) Unembedded(context.Context, string, int64, int) ([]store.ChunkText, int, error) {
	return nil, 0, s.noReindex()
}

// PutVectors is part of store.VectorWriter; see NotSupportedError.
func (s *Store) PutVectors(context.Context, string, []store.ChunkVector) error { return s.noReindex() }

// ActivateEmbedding is part of store.VectorWriter; see NotSupportedError.
func (s *Store) ActivateEmbedding(context.Context, string) (store.Embedding, error) {
	return store.Embedding{}, s.noReindex()
}

func (w *writer) flush(ctx context.Context) error {
	if len(w.buf) == 0 {
		return nil
	}
	w.wrote = true
	if err := w.s.upsert(ctx, "write "+w.doc.Source, w.buf); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// Commit writes what is buffered, then the document record that makes this
// generation the visible one, then deletes the generations it replaced.
func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return fmt.Errorf("write %s: document already committed or rolled back", w.doc.Source)
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	s := w.s
	chunks := 0
	for _, n := range w.lay.Splits {
		chunks += n
	}
	lay, _ := json.Marshal(w.lay)
	rec := &models.Object{
		Class: s.names.doc,
		ID:    strfmtUUID(s.docUUID(w.doc.ID)),
		Properties: map[string]any{
			propKind:     kindDocument,
			propDocID:    w.doc.ID,
			propSource:   w.doc.Source,
			propGen:      w.gen,
			propTitle:    w.doc.Title,
			propType:     w.doc.Type,
			propHash:     w.doc.Hash,
			propSize:     w.doc.Size,
			propMeta:     store.EncodeMeta(w.doc.Meta),
			propPages:    len(w.lay.Pages),
			propChunks:   chunks,
			propIngested: time.Now().Unix(),
			propLayout:   string(lay),
		},
	}
	if err := s.upsert(ctx, "commit "+w.doc.Source, []*models.Object{rec}); err != nil {
		return err
	}
	w.done = true
	// The new generation is visible; older ones are invisible garbage. A
	// failure here leaves them for Check to remove.
	if err := s.deleteGenerations(ctx, w.doc.ID, w.gen, true); err != nil {
		slog.Warn("could not delete the replaced version of a document; distill check --repair removes it", "store", s.cfg.String(), "source", w.doc.Source, "err", err)
	}
	return nil
}

// Rollback deletes what was written of this generation.
func (w *writer) Rollback() error {
	if w.done {
		return nil
	}
	w.done = true
	if !w.wrote {
		return nil
	}
	// The caller's context may be the one that was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), w.s.cfg.Timeout)
	defer cancel()
	return w.s.deleteGenerations(ctx, w.doc.ID, w.gen, false)
}

// deleteGenerations deletes the page and chunk objects of a document that
// belong to gen (except=false) or to any generation but gen (except=true).
func (s *Store) deleteGenerations(ctx context.Context, docID, gen string, except bool) error {
	op := filters.Equal
	if except {
		op = filters.NotEqual
	}
	where := and(whereText(propDocID, filters.Equal, docID), whereText(propGen, op, gen))
	for _, class := range []string{s.names.chunk, s.names.page} {
		if _, err := s.deleteWhere(ctx, "delete old versions of "+docID, class, where); err != nil {
			return err
		}
	}
	return nil
}

// deleteAll deletes every page and chunk object of a document.
func (s *Store) deleteAll(ctx context.Context, docID string) error {
	for _, class := range []string{s.names.chunk, s.names.page} {
		if _, err := s.deleteWhere(ctx, "delete "+docID, class, whereText(propDocID, filters.Equal, docID)); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes documents: the record first, which hides the document at
// once, then its pages and chunks.
func (s *Store) Delete(ctx context.Context, docIDs ...string) (int, error) {
	n := 0
	for _, id := range docIDs {
		_, found, err := s.getObject(ctx, s.names.doc, s.docUUID(id))
		if err != nil {
			return n, err
		}
		if found {
			err := s.retry(ctx, "delete "+id, func(ctx context.Context) error {
				err := s.Client().Data().Deleter().WithClassName(s.names.doc).WithID(s.docUUID(id)).WithConsistencyLevel(s.cfg.Consistency).Do(ctx)
				if isNotFound(err) {
					return nil
				}
				return err
			})
			if err != nil {
				return n, err
			}
			n++
		}
		if err := s.deleteAll(ctx, id); err != nil {
			return n, err
		}
	}
	return n, nil
}
