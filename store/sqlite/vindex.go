package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/distill-rag/distill/ann"
)

// The approximate index of one split's vectors lives in memory and in a
// file beside the database (index/E-SPLIT.hnsw). The database stays the
// truth: every change to the vectors table is logged by a trigger in the
// same transaction (vector_log), and the file records the last log entry
// it reflects. Loading replays the entries after it; a file that is
// missing, corrupt, from another collection or model, or whose vector
// count disagrees with the table after replay is rebuilt from the stored
// vectors. So an index can be stale on disk but never answers wrongly.

// indexKey names one index: an embedding's vectors of one split.
type indexKey struct {
	embedding int64
	split     string
}

type vectorIndex struct {
	mu    sync.Mutex // serializes catching up; searches use ix's own lock
	key   indexKey
	model string
	ix    *ann.Index
	seq   int64 // last vector_log entry applied
	dirty bool  // differs from the file
	// verified is set once the index's count has been checked against the
	// table since it was loaded.
	verified bool
}

// indexHeader is the file's own header, checked before the file is trusted.
type indexHeader struct {
	Collection string `json:"collection"`
	Embedding  int64  `json:"embedding"`
	Model      string `json:"model"`
	Split      string `json:"split"`
	Dim        int    `json:"dim"`
	Seq        int64  `json:"seq"`
	Count      int    `json:"count"`
}

type vectorState struct {
	mu      sync.Mutex
	indexes map[indexKey]*vectorIndex
	touched map[indexKey]bool // written through this handle: brought up to date and saved on Close
}

func (s *Store) indexPath(k indexKey) string {
	return filepath.Join(s.dir, "index", fmt.Sprintf("%d-%s.hnsw", k.embedding, hex.EncodeToString([]byte(k.split))))
}

// vectorsChanged notes that a committed write changed an embedding's
// vectors of some splits.
func (s *Store) vectorsChanged(emb *embeddingRow, splits map[string]bool) {
	if emb == nil || len(splits) == 0 {
		return
	}
	s.vec.mu.Lock()
	defer s.vec.mu.Unlock()
	if s.vec.touched == nil {
		s.vec.touched = map[indexKey]bool{}
	}
	for split := range splits {
		s.vec.touched[indexKey{emb.id, split}] = true
	}
}

// dropIndexes forgets and deletes the indexes of every embedding but keep.
func (s *Store) dropIndexes(keep int64) {
	s.vec.mu.Lock()
	defer s.vec.mu.Unlock()
	for k := range s.vec.indexes {
		if k.embedding != keep {
			delete(s.vec.indexes, k)
		}
	}
	for k := range s.vec.touched {
		if k.embedding != keep {
			delete(s.vec.touched, k)
		}
	}
	files, _ := filepath.Glob(filepath.Join(s.dir, "index", "*.hnsw"))
	prefix := fmt.Sprintf("%d-", keep)
	for _, f := range files {
		if base := filepath.Base(f); len(base) < len(prefix) || base[:len(prefix)] != prefix {
			os.Remove(f)
		}
	}
}

// index returns the split's index, loaded or built and caught up with the
// snapshot tx sees.
func (s *Store) index(ctx context.Context, tx *sql.Tx, emb *embeddingRow, split string) (*vectorIndex, error) {
	key := indexKey{emb.id, split}
	s.vec.mu.Lock()
	if s.vec.indexes == nil {
		s.vec.indexes = map[indexKey]*vectorIndex{}
	}
	idx := s.vec.indexes[key]
	if idx == nil {
		idx = &vectorIndex{key: key, model: emb.model}
		s.vec.indexes[key] = idx
	}
	s.vec.mu.Unlock()

	idx.mu.Lock()
	defer idx.mu.Unlock()
	if idx.ix == nil || idx.ix.Dim() != emb.dim {
		if err := s.loadIndex(ctx, tx, idx, emb); err != nil {
			return nil, err
		}
	}
	ok, err := s.catchUp(ctx, tx, idx)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.buildIndex(ctx, tx, idx, emb); err != nil {
			return nil, err
		}
	}
	if idx.ix.NeedsCompaction() {
		idx.ix.Compact()
		idx.dirty = true
	}
	return idx, nil
}

// loadIndex reads the index file when it is one this collection wrote for
// this embedding, and builds the index from the stored vectors otherwise.
func (s *Store) loadIndex(ctx context.Context, tx *sql.Tx, idx *vectorIndex, emb *embeddingRow) error {
	collection, err := s.collectionID(ctx, tx)
	if err != nil {
		return err
	}
	path := s.indexPath(idx.key)
	ix, h, err := readIndexFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s.buildIndex(ctx, tx, idx, emb)
	case err != nil:
		slog.Warn("vector index file unreadable; rebuilding it from the stored vectors", "file", path, "err", err)
		return s.buildIndex(ctx, tx, idx, emb)
	}
	var maxSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM vector_log`).Scan(&maxSeq); err != nil {
		return err
	}
	if h.Collection != collection || h.Embedding != emb.id || h.Model != emb.model || h.Split != idx.key.split ||
		h.Dim != emb.dim || ix.Dim() != emb.dim || h.Seq > maxSeq || h.Count != ix.Len() {
		slog.Warn("vector index file does not match the collection; rebuilding it", "file", path)
		return s.buildIndex(ctx, tx, idx, emb)
	}
	if ix.Storage() != ann.Int8 {
		// Written before indexes kept int8 codes: a quarter of the memory
		// once rebuilt.
		slog.Info("rebuilding a float32 vector index with int8 codes", "file", path)
		return s.buildIndex(ctx, tx, idx, emb)
	}
	idx.ix, idx.seq, idx.dirty, idx.verified = ix, h.Seq, false, false
	return nil
}

func readIndexFile(path string) (*ann.Index, indexHeader, error) {
	var h indexHeader
	f, err := os.Open(path)
	if err != nil {
		return nil, h, err
	}
	defer f.Close()
	ix, meta, err := ann.Read(f)
	if err != nil {
		return nil, h, err
	}
	if err := json.Unmarshal(meta, &h); err != nil {
		return nil, h, fmt.Errorf("%w: header: %v", ann.ErrCorrupt, err)
	}
	return ix, h, nil
}

func (s *Store) collectionID(ctx context.Context, q querier) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'collection_id'`).Scan(&id)
	return id, err
}

// buildIndex makes the index from the vectors stored in tx's snapshot.
func (s *Store) buildIndex(ctx context.Context, tx *sql.Tx, idx *vectorIndex, emb *embeddingRow) error {
	var n int
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vectors WHERE embedding = ? AND split = ?`, emb.id, idx.key.split).Scan(&n); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM vector_log`).Scan(&seq); err != nil {
		return err
	}
	ix := ann.New(emb.dim, ann.Parameters{Seed: uint64(emb.id), Storage: ann.Int8})
	ix.Grow(n)
	rows, err := tx.QueryContext(ctx, `SELECT chunk, vector FROM vectors WHERE embedding = ? AND split = ? ORDER BY chunk`, emb.id, idx.key.split)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Vectors go in by batches, each linked in parallel, so a rebuild holds
	// at most one batch of decoded vectors beside the index.
	const batch = 20000
	keys := make([]int64, 0, min(n, batch))
	vecs := make([][]float32, 0, min(n, batch))
	flush := func() error {
		err := ix.AddBatch(keys, vecs, 0)
		keys, vecs = keys[:0], vecs[:0]
		return err
	}
	for rows.Next() {
		var id int64
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			return err
		}
		v, err := decodeVector(blob, emb.dim)
		if err != nil {
			return fmt.Errorf("chunk %d: %w", id, err)
		}
		keys, vecs = append(keys, id), append(vecs, v)
		if len(keys) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	idx.ix, idx.seq, idx.dirty, idx.verified = ix, seq, true, true
	return nil
}

// catchUp applies the log entries after idx.seq that tx can see. It
// reports false when the index cannot be brought in step (its vector
// count disagrees with the table), and must be rebuilt.
func (s *Store) catchUp(ctx context.Context, tx *sql.Tx, idx *vectorIndex) (bool, error) {
	applied, err := s.replayLog(ctx, tx, idx)
	if err != nil {
		return false, err
	}
	if !applied && idx.verified {
		return true, nil
	}
	if applied {
		idx.dirty = true
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vectors WHERE embedding = ? AND split = ?`, idx.key.embedding, idx.key.split).Scan(&n); err != nil {
		return false, err
	}
	if n != idx.ix.Len() {
		slog.Warn("vector index disagrees with the stored vectors after catching up; rebuilding it", "split", idx.key.split, "index", idx.ix.Len(), "stored", n)
		return false, nil
	}
	idx.verified = true
	return true, nil
}

// replayLog applies the log entries after idx.seq that tx can see, and
// reports whether there were any.
func (s *Store) replayLog(ctx context.Context, tx *sql.Tx, idx *vectorIndex) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT l.seq, l.chunk, l.added, v.vector FROM vector_log l
		LEFT JOIN vectors v ON l.added = 1 AND v.embedding = l.embedding AND v.chunk = l.chunk
		WHERE l.embedding = ? AND l.split = ? AND l.seq > ? ORDER BY l.seq`, idx.key.embedding, idx.key.split, idx.seq)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	applied := false
	for rows.Next() {
		var seq, chunk int64
		var added bool
		var blob []byte
		if err := rows.Scan(&seq, &chunk, &added, &blob); err != nil {
			return false, err
		}
		switch {
		case !added:
			idx.ix.Delete(chunk)
		case blob != nil && !idx.ix.Has(chunk):
			v, err := decodeVector(blob, idx.ix.Dim())
			if err != nil {
				return false, fmt.Errorf("chunk %d: %w", chunk, err)
			}
			if err := idx.ix.Add(chunk, v); err != nil {
				return false, err
			}
		}
		// An added entry without a vector is a chunk deleted by a later
		// entry that this loop will reach.
		idx.seq = seq
		applied = true
	}
	return applied, rows.Err()
}

// saveIndex writes the index file atomically: a temporary file, synced,
// then renamed over the old one.
func (s *Store) saveIndex(ctx context.Context, idx *vectorIndex) error {
	if s.readOnly != "" {
		return nil // kept in memory for this process
	}
	collection, err := s.collectionID(ctx, s.reader)
	if err != nil {
		return err
	}
	h := indexHeader{Collection: collection, Embedding: idx.key.embedding, Model: idx.model, Split: idx.key.split,
		Dim: idx.ix.Dim(), Seq: idx.seq, Count: idx.ix.Len()}
	meta, _ := json.Marshal(h)
	path := s.indexPath(idx.key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.hnsw")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := idx.ix.Write(tmp, meta); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	removeStaleTemporaries(s) // left by saves that were killed
	idx.dirty = false
	return nil
}

// SyncIndexes brings the indexes this handle wrote to or loaded up to date
// with the stored vectors and saves the ones that changed, so that the next
// process loads them instead of replaying or rebuilding. Close calls it.
func (s *Store) SyncIndexes(ctx context.Context) error {
	s.vec.mu.Lock()
	keys := map[indexKey]bool{}
	for k := range s.vec.touched {
		keys[k] = true
	}
	for k := range s.vec.indexes {
		keys[k] = true
	}
	s.vec.mu.Unlock()
	sorted := make([]indexKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].embedding != sorted[j].embedding {
			return sorted[i].embedding < sorted[j].embedding
		}
		return sorted[i].split < sorted[j].split
	})
	var errs []error
	for _, k := range sorted {
		if err := s.syncIndex(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("vector index of %s: %w", k.split, err))
		}
	}
	s.vec.mu.Lock()
	s.vec.touched = nil
	s.vec.mu.Unlock()
	return errors.Join(errs...)
}

func (s *Store) syncIndex(ctx context.Context, k indexKey) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	emb, err := activeEmbedding(ctx, tx)
	if err != nil || emb == nil || emb.id != k.embedding || emb.dim == 0 {
		return err // another model's vectors: not searched, nothing to keep
	}
	idx, err := s.index(ctx, tx, emb, k.split)
	if err != nil {
		return err
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if !idx.dirty {
		return nil
	}
	return s.saveIndex(ctx, idx)
}
