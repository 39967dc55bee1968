package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
)

// mergeFactor is how many segments of one size tier are merged into one,
// as in a log-structured merge: each chunk is rewritten O(log n) times and a
// query reads O(log n) segments per term.
const mergeFactor = 8

// Merge compacts the BM25 segments of split: segments of the same size tier
// are merged once mergeFactor of them exist, and segments that are mostly
// deleted chunks are rewritten without them. With all set, every segment of
// the split is merged into one.
//
// The merged postings are computed from a read transaction, without the
// write lock, so that writers (and the merges of other splits) proceed
// meanwhile; the write transaction then replaces the segments only if they
// are still as they were read (segments are immutable but for their count
// of deleted chunks), and otherwise the merge is planned again.
func (s *Store) Merge(ctx context.Context, split string, all bool) error {
	return s.merge(ctx, split, mergeScope{all: all})
}

// mergeScope says which segments a merge may take: the tiered choice, all
// of them, or (since > 0) every segment from chunk id since on, which a
// bulk run wrote (see BeginBulk).
type mergeScope struct {
	all   bool
	since int64
}

func (s *Store) merge(ctx context.Context, split string, scope mergeScope) error {
	all := scope.all || scope.since > 0 // one merge, then done
	s.prepareWrites(ctx)
	for round := 0; round < 64; round++ {
		plan, err := s.planMerge(ctx, split, scope)
		if err != nil {
			return fmt.Errorf("collection %s: merge %s: %w", s.dir, split, err)
		}
		if plan == nil {
			return nil
		}
		applied := false
		err = withRetry(ctx, func() error {
			applied = false
			tx, err := s.writer.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if ok, err := plan.current(ctx, tx); err != nil || !ok {
				return err
			}
			if err := s.applyMerge(ctx, tx, plan); err != nil {
				return err
			}
			applied = true
			return tx.Commit()
		})
		if err != nil {
			return fmt.Errorf("collection %s: merge %s: %w", s.dir, split, err)
		}
		if applied {
			s.ckpt.committed()
		}
		if applied && all {
			return nil
		}
	}
	return nil
}

// mergePlan is a merge computed from a snapshot: the segments it replaces
// and the blocks of the segment replacing them.
type mergePlan struct {
	split  string
	segs   []segmentInfo
	blocks []block
}

type segmentInfo struct {
	id, first, last, chunks, deleted int64
}

// pickMerge chooses the segments to merge next, or none. Segments of a
// split cover disjoint ranges of chunk ids; only neighbours are merged, so
// that a merged segment is a range again.
func pickMerge(ctx context.Context, tx *sql.Tx, split string, scope mergeScope) ([]segmentInfo, error) {
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
	if scope.since > 0 {
		i, _ := slices.BinarySearchFunc(segs, scope.since, func(si segmentInfo, id int64) int { return cmp.Compare(si.first, id) })
		if len(segs)-i < 2 {
			return nil, nil
		}
		return segs[i:], nil
	}
	if scope.all {
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

// planMerge picks the segments of split to merge next and merges their
// postings, from a read transaction; nil means nothing to merge. The
// segments' blocks are read side by side, in term order, and merged term by
// term (mergeBlocks).
func (s *Store) planMerge(ctx context.Context, split string, scope mergeScope) (*mergePlan, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	segs, err := pickMerge(ctx, tx, split, scope)
	if err != nil || len(segs) == 0 {
		return nil, err
	}
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
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			id -= first
			bits[id/64] |= 1 << (id % 64)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		live = func(id int64) bool { return id >= 0 && id <= last-first && bits[id/64]&(1<<(id%64)) != 0 }
	}
	srcs := make([]blockSource, len(segs))
	offsets := make([]int64, len(segs))
	for i, si := range segs {
		rows, err := tx.QueryContext(ctx, `SELECT last_term, data FROM bm25_blocks WHERE segment = ? ORDER BY last_term`, si.id)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		srcs[i], offsets[i] = &rowBlocks{rows: rows}, si.first-first
	}
	merged, err := mergeBlocks(srcs, offsets, live)
	if err != nil {
		return nil, fmt.Errorf("merge segments %d to %d: %w", segs[0].id, segs[len(segs)-1].id, err)
	}
	for _, src := range srcs {
		if err := src.(*rowBlocks).close(); err != nil {
			return nil, err
		}
	}
	return &mergePlan{split: split, segs: segs, blocks: merged}, nil
}

// current reports whether the plan's segments are still in tx as the plan
// read them.
func (p *mergePlan) current(ctx context.Context, tx *sql.Tx) (bool, error) {
	args := make([]any, len(p.segs))
	for i, si := range p.segs {
		args[i] = si.id
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, first, last, chunks, deleted FROM bm25_segments WHERE id IN (`+placeholders(len(p.segs))+`) ORDER BY first`, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var now []segmentInfo
	for rows.Next() {
		var si segmentInfo
		if err := rows.Scan(&si.id, &si.first, &si.last, &si.chunks, &si.deleted); err != nil {
			return false, err
		}
		now = append(now, si)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return slices.Equal(now, p.segs), nil
}

// applyMerge replaces the plan's segments with the merged one. Chunk rows
// are not touched: a segment is a range of ids.
func (s *Store) applyMerge(ctx context.Context, tx *sql.Tx, p *mergePlan) error {
	segs := p.segs
	first, last := segs[0].first, segs[len(segs)-1].last
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
	res, err := tx.ExecContext(ctx, `INSERT INTO bm25_segments(split, first, last, chunks) VALUES(?,?,?,?)`, p.split, first, last, liveChunks)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return s.writeBlocks(ctx, tx, id, p.blocks)
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
