package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/distill-rag/distill/ann"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

var (
	_ store.VectorStore  = (*Store)(nil)
	_ store.VectorWriter = (*Store)(nil)
)

// embeddingRow is a model whose vectors the collection keeps.
type embeddingRow struct {
	id     int64
	model  string
	dim    int
	active bool
}

func (e *embeddingRow) public() store.Embedding {
	if e == nil {
		return store.Embedding{}
	}
	return store.Embedding{Model: e.model, Dim: e.dim}
}

func scanEmbedding(row *sql.Row) (*embeddingRow, error) {
	var e embeddingRow
	err := row.Scan(&e.id, &e.model, &e.dim, &e.active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

func activeEmbedding(ctx context.Context, q querier) (*embeddingRow, error) {
	return scanEmbedding(q.QueryRowContext(ctx, `SELECT id, model, dim, active FROM embeddings WHERE active = 1`))
}

func embeddingByModel(ctx context.Context, q querier, model string) (*embeddingRow, error) {
	return scanEmbedding(q.QueryRowContext(ctx, `SELECT id, model, dim, active FROM embeddings WHERE model = ?`, model))
}

// ensureEmbedding returns model's row, creating it (inactive) when needed.
func ensureEmbedding(ctx context.Context, tx *sql.Tx, model string) (*embeddingRow, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO embeddings(model) VALUES(?) ON CONFLICT(model) DO NOTHING`, model); err != nil {
		return nil, err
	}
	return embeddingByModel(ctx, tx, model)
}

// Embedding returns the collection's active embedding model.
func (s *Store) Embedding(ctx context.Context) (store.Embedding, error) {
	e, err := activeEmbedding(ctx, s.reader)
	if err != nil {
		return store.Embedding{}, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	return e.public(), nil
}

// searchedSplits returns the names of the splits indexed for search, as
// SQL arguments with their placeholders.
func (s *Store) searchedSplits() (string, []any) {
	var args []any
	for _, sp := range s.splitList() {
		if sp.Search {
			args = append(args, sp.Name)
		}
	}
	if len(args) == 0 {
		return "NULL", nil
	}
	return placeholders(len(args)), args
}

// startVectors decides, inside the write transaction, which embedding the
// document's vectors belong to, refusing writes that would leave the
// collection with chunks dense search cannot see.
func (w *writer) startVectors(ctx context.Context) error {
	emb, err := activeEmbedding(ctx, w.tx)
	if err != nil {
		return err
	}
	switch {
	case emb != nil && w.model == "":
		return &store.EmbeddingMismatchError{Collection: emb.public(),
			Reason: fmt.Sprintf("pass --embed %s (or set DISTILL_EMBED) to add documents to it", emb.model)}
	case emb != nil && emb.model != w.model:
		return &store.EmbeddingMismatchError{Collection: emb.public(), Got: store.Embedding{Model: w.model},
			Reason: fmt.Sprintf("use --embed %s, or switch the collection with distill reindex --embed %s", emb.model, w.model)}
	case emb == nil && w.model != "":
		in, args := w.s.searchedSplits()
		var one int
		err := w.tx.QueryRowContext(ctx, `SELECT 1 FROM chunks WHERE split IN (`+in+`) LIMIT 1`, args...).Scan(&one)
		if err == nil {
			return &store.EmbeddingMismatchError{Got: store.Embedding{Model: w.model},
				Reason: fmt.Sprintf("its documents were ingested without one; run distill reindex --embed %s first", w.model)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if emb, err = ensureEmbedding(ctx, w.tx, w.model); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(ctx, `UPDATE embeddings SET active = (id = ?)`, emb.id); err != nil {
			return err
		}
		emb.active = true
	}
	w.emb = emb
	if emb != nil {
		w.insertVector, err = w.tx.PrepareContext(ctx, `INSERT INTO vectors(embedding, chunk, split, vector) VALUES(?,?,?,?)`)
	}
	return err
}

// addVector stores the vector of chunk i (row id) when its split is searched.
func (w *writer) addVector(ctx context.Context, id int64, sp store.Split, i int, vec []float32) error {
	if !sp.Search {
		return nil
	}
	if w.emb == nil {
		if len(vec) > 0 {
			return fmt.Errorf("chunk %d of split %s has a vector but no embedding model was named (use BeginVectors)", i, sp.Name)
		}
		return nil
	}
	if len(vec) == 0 {
		return fmt.Errorf("chunk %d of split %s has no vector from %s", i, sp.Name, w.emb.model)
	}
	if err := w.s.checkDim(ctx, w.tx, w.emb, len(vec)); err != nil {
		return err
	}
	if _, err := w.insertVector.ExecContext(ctx, w.emb.id, id, sp.Name, encodeVector(vec)); err != nil {
		return err
	}
	w.vectorSplits[sp.Name] = true
	return nil
}

// checkDim records the embedding's dimension on its first vector and
// refuses any other afterwards.
func (s *Store) checkDim(ctx context.Context, tx *sql.Tx, emb *embeddingRow, dim int) error {
	if emb.dim == dim {
		return nil
	}
	if emb.dim != 0 {
		return &store.EmbeddingMismatchError{Collection: emb.public(), Got: store.Embedding{Model: emb.model, Dim: dim},
			Reason: "the model's dimension changed; check the model URI, or re-embed everything with distill reindex"}
	}
	if dim <= 0 || dim > maxDim {
		return fmt.Errorf("vector of %d dimensions from %s is not plausible", dim, emb.model)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE embeddings SET dim = ? WHERE id = ?`, dim, emb.id); err != nil {
		return err
	}
	emb.dim = dim
	return nil
}

// maxDim bounds a vector's dimension (the largest models use 4096).
const maxDim = 1 << 16

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte, dim int) ([]float32, error) {
	if len(b) != 4*dim {
		return nil, fmt.Errorf("stored vector has %d bytes, want %d for %d dimensions", len(b), 4*dim, dim)
	}
	v := make([]float32, dim)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Unembedded returns chunks of searched splits without a vector from model.
func (s *Store) Unembedded(ctx context.Context, model string, after int64, limit int) ([]store.ChunkText, int, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	in, args := s.searchedSplits()
	var embID int64 = -1
	if e, err := embeddingByModel(ctx, tx, model); err != nil {
		return nil, 0, fmt.Errorf("collection %s: %w", s.dir, err)
	} else if e != nil {
		embID = e.id
	}
	missing := `FROM chunks c WHERE c.split IN (` + in + `) AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.embedding = ? AND v.chunk = c.id)`
	margs := append(append([]any(nil), args...), embID)
	var remaining int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) `+missing, margs...).Scan(&remaining); err != nil {
		return nil, 0, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.split, c.start, c.end, p.text `+strings.Replace(missing, "FROM chunks c", "FROM chunks c JOIN pages p ON p.id = c.page", 1)+
		` AND c.id > ? ORDER BY c.id LIMIT ?`, append(margs, after, limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer rows.Close()
	var out []store.ChunkText
	for rows.Next() {
		var c store.ChunkText
		var start, end int
		var page string
		if err := rows.Scan(&c.ID, &c.Split, &start, &end, &page); err != nil {
			return nil, 0, err
		}
		if start < 0 || end > len(page) || start > end {
			return nil, 0, fmt.Errorf("collection %s: chunk %d has offsets [%d,%d) outside its page", s.dir, c.ID, start, end)
		}
		c.Text = page[start:end]
		out = append(out, c)
	}
	return out, remaining, rows.Err()
}

// PutVectors stores vectors from model for existing chunks.
func (s *Store) PutVectors(ctx context.Context, model string, vecs []store.ChunkVector) error {
	if err := s.refuseWrite(); err != nil {
		return err
	}
	if len(vecs) == 0 {
		return nil
	}
	var emb *embeddingRow
	splits := map[string]bool{}
	err := withRetry(ctx, func() error {
		clear(splits)
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if emb, err = ensureEmbedding(ctx, tx, model); err != nil {
			return err
		}
		in, args := s.searchedSplits()
		insert, err := tx.PrepareContext(ctx, `INSERT INTO vectors(embedding, chunk, split, vector)
			SELECT ?, id, split, ? FROM chunks WHERE id = ? AND split IN (`+in+`) ON CONFLICT(embedding, chunk) DO NOTHING RETURNING split`)
		if err != nil {
			return err
		}
		defer insert.Close()
		for _, cv := range vecs {
			if err := s.checkDim(ctx, tx, emb, len(cv.Vector)); err != nil {
				return err
			}
			var split string
			err := insert.QueryRowContext(ctx, append([]any{emb.id, encodeVector(cv.Vector), cv.ID}, args...)...).Scan(&split)
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted meanwhile, or already there
			}
			if err != nil {
				return err
			}
			splits[split] = true
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("collection %s: store vectors from %s: %w", s.dir, model, err)
	}
	s.ckpt.committed()
	s.vectorsChanged(emb, splits)
	return nil
}

// ActivateEmbedding switches the collection to model.
func (s *Store) ActivateEmbedding(ctx context.Context, model string) (store.Embedding, error) {
	if err := s.refuseWrite(); err != nil {
		return store.Embedding{}, err
	}
	var emb, old *embeddingRow
	err := withRetry(ctx, func() error {
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if emb, err = ensureEmbedding(ctx, tx, model); err != nil {
			return err
		}
		if old, err = activeEmbedding(ctx, tx); err != nil {
			return err
		}
		in, args := s.searchedSplits()
		var missing int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chunks c WHERE c.split IN (`+in+`) AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.embedding = ? AND v.chunk = c.id)`,
			append(args, emb.id)...).Scan(&missing); err != nil {
			return err
		}
		if missing > 0 {
			return fmt.Errorf("%d chunks have no vector from %s yet; run distill reindex --embed %s again", missing, model, model)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE embeddings SET active = (id = ?)`, emb.id); err != nil {
			return err
		}
		// Every other model's vectors go: they can no longer be searched.
		if _, err := tx.ExecContext(ctx, `DELETE FROM embeddings WHERE id != ?`, emb.id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vector_log WHERE embedding != ?`, emb.id); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return store.Embedding{}, fmt.Errorf("collection %s: switch to %s: %w", s.dir, model, err)
	}
	if old == nil || old.id != emb.id {
		s.dropIndexes(emb.id)
	}
	return emb.public(), nil
}

// exactBelow is the number of vectors under which a scan of them all is as
// fast as the graph, and exact.
const exactBelow = 2000

// rerankDepth is how many of an int8 index's best hits are re-ranked with
// their stored float32 vectors: at 1M vectors of 1024 dimensions, 40 lose
// no recall against exact search (docs/vectors.md).
const rerankDepth = 40

// rerank rescores hits with their stored vectors and keeps the best k.
func rerank(ctx context.Context, tx *sql.Tx, emb *embeddingRow, vec []float32, hits []ann.Result, k int) ([]ann.Result, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(hits)+1)
	args = append(args, emb.id)
	for _, h := range hits {
		args = append(args, h.Key)
	}
	rows, err := tx.QueryContext(ctx, `SELECT chunk, vector FROM vectors WHERE embedding = ? AND chunk IN (`+placeholders(len(hits))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := make(map[int64][]float32, len(hits))
	for rows.Next() {
		var id int64
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			return nil, err
		}
		v, err := decodeVector(blob, emb.dim)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", id, err)
		}
		stored[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vecs := make([][]float32, len(hits))
	for i, h := range hits {
		vecs[i] = stored[h.Key] // nil when deleted since: dropped
	}
	return ann.Rerank(vec, hits, vecs, k), nil
}

// scanVectors compares vec with every stored vector of the split: exact
// search from the table itself, whatever the index keeps.
func scanVectors(ctx context.Context, tx *sql.Tx, emb *embeddingRow, split string, vec []float32, k int) ([]ann.Result, error) {
	rows, err := tx.QueryContext(ctx, `SELECT chunk, vector FROM vectors WHERE embedding = ? AND split = ?`, emb.id, split)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// Rank a batch at a time and keep the best k of all batches, so that
	// memory stays bounded by the batch, not the split.
	var best []ann.Result
	hits, vecs := []ann.Result{}, [][]float32{}
	rank := func() {
		best = append(best, ann.Rerank(vec, hits, vecs, k)...)
		ann.SortResults(best)
		best = best[:min(k, len(best))]
		hits, vecs = hits[:0], vecs[:0]
	}
	for rows.Next() {
		var id int64
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			return nil, err
		}
		v, err := decodeVector(blob, emb.dim)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", id, err)
		}
		hits, vecs = append(hits, ann.Result{Key: id}), append(vecs, v)
		if len(hits) == 4096 {
			rank()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rank()
	return best, nil
}

// SearchVector ranks the chunks of split by cosine similarity to vec,
// with the approximate index (exactly, for small splits).
func (s *Store) SearchVector(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error) {
	return s.searchVector(ctx, split, vec, k, false, nil)
}

// SearchVectorExact ranks by comparing vec with every vector of the split.
func (s *Store) SearchVectorExact(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error) {
	return s.searchVector(ctx, split, vec, k, true, nil)
}

func (s *Store) searchVector(ctx context.Context, split string, vec []float32, k int, exact bool, f *store.Filter) ([]document.Passage, error) {
	sp, ok := s.split(split)
	if !ok {
		return nil, s.unknownSplit(split)
	}
	if !sp.Search {
		return nil, fmt.Errorf("split %q is not indexed for search (it only holds parents)", split)
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	emb, err := activeEmbedding(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	if emb == nil {
		return nil, &store.EmbeddingMismatchError{Got: store.Embedding{Dim: len(vec)},
			Reason: "ingest with --embed URI, or run distill reindex --embed URI"}
	}
	if emb.dim != 0 && len(vec) != emb.dim {
		return nil, &store.EmbeddingMismatchError{Collection: emb.public(), Got: store.Embedding{Dim: len(vec)},
			Reason: fmt.Sprintf("query with --embed %s", emb.model)}
	}
	if k <= 0 || emb.dim == 0 {
		return nil, nil
	}
	idx, err := s.index(ctx, tx, emb, split)
	if err != nil {
		return nil, fmt.Errorf("collection %s: vector index of %s: %w", s.dir, split, err)
	}
	// A little slack: another goroutine may have caught the shared index up
	// past this transaction's snapshot, so a hit can be missing here.
	want := k + 4
	var hits []ann.Result
	switch {
	case !f.Empty():
		var allow *chunkSet
		if allow, err = s.allowedChunks(ctx, tx, split, f); err != nil {
			var fe *store.FilterError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("collection %s: filter: %w", s.dir, err)
		}
		hits, err = searchAllowed(ctx, tx, emb, idx.ix, vec, allow, want, exact)
	case exact:
		hits, err = scanVectors(ctx, tx, emb, split, vec, want)
	case idx.ix.Storage() == ann.Int8:
		// The index ranks by int8 codes; the stored vectors rank its best
		// hits exactly.
		search := idx.ix.Search
		if idx.ix.Len() < exactBelow {
			search = idx.ix.SearchExact
		}
		if hits, err = search(vec, max(want, rerankDepth)); err == nil {
			hits, err = rerank(ctx, tx, emb, vec, hits, want)
		}
	case idx.ix.Len() < exactBelow:
		hits, err = idx.ix.SearchExact(vec, want)
	default:
		hits, err = idx.ix.Search(vec, want)
	}
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.Key
	}
	found, err := passagesByID(ctx, tx, ids)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	var out []document.Passage
	for _, h := range hits {
		if p, ok := found[h.Key]; ok && len(out) < k {
			p.Score = float64(h.Score)
			out = append(out, p)
		}
	}
	return out, nil
}
