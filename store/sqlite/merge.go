package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// mergeFactor is how many segments of one size tier are merged into one,
// as in a log-structured merge: each chunk is rewritten O(log n) times and a
// query reads O(log n) segments per term.
const mergeFactor = 8

// Merge compacts the BM25 segments of split: segments of the same size tier
// are merged once mergeFactor of them exist, and segments that are mostly
// deleted chunks are rewritten without them. With all set, every segment of
// the split is merged into one.
func (s *Store) Merge(ctx context.Context, split string, all bool) error {
	s.prepareWrites(ctx)
	for round := 0; round < 64; round++ {
		merged := false
		err := withRetry(ctx, func() error {
			tx, err := s.writer.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			segs, err := pickMerge(ctx, tx, split, all)
			if err != nil || len(segs) == 0 {
				return err
			}
			if err := s.mergeSegments(ctx, tx, split, segs); err != nil {
				return err
			}
			merged = true
			return tx.Commit()
		})
		if err != nil {
			return fmt.Errorf("collection %s: merge %s: %w", s.dir, split, err)
		}
		if !merged || all {
			return nil
		}
	}
	return nil
}

type segmentInfo struct {
	id, first, last, chunks, deleted int64
}

// pickMerge chooses the segments to merge next, or none. Segments of a
// split cover disjoint ranges of chunk ids; only neighbours are merged, so
// that a merged segment is a range again.
func pickMerge(ctx context.Context, tx *sql.Tx, split string, all bool) ([]segmentInfo, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, first, last, chunks, deleted FROM bm25_segments WHERE split = ? ORDER BY first`, split)
	if err != nil {
		return nil, err
	}
	var segs []segmentInfo
	for rows.Next() {
		var si segmentInfo
		if err := rows.Scan(&si.id, &si.first, &si.last, &si.chunks, &si.deleted); err != nil {
			rows.Close()
			return nil, err
		}
		segs = append(segs, si)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if all {
		if len(segs) < 2 && (len(segs) == 0 || segs[0].deleted == 0) {
			return nil, nil
		}
		return segs, nil
	}
	tier := func(si segmentInfo) int {
		return int(math.Log(float64(max(si.chunks-si.deleted, 1))) / math.Log(mergeFactor))
	}
	for _, si := range segs {
		if si.deleted*2 > si.chunks {
			return []segmentInfo{si}, nil
		}
	}
	// The lowest tier with mergeFactor neighbours in it goes first: new
	// segments arrive at the end, so these are usually the newest.
	for level := 0; level < 64; level++ {
		run := 0
		for i, si := range segs {
			if tier(si) != level {
				run = 0
				continue
			}
			if run++; run == mergeFactor {
				return segs[i-mergeFactor+1 : i+1], nil
			}
		}
	}
	// Deletions can leave tiers interleaved so that no run forms; bound the
	// segments a query reads by merging the smallest neighbours.
	if len(segs) > 4*mergeFactor {
		best, bestSize := 0, int64(math.MaxInt64)
		for i := 0; i+mergeFactor <= len(segs); i++ {
			var size int64
			for _, si := range segs[i : i+mergeFactor] {
				size += si.chunks - si.deleted
			}
			if size < bestSize {
				best, bestSize = i, size
			}
		}
		return segs[best : best+mergeFactor], nil
	}
	return nil, nil
}

// mergeSegments replaces neighbouring segments of split with one segment
// holding their live postings. Chunk rows are not touched: a segment is a
// range of ids. The segments' blocks are read side by side, in term order,
// and merged term by term (mergeBlocks).
func (s *Store) mergeSegments(ctx context.Context, tx *sql.Tx, split string, segs []segmentInfo) error {
	first, last := segs[0].first, segs[len(segs)-1].last
	// Live chunks are looked up only when some were deleted.
	var live func(int64) bool
	var deleted int64
	for _, si := range segs {
		deleted += si.deleted
	}
	if deleted > 0 {
		bits := make([]uint64, (last-first)/64+1)
		rows, err := tx.QueryContext(ctx, `SELECT id FROM chunks WHERE split = ? AND id BETWEEN ? AND ?`, split, first, last)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			id -= first
			bits[id/64] |= 1 << (id % 64)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		live = func(id int64) bool { return id >= 0 && id <= last-first && bits[id/64]&(1<<(id%64)) != 0 }
	}
	srcs := make([]blockSource, len(segs))
	offsets := make([]int64, len(segs))
	for i, si := range segs {
		rows, err := tx.QueryContext(ctx, `SELECT last_term, data FROM bm25_blocks WHERE segment = ? ORDER BY last_term`, si.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		srcs[i], offsets[i] = &rowBlocks{rows: rows}, si.first-first
	}
	merged, err := mergeBlocks(srcs, offsets, live)
	if err != nil {
		return fmt.Errorf("merge segments %d to %d: %w", segs[0].id, segs[len(segs)-1].id, err)
	}
	for _, src := range srcs {
		if err := src.(*rowBlocks).close(); err != nil {
			return err
		}
	}
	// Chunks without terms have no postings; count them from the segments.
	var liveChunks int64
	for _, si := range segs {
		liveChunks += si.chunks - si.deleted
	}
	args := make([]any, len(segs))
	for i, si := range segs {
		args[i] = si.id
	}
	in := "(" + placeholders(len(segs)) + ")"
	if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_blocks WHERE segment IN `+in, args...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_segments WHERE id IN `+in, args...); err != nil {
		return err
	}
	if liveChunks == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO bm25_segments(split, first, last, chunks) VALUES(?,?,?,?)`, split, first, last, liveChunks)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return s.writeBlocks(ctx, tx, id, merged)
}

// rowBlocks is a blockSource reading a segment's blocks from a query.
type rowBlocks struct {
	rows *sql.Rows
	key  string
	data sql.RawBytes
}

func (r *rowBlocks) next() (string, []byte, bool, error) {
	if !r.rows.Next() {
		return "", nil, false, r.rows.Err()
	}
	// RawBytes: the block is used up before the next call, so it need not
	// be copied.
	if err := r.rows.Scan(&r.key, &r.data); err != nil {
		return "", nil, false, err
	}
	return r.key, r.data, true, nil
}

func (r *rowBlocks) close() error {
	if err := r.rows.Close(); err != nil {
		return err
	}
	return r.rows.Err()
}
