package sqlite

import (
	"container/heap"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// BM25 parameters: the standard k1 and b, as in Lucene and Anserini.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// SearchText ranks the chunks of split against query with BM25.
func (s *Store) SearchText(ctx context.Context, split, query string, k int) ([]document.Passage, error) {
	return s.searchTextWhere(ctx, split, query, k, nil)
}

func (s *Store) searchTextWhere(ctx context.Context, split, query string, k int, f *store.Filter) ([]document.Passage, error) {
	sp, ok := s.split(split)
	if !ok {
		return nil, s.unknownSplit(split)
	}
	if !sp.Search {
		return nil, fmt.Errorf("split %q is not indexed for search (it only holds parents)", split)
	}
	if k <= 0 {
		return nil, nil
	}
	qtf := map[string]int{}
	var terms []string
	for _, t := range textproc.QueryTerms(query) {
		if qtf[t] == 0 {
			terms = append(terms, t)
		}
		qtf[t]++
	}
	if len(terms) == 0 {
		return nil, nil
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	var allow *chunkSet
	if !f.Empty() {
		if allow, err = s.allowedChunks(ctx, tx, split, f); err != nil {
			var fe *store.FilterError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("collection %s: filter: %w", s.dir, err)
		}
		if len(allow.ids) == 0 {
			return nil, nil
		}
	}
	out, err := s.searchText(ctx, tx, split, terms, qtf, k, allow)
	if err != nil {
		return nil, fmt.Errorf("collection %s: search %s: %w", s.dir, split, err)
	}
	return out, nil
}

func (s *Store) searchText(ctx context.Context, tx *sql.Tx, split string, terms []string, qtf map[string]int, k int, allow *chunkSet) ([]document.Passage, error) {
	var n, total int64
	err := tx.QueryRowContext(ctx, `SELECT chunks, terms FROM bm25_stats WHERE split = ?`, split).Scan(&n, &total)
	if err == sql.ErrNoRows || n <= 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	avgdl := float64(total) / float64(n)
	// One statement per term: for every segment of the split, the block
	// that may hold the term.
	stmt, err := tx.PrepareContext(ctx, `SELECT s.first, (SELECT b.data FROM bm25_blocks b WHERE b.segment = s.id AND b.last_term >= ?2 ORDER BY b.last_term LIMIT 1)
		FROM bm25_segments s WHERE s.split = ?1`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()

	// Read every term's postings first, so that the accumulator is sized
	// once: growing a hash map of 100k entries cost more than the scoring.
	type termPostings struct {
		term   string
		lists  []segmentList
		weight float64
	}
	var all []termPostings
	var postings int64
	for _, term := range terms {
		lists, df, err := readPostings(ctx, stmt, split, term)
		if err != nil {
			return nil, err
		}
		if df == 0 {
			continue
		}
		df = min(df, n)
		idf := math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
		all = append(all, termPostings{term: term, lists: lists, weight: idf * float64(qtf[term])})
		postings += df
	}
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT min(id) FROM chunks), (SELECT max(id) FROM chunks)`).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	if !lo.Valid || postings == 0 {
		return nil, nil
	}
	acc := newAccumulator(lo.Int64, hi.Int64)
	acc.allow = allow
	defer acc.release()
	for _, tp := range all {
		for _, l := range tp.lists {
			err := decodePostings(l.postings, l.count, func(p posting) {
				tf := float64(p.tf)
				norm := bm25K1 * (1 - bm25B + bm25B*float64(p.dl)/avgdl)
				acc.add(l.first+p.chunk, tp.weight*tf*(bm25K1+1)/(tf+norm))
			})
			if err != nil {
				return nil, fmt.Errorf("term %q: %w", tp.term, err)
			}
		}
	}
	// Postings of deleted chunks stay in their segment until it is merged;
	// they drop out here when their chunk is not found.
	want := k + 8
	for {
		top := acc.top(want)
		ids := make([]int64, len(top))
		for i, h := range top {
			ids[i] = h.id
		}
		found, err := passagesByID(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		var out []document.Passage
		for _, h := range top {
			if p, ok := found[h.id]; ok && len(out) < k {
				p.Score = h.score
				out = append(out, p)
			}
		}
		if len(out) >= k || len(top) < want {
			return out, nil
		}
		want *= 4
	}
}

// segmentList is one term's postings in one segment.
type segmentList struct {
	first    int64
	count    int
	postings []byte
}

// readPostings reads term's postings in every segment of split.
func readPostings(ctx context.Context, stmt *sql.Stmt, split, term string) ([]segmentList, int64, error) {
	rows, err := stmt.QueryContext(ctx, split, term)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var lists []segmentList
	var df int64
	for rows.Next() {
		var first int64
		var data sql.RawBytes
		if err := rows.Scan(&first, &data); err != nil {
			return nil, 0, err
		}
		if data == nil {
			continue
		}
		bt, ok, err := lookupBlock(data, term)
		if err != nil {
			return nil, 0, fmt.Errorf("block of term %q: %w", term, err)
		}
		if !ok {
			continue
		}
		// RawBytes is only valid until the next row: keep a copy of the
		// term's postings, not of the block.
		lists = append(lists, segmentList{first: first, count: bt.count, postings: append([]byte(nil), bt.postings...)})
		df += int64(bt.count)
	}
	return lists, df, rows.Err()
}

// accumulator sums scores per chunk id. Chunk ids are dense (AUTOINCREMENT
// rows), so scores live in an array indexed by id - base rather than a
// hash map, which cost more than decoding the postings; the array comes
// from a pool and only the entries touched are cleared.
type accumulator struct {
	allow   *chunkSet // nil: every chunk
	base    int64
	scores  []float64
	touched []int32
}

var accumulatorPool = sync.Pool{New: func() any { return &accumulator{} }}

// newAccumulator returns an accumulator for chunk ids in [lo, hi].
func newAccumulator(lo, hi int64) *accumulator {
	a := accumulatorPool.Get().(*accumulator)
	n := int(hi - lo + 1)
	if cap(a.scores) < n {
		a.scores = make([]float64, n)
	}
	a.base, a.scores, a.touched, a.allow = lo, a.scores[:n], a.touched[:0], nil
	return a
}

func (a *accumulator) release() {
	for _, i := range a.touched {
		a.scores[i] = 0
	}
	accumulatorPool.Put(a)
}

func (a *accumulator) add(id int64, score float64) {
	if a.allow != nil && !a.allow.has(id) {
		return // not allowed by the filter
	}
	i := id - a.base
	if i < 0 || i >= int64(len(a.scores)) {
		return // a posting of a chunk outside the range read: deleted since
	}
	if a.scores[i] == 0 {
		a.touched = append(a.touched, int32(i))
	}
	a.scores[i] += score
}

type hit struct {
	id    int64
	score float64
}

// top returns the n best hits, best first; ties go to the older chunk so
// that results are deterministic.
func (a *accumulator) top(n int) []hit {
	h := make(minHeap, 0, n)
	for _, i := range a.touched {
		x := hit{a.base + int64(i), a.scores[i]}
		if len(h) < n {
			heap.Push(&h, x)
		} else if better(x, h[0]) {
			h[0] = x
			heap.Fix(&h, 0)
		}
	}
	out := make([]hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(hit)
	}
	return out
}

func better(a, b hit) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

type minHeap []hit

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(hit)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
