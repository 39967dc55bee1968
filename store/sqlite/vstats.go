package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// VectorIndexStats describe one split's approximate index.
type VectorIndexStats struct {
	Vectors     int   // live vectors in the index
	MemoryBytes int64 // heap the index holds
	FileBytes   int64 // size of its saved file, 0 before it is saved
}

// VectorIndexStats loads the split's index of the active model (as a
// search would, building it when needed) and reports its size.
func (s *Store) VectorIndexStats(ctx context.Context, split string) (VectorIndexStats, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return VectorIndexStats{}, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	emb, err := activeEmbedding(ctx, tx)
	if err != nil {
		return VectorIndexStats{}, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	if emb == nil || emb.dim == 0 {
		return VectorIndexStats{}, nil
	}
	idx, err := s.index(ctx, tx, emb, split)
	if err != nil {
		return VectorIndexStats{}, fmt.Errorf("collection %s: vector index of %s: %w", s.dir, split, err)
	}
	st := VectorIndexStats{Vectors: idx.ix.Len(), MemoryBytes: idx.ix.MemoryBytes()}
	if fi, err := os.Stat(s.indexPath(idx.key)); err == nil {
		st.FileBytes = fi.Size()
	}
	return st, nil
}

// ExactBelow is the number of vectors under which SearchVector compares
// the query with every vector instead of walking the graph.
const ExactBelow = exactBelow
