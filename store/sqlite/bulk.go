package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// bulkSegments bounds the segments a split gains during a bulk run before
// they are merged anyway, so that queries meanwhile read a bounded number.
const bulkSegments = 1024

// bulkState defers BM25 merges while bulk runs are open. Merging after every
// small document rewrote each posting O(log n) times and planned a merge per
// write: 40% of the CPU of ingesting 3,600 abstracts. Within a bulk run
// nothing is merged; when the last run ends, the segments written since the
// first one began are merged into one, in one k-way pass, and the tiered
// policy then settles that segment among the older ones.
type bulkState struct {
	mu    sync.Mutex
	open  int             // bulk runs open
	since int64           // first chunk id the open runs may have written
	dirty map[string]bool // splits written during the runs
	// Per split, the segments written since the runs began or since they
	// were last merged, and the first chunk id of those.
	count map[string]int
	from  map[string]int64
}

// wrote records a committed write to split, whose new segments start at
// chunk id first (0: none, a deletion), and says whether to merge after it,
// and how: by the tiered policy outside a bulk run; within one, the run's
// newest segments once bulkSegments of them pile up, so that each posting
// is rewritten about twice in all.
func (b *bulkState) wrote(split string, first int64) (mergeScope, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == 0 {
		return mergeScope{}, true
	}
	b.dirty[split] = true
	if first <= 0 {
		return mergeScope{}, false
	}
	if b.count[split] == 0 {
		b.from[split] = first
	}
	if b.count[split]++; b.count[split] < bulkSegments {
		return mergeScope{}, false
	}
	scope := mergeScope{since: b.from[split]}
	b.count[split] = 0
	return scope, true
}

// BeginBulk starts a bulk run: until the returned function is called,
// writes do not merge BM25 segments. The function merges what the run wrote
// (when no other run is open) and is safe to call more than once. A crash
// within a run loses nothing: unmerged segments are as durable as merged
// ones, and later writes merge them by the tiered policy.
func (s *Store) BeginBulk(ctx context.Context) (end func(context.Context) error, err error) {
	if s.readOnly != "" { // nothing will be written: each write says why
		return func(context.Context) error { return nil }, nil
	}
	var next int64
	err = s.reader.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0) + 1`).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("collection %s: begin bulk write: %w", s.dir, err)
	}
	b := &s.bulk
	b.mu.Lock()
	if b.open == 0 {
		b.since, b.dirty, b.count, b.from = next, map[string]bool{}, map[string]int{}, map[string]int64{}
	}
	b.open++
	b.mu.Unlock()
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() { err = s.endBulk(ctx) })
		return err
	}, nil
}

func (s *Store) endBulk(ctx context.Context) error {
	b := &s.bulk
	b.mu.Lock()
	b.open--
	if b.open > 0 {
		b.mu.Unlock()
		return nil
	}
	since := b.since
	splits := make([]string, 0, len(b.dirty))
	for split := range b.dirty {
		splits = append(splits, split)
	}
	b.dirty, b.count, b.from = nil, nil, nil
	b.mu.Unlock()
	sort.Strings(splits)
	var errs []error
	for _, split := range splits {
		if err := s.merge(ctx, split, mergeScope{since: since}); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.merge(ctx, split, mergeScope{}))
	}
	return errors.Join(errs...)
}
