package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
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
	for round := 0; round < 64; round++ {
		merged := false
		err := withRetry(ctx, func() error {
			tx, err := s.writer.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			ids, err := pickMerge(ctx, tx, split, all)
			if err != nil || len(ids) == 0 {
				return err
			}
			if err := mergeSegments(ctx, tx, split, ids); err != nil {
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
	id, chunks, deleted int64
}

// pickMerge chooses the segments to merge next, or none.
func pickMerge(ctx context.Context, tx *sql.Tx, split string, all bool) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, chunks, deleted FROM bm25_segments WHERE split = ? ORDER BY id`, split)
	if err != nil {
		return nil, err
	}
	var segs []segmentInfo
	for rows.Next() {
		var si segmentInfo
		if err := rows.Scan(&si.id, &si.chunks, &si.deleted); err != nil {
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
		ids := make([]int64, len(segs))
		for i, si := range segs {
			ids[i] = si.id
		}
		return ids, nil
	}
	tiers := map[int][]int64{}
	for _, si := range segs {
		live := si.chunks - si.deleted
		if si.deleted*2 > si.chunks {
			return []int64{si.id}, nil
		}
		tier := int(math.Log(float64(max(live, 1))) / math.Log(mergeFactor))
		tiers[tier] = append(tiers[tier], si.id)
	}
	levels := make([]int, 0, len(tiers))
	for t := range tiers {
		levels = append(levels, t)
	}
	sort.Ints(levels)
	for _, t := range levels {
		if len(tiers[t]) >= mergeFactor {
			return tiers[t], nil
		}
	}
	return nil, nil
}

// mergeSegments replaces segments ids of split with one segment holding
// their live postings.
func mergeSegments(ctx context.Context, tx *sql.Tx, split string, ids []int64) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := "(" + placeholders(len(ids)) + ")"
	live := map[int64]bool{}
	var liveChunks int64
	rows, err := tx.QueryContext(ctx, `SELECT id FROM chunks WHERE segment IN `+in, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		live[id] = true
		liveChunks++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO bm25_segments(split, chunks) VALUES(?, ?)`, split, liveChunks)
	if err != nil {
		return err
	}
	newID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO bm25_postings(split, term, segment, postings) VALUES(?,?,?,?)`)
	if err != nil {
		return err
	}
	defer insert.Close()

	rows, err = tx.QueryContext(ctx, `SELECT term, postings FROM bm25_postings WHERE segment IN `+in+` ORDER BY term`, args...)
	if err != nil {
		return err
	}
	var (
		term    string
		pending []posting
	)
	writeTerm := func() error {
		if len(pending) == 0 {
			return nil
		}
		sort.Slice(pending, func(i, j int) bool { return pending[i].chunk < pending[j].chunk })
		var b postingsBuilder
		for _, p := range pending {
			b.add(p)
		}
		pending = pending[:0]
		_, err := insert.ExecContext(ctx, split, term, newID, b.bytes())
		return err
	}
	var data []byte
	var t string
	for rows.Next() {
		if err := rows.Scan(&t, &data); err != nil {
			rows.Close()
			return err
		}
		if t != term {
			if err := writeTerm(); err != nil {
				rows.Close()
				return err
			}
			term = t
		}
		err := decodePostings(data, func(p posting) {
			if live[p.chunk] {
				pending = append(pending, p)
			}
		})
		if err != nil {
			rows.Close()
			return fmt.Errorf("segment postings for %q: %w", t, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := writeTerm(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chunks SET segment = ? WHERE segment IN `+in, append([]any{newID}, args...)...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_postings WHERE segment IN `+in, args...); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM bm25_segments WHERE id IN `+in, args...)
	return err
}
