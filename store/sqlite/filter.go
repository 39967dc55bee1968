package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/distill-rag/distill/ann"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// flatBelow is the number of allowed vectors under which a filtered dense
// search compares the query with just those vectors instead of walking
// the graph (Weaviate's flat-search cutoff): a few thousand comparisons
// cost less than a graph walk that must skip most of what it visits.
var flatBelow = 20000

// chunkSet is a set of chunk row ids, a bitmap over [lo, hi].
type chunkSet struct {
	lo   int64
	bits []uint64
	ids  []int64 // sorted
}

func newChunkSet(ids []int64) *chunkSet {
	slices.Sort(ids)
	s := &chunkSet{ids: ids}
	if len(ids) == 0 {
		return s
	}
	s.lo = ids[0]
	s.bits = make([]uint64, (ids[len(ids)-1]-s.lo)/64+1)
	for _, id := range ids {
		i := id - s.lo
		s.bits[i/64] |= 1 << (i % 64)
	}
	return s
}

func (s *chunkSet) has(id int64) bool {
	i := id - s.lo
	if i < 0 || i/64 >= int64(len(s.bits)) {
		return false
	}
	return s.bits[i/64]&(1<<(i%64)) != 0
}

// allowedChunks resolves f to the chunks of split it allows: documents are
// matched in Go (they are few next to chunks), then their chunks of the
// split are read through the (document, split, seq) index, with the page
// number when f has page conditions. It fails with a *store.FilterError
// for a key no document has.
// docSnapshot is the documents table as filters see it: row ids with the
// fields filters match. Row ids are AUTOINCREMENT (never reused) and a
// replaced document gets a new row, so the count of rows and the largest
// id identify the table's state: once ids only grow, the same count and
// maximum can only be the same set of rows.
type docSnapshot struct {
	count, maxID int64
	rows         []int64
	docs         []store.DocumentInfo
}

// filterDocuments returns the documents, from the cache while the table is
// unchanged: decoding every document's meta JSON on each query cost as
// much as the BM25 scoring of a 1% filter.
func (s *Store) filterDocuments(ctx context.Context, tx *sql.Tx) (*docSnapshot, error) {
	var count int64
	var maxID sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT count(*), max(id) FROM documents`).Scan(&count, &maxID); err != nil {
		return nil, err
	}
	if c := s.filterDocs.Load(); c != nil && c.count == count && c.maxID == maxID.Int64 {
		return c, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, doc_id, source, type, meta, ingested_at FROM documents`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	snap := &docSnapshot{count: count, maxID: maxID.Int64}
	for rows.Next() {
		var id, ingested int64
		var d store.DocumentInfo
		var meta string
		if err := rows.Scan(&id, &d.ID, &d.Source, &d.Type, &meta, &ingested); err != nil {
			return nil, err
		}
		d.Meta = store.DecodeMeta(meta)
		d.Ingested = time.Unix(ingested, 0).UTC()
		snap.rows = append(snap.rows, id)
		snap.docs = append(snap.docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(snap.rows)) == count {
		s.filterDocs.Store(snap)
	}
	return snap, nil
}

// allowedChunks resolves f to the chunks of split it allows: documents are
// matched in Go (they are few next to chunks), then their chunks of the
// split are read through the (document, split, seq) index, with the page
// number when f has page conditions. It fails with a *store.FilterError
// for a key no document has.
func (s *Store) allowedChunks(ctx context.Context, tx *sql.Tx, split string, f *store.Filter) (*chunkSet, error) {
	snap, err := s.filterDocuments(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := f.Check(snap.docs); err != nil {
		return nil, err
	}
	var matched []int64
	for i, d := range snap.docs {
		if f.MatchDocument(d) {
			matched = append(matched, snap.rows[i])
		}
	}
	q := `SELECT id, 0 FROM chunks WHERE document = ? AND split = ?`
	if f.HasPage() {
		q = `SELECT c.id, p.number FROM chunks c JOIN pages p ON p.id = c.page WHERE c.document = ? AND c.split = ?`
	}
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var ids []int64
	for _, doc := range matched {
		rows, err := stmt.QueryContext(ctx, doc, split)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var page int
			if err := rows.Scan(&id, &page); err != nil {
				rows.Close()
				return nil, err
			}
			if f.MatchPage(page) {
				ids = append(ids, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return newChunkSet(ids), nil
}

// SearchTextFiltered ranks the chunks of split that f allows with BM25:
// only their postings are scored, so the top k are the best k that pass.
func (s *Store) SearchTextFiltered(ctx context.Context, split, query string, k int, f *store.Filter) ([]document.Passage, error) {
	return s.searchTextWhere(ctx, split, query, k, f)
}

// SearchVectorFiltered ranks the chunks of split that f allows by cosine
// similarity: exactly over those vectors when they are fewer than
// flatBelow, else with the graph, searched deeper until k allowed are found.
func (s *Store) SearchVectorFiltered(ctx context.Context, split string, vec []float32, k int, f *store.Filter) ([]document.Passage, error) {
	return s.searchVector(ctx, split, vec, k, false, f)
}

// SearchVectorExactFiltered compares vec with every vector f allows.
func (s *Store) SearchVectorExactFiltered(ctx context.Context, split string, vec []float32, k int, f *store.Filter) ([]document.Passage, error) {
	return s.searchVector(ctx, split, vec, k, true, f)
}

// searchAllowed is the dense search over the allowed chunks.
func searchAllowed(ctx context.Context, tx *sql.Tx, emb *embeddingRow, ix *ann.Index, vec []float32, allow *chunkSet, want int, exact bool) ([]ann.Result, error) {
	if len(allow.ids) == 0 {
		return nil, nil
	}
	if exact {
		return rerankBatched(ctx, tx, emb, vec, allow.ids, want)
	}
	int8 := ix.Storage() == ann.Int8
	depth := want
	if int8 {
		depth = max(want, rerankDepth)
	}
	var hits []ann.Result
	var err error
	if len(allow.ids) < flatBelow {
		hits, err = ix.SearchKeys(vec, allow.ids, depth)
	} else {
		// A large share of the split passes: search the graph for more
		// than k, keep the allowed, deepen until enough are found.
		n := ix.Len()
		kk := depth * n / len(allow.ids) * 2
		for {
			all, serr := ix.Search(vec, kk)
			if serr != nil {
				return nil, serr
			}
			hits = hits[:0]
			for _, h := range all {
				if allow.has(h.Key) {
					hits = append(hits, h)
				}
			}
			if len(hits) >= depth || len(all) < kk {
				break
			}
			if kk >= n {
				// The walk found too few: compare with the allowed exactly.
				hits, err = ix.SearchKeys(vec, allow.ids, depth)
				break
			}
			kk = min(kk*4, n)
		}
		hits = hits[:min(len(hits), depth)]
	}
	if err != nil || !int8 {
		return hits, err
	}
	return rerank(ctx, tx, emb, vec, hits, want)
}

// rerankBatched ranks ids by their stored vectors, a batch at a time.
func rerankBatched(ctx context.Context, tx *sql.Tx, emb *embeddingRow, vec []float32, ids []int64, k int) ([]ann.Result, error) {
	var best []ann.Result
	for len(ids) > 0 {
		n := min(len(ids), 4096)
		batch := make([]ann.Result, n)
		for i, id := range ids[:n] {
			batch[i] = ann.Result{Key: id}
		}
		ids = ids[n:]
		got, err := rerank(ctx, tx, emb, vec, batch, k)
		if err != nil {
			return nil, fmt.Errorf("rank the allowed vectors: %w", err)
		}
		best = append(best, got...)
		ann.SortResults(best)
		best = best[:min(k, len(best))]
	}
	return best, nil
}
