package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/distill-rag/distill/store"
)

// A resplit is recorded in meta as the highest document row id when it
// started (resplit_before): every document row at or below it was built
// with the old splits. Rewriting a document through Begin replaces its row
// with a new one, whose AUTOINCREMENT id is above the mark, so the
// documents still pending are exactly those at or below it, whatever
// order they are rewritten in and however often the run is interrupted.

// StartResplit makes target the collection's splits and returns the sources
// of the documents still built with other splits, in source order: all of
// them when the splits change now, the ones an interrupted resplit left
// when it resumes. It returns none when target is already in force and no
// resplit is pending. Documents are then rewritten with Begin, and
// FinishResplit ends the run.
func (s *Store) StartResplit(ctx context.Context, target []store.Split) ([]string, error) {
	if err := s.refuseWrite(); err != nil {
		return nil, err
	}
	if len(target) == 0 {
		return nil, fmt.Errorf("collection %s: change splits: no splits given", s.dir)
	}
	var pending []string
	err := withRetry(ctx, func() error {
		pending = nil
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		current, err := recordedSplits(ctx, tx)
		if err != nil {
			return err
		}
		before, inProgress, err := resplitMark(ctx, tx)
		if err != nil {
			return err
		}
		if !slices.Equal(current, target) {
			b, _ := json.Marshal(target)
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES('splits', ?)`, string(b)); err != nil {
				return err
			}
			// A new target restarts the run: every document is pending.
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM documents`).Scan(&before); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES('resplit_before', ?)`, strconv.FormatInt(before, 10)); err != nil {
				return err
			}
			inProgress = true
		}
		if !inProgress {
			return tx.Commit()
		}
		rows, err := tx.QueryContext(ctx, `SELECT source FROM documents WHERE id <= ? ORDER BY source`, before)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var src string
			if err := rows.Scan(&src); err != nil {
				return err
			}
			pending = append(pending, src)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, fmt.Errorf("collection %s: change splits: %w", s.dir, err)
	}
	s.setSplits(target)
	return pending, nil
}

// FinishResplit ends a resplit once no document is left with the old
// splits; with some left it fails, naming how many.
func (s *Store) FinishResplit(ctx context.Context) error {
	if err := s.refuseWrite(); err != nil {
		return err
	}
	err := withRetry(ctx, func() error {
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		before, inProgress, err := resplitMark(ctx, tx)
		if err != nil || !inProgress {
			return err
		}
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM documents WHERE id <= ?`, before).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return fmt.Errorf("%d documents still have the old splits; run the resplit again", left)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'resplit_before'`); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("collection %s: change splits: %w", s.dir, err)
	}
	return nil
}

// ResplitPending reports whether a resplit was started and not finished.
func (s *Store) ResplitPending(ctx context.Context) (bool, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	_, pending, err := resplitMark(ctx, tx)
	return pending, err
}

func recordedSplits(ctx context.Context, tx *sql.Tx) ([]store.Split, error) {
	var raw string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'splits'`).Scan(&raw); err != nil {
		return nil, err
	}
	var splits []store.Split
	if err := json.Unmarshal([]byte(raw), &splits); err != nil {
		return nil, fmt.Errorf("corrupt splits record: %w", err)
	}
	return splits, nil
}

func resplitMark(ctx context.Context, tx *sql.Tx) (before int64, ok bool, err error) {
	var raw string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'resplit_before'`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	before, err = strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("corrupt resplit record %q", raw)
	}
	return before, true, nil
}
