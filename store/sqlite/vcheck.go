package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/distill-rag/distill/ann"
	"github.com/distill-rag/distill/store"
)

// vectorIndex checks the stored vectors against the chunks and the recorded
// embedding model, and each split's index file against the stored vectors;
// a repair drops vectors no chunk or model owns and rewrites the files.
//
// What is by design and so not a problem: vectors of an inactive model
// (a reindex in progress keeps them beside the active model's until it
// switches), an index file that is missing or behind the log (the next
// search loads and replays or rebuilds it), temporary files of a save that
// was killed, and files of a model the collection no longer uses.
type vectorIndexCheck struct{}

func init() { RegisterDerivedIndex(vectorIndexCheck{}) }

func (vectorIndexCheck) Name() string { return "vectors" }

// selfSample is how many stored vectors the check looks up in each index
// file, expecting each to come back as its own nearest neighbour.
const selfSample = 200

// vectorQueries find stored vectors that no chunk, model or searched split
// owns, and vectors filed under the wrong split; a repair fixes all of
// them (orphans are dropped, splits copied from the chunk).
var vectorQueries = []string{
	`SELECT count(*) || ' vectors belong to no embedding model (model rows ' || group_concat(DISTINCT v.embedding) || ')'
		FROM vectors v LEFT JOIN embeddings e ON e.id = v.embedding WHERE e.id IS NULL HAVING count(*) > 0`,
	`SELECT count(*) || ' vectors belong to chunks that no longer exist (e.g. chunk row ' || min(v.chunk) || ')'
		FROM vectors v LEFT JOIN chunks c ON c.id = v.chunk WHERE c.id IS NULL HAVING count(*) > 0`,
	`SELECT count(*) || ' vectors of ' || e.model || ' are filed under another split than their chunk''s (e.g. chunk row ' || min(v.chunk) || ': ' || min(v.split) || ')'
		FROM vectors v JOIN chunks c ON c.id = v.chunk JOIN embeddings e ON e.id = v.embedding WHERE v.split != c.split GROUP BY e.id`,
}

func (vectorIndexCheck) Check(ctx context.Context, s *Store, tx *sql.Tx, p *Problems) error {
	for _, q := range vectorQueries {
		if err := eachString(ctx, tx, q, func(msg string) { p.Add(true, "%s", msg) }); err != nil {
			return err
		}
	}
	in, args := s.searchedSplits()
	// Vectors of chunks that are not searched (parents) are never used.
	err := eachString(ctx, tx, `SELECT count(*) || ' vectors belong to chunks of split ' || c.split || ', which is not searched'
		FROM vectors v JOIN chunks c ON c.id = v.chunk WHERE c.split NOT IN (`+in+`) GROUP BY c.split`,
		func(msg string) { p.Add(true, "%s", msg) }, args...)
	if err != nil {
		return err
	}

	var active int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM embeddings WHERE active = 1`).Scan(&active); err != nil {
		return err
	}
	if active > 1 {
		var models []string
		eachString(ctx, tx, `SELECT model FROM embeddings WHERE active = 1 ORDER BY id`, func(m string) { models = append(models, m) })
		p.Add(false, "%d embedding models are marked active (%s); a collection searches with one", active, strings.Join(models, ", "))
		return nil
	}
	// Every model's vectors have the dimension recorded for it; a model
	// whose vectors all share another one recorded the wrong number.
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.model, e.dim, length(v.vector) / 4, length(v.vector) % 4, count(*), min(v.chunk)
		FROM vectors v JOIN embeddings e ON e.id = v.embedding GROUP BY e.id, length(v.vector) ORDER BY e.id, count(*) DESC`)
	if err != nil {
		return err
	}
	type dimGroup struct {
		model              string
		recorded, dim, odd int
		n                  int
		example            int64
	}
	groups := map[int64][]dimGroup{}
	var order []int64
	for rows.Next() {
		var id int64
		var g dimGroup
		if err := rows.Scan(&id, &g.model, &g.recorded, &g.dim, &g.odd, &g.n, &g.example); err != nil {
			rows.Close()
			return err
		}
		if groups[id] == nil {
			order = append(order, id)
		}
		groups[id] = append(groups[id], g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range order {
		gs := groups[id]
		if len(gs) == 1 && gs[0].odd == 0 && gs[0].dim != gs[0].recorded {
			p.Add(true, "model %s records %d dimensions, but all its %d vectors have %d", gs[0].model, gs[0].recorded, gs[0].n, gs[0].dim)
			continue
		}
		for _, g := range gs {
			if g.odd == 0 && g.dim == g.recorded {
				continue
			}
			name := fmt.Sprintf("row %d", g.example)
			var docID, split string
			var seq int
			if tx.QueryRowContext(ctx, `SELECT d.doc_id, c.split, c.seq FROM chunks c JOIN documents d ON d.id = c.document WHERE c.id = ?`, g.example).Scan(&docID, &split, &seq) == nil {
				name = store.ChunkID(docID, split, seq)
			}
			p.Add(false, "%d vectors of %s have %d bytes, not the %d of its %d dimensions (e.g. chunk %s); remove that document (distill rm) and ingest it again",
				g.n, g.model, 4*g.dim+g.odd, 4*g.recorded, g.recorded, name)
		}
	}

	emb, err := activeEmbedding(ctx, tx)
	if err != nil || emb == nil {
		return err // an offline collection: nothing is searched densely
	}
	for _, sp := range s.splitList() {
		if !sp.Search {
			continue
		}
		var missing int
		var example sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(c.id) FROM chunks c WHERE c.split = ?
			AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.embedding = ? AND v.chunk = c.id)`, sp.Name, emb.id).Scan(&missing, &example); err != nil {
			return err
		}
		if missing > 0 {
			p.Add(false, "%d chunks of split %s have no vector from %s, so dense search cannot find them (e.g. chunk row %d); run distill reindex --embed %s",
				missing, sp.Name, emb.model, example.Int64, emb.model)
		}
		if emb.dim == 0 {
			continue
		}
		if err := checkIndexFile(ctx, s, tx, emb, sp.Name, p); err != nil {
			return err
		}
	}
	return nil
}

// checkIndexFile verifies the split's index file, when there is one: its
// header names this collection, model and dimension and a log position
// the log has reached; replaying the log from there gives exactly the
// stored vectors' chunks; and a sample of stored vectors each find
// themselves first.
func checkIndexFile(ctx context.Context, s *Store, tx *sql.Tx, emb *embeddingRow, split string, p *Problems) error {
	key := indexKey{emb.id, split}
	path := s.indexPath(key)
	name := filepath.Join("index", filepath.Base(path))
	ix, h, err := readIndexFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil // built from the stored vectors when first searched
	case err != nil:
		p.Add(true, "index file %s of split %s cannot be used: %v", name, split, err)
		return nil
	}
	collection, err := s.collectionID(ctx, tx)
	if err != nil {
		return err
	}
	var maxSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM vector_log`).Scan(&maxSeq); err != nil {
		return err
	}
	switch {
	case h.Collection != collection:
		p.Add(true, "index file %s belongs to another collection (%s)", name, h.Collection)
		return nil
	case h.Model != emb.model || h.Embedding != emb.id:
		p.Add(true, "index file %s holds vectors of %s, but the collection is embedded with %s", name, h.Model, emb.model)
		return nil
	case h.Split != split:
		p.Add(true, "index file %s holds split %s, not %s", name, h.Split, split)
		return nil
	case h.Dim != emb.dim || ix.Dim() != emb.dim:
		p.Add(true, "index file %s has %d dimensions, but the collection's vectors have %d", name, ix.Dim(), emb.dim)
		return nil
	case h.Count != ix.Len():
		p.Add(true, "index file %s records %d vectors but holds %d", name, h.Count, ix.Len())
		return nil
	case h.Seq > maxSeq:
		p.Add(true, "index file %s reflects vector log entry %d, but the log ends at %d", name, h.Seq, maxSeq)
		return nil
	}
	// Replay the log as a search would, on a private copy.
	idx := &vectorIndex{key: key, model: emb.model, ix: ix, seq: h.Seq}
	if _, err := s.replayLog(ctx, tx, idx); err != nil {
		p.Add(true, "index file %s: replaying the vector log from entry %d: %v", name, h.Seq, err)
		return nil
	}
	var stored []int64
	rows, err := tx.QueryContext(ctx, `SELECT chunk FROM vectors WHERE embedding = ? AND split = ? ORDER BY chunk`, emb.id, split)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		stored = append(stored, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	indexed := ix.Keys()
	slices.Sort(indexed)
	extra, missing := diffSorted(indexed, stored)
	if len(extra) > 0 {
		p.Add(true, "index file %s (log entry %d, replayed to %d) holds %d chunks that have no stored vector (e.g. chunk row %d)", name, h.Seq, idx.seq, len(extra), extra[0])
	}
	if len(missing) > 0 {
		p.Add(true, "index file %s (log entry %d, replayed to %d) lacks %d stored vectors (e.g. chunk row %d)", name, h.Seq, idx.seq, len(missing), missing[0])
	}
	if len(extra) > 0 || len(missing) > 0 || len(stored) == 0 {
		return nil
	}
	return checkAgainstStored(ctx, tx, ix, emb, split, stored, name, p)
}

// checkAgainstStored compares every stored vector with the index's copy,
// and searches the graph for a sample of them: each must come back first,
// with similarity 1 (ties with identical vectors aside). A vector changed
// in the table behind the index fails the first; a graph that lost its
// links, the second.
func checkAgainstStored(ctx context.Context, tx *sql.Tx, ix *ann.Index, emb *embeddingRow, split string, stored []int64, name string, p *Problems) error {
	step := max(1, len(stored)/selfSample)
	rows, err := tx.QueryContext(ctx, `SELECT chunk, vector FROM vectors WHERE embedding = ? AND split = ? ORDER BY chunk`, emb.id, split)
	if err != nil {
		return err
	}
	defer rows.Close()
	const k = 10
	var differ, misses []int64
	sampled := 0
	for i := 0; rows.Next(); i++ {
		var id int64
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			return err
		}
		v, err := decodeVector(blob, emb.dim)
		if err != nil {
			continue // reported with the dimensions
		}
		var norm float64
		for _, f := range v {
			norm += float64(f) * float64(f)
		}
		if norm == 0 || math.IsNaN(norm) {
			continue // a zero vector has no direction to compare or find
		}
		holds, ok := ix.Holds(id, v)
		if !ok {
			continue // reported as missing
		}
		if !holds {
			differ = append(differ, id)
			continue
		}
		if i%step != 0 || sampled >= selfSample {
			continue
		}
		sampled++
		// Searched as a query is, an int8 index's hits re-ranked with the
		// stored vectors, but deeper: among near-duplicates (boilerplate
		// pages, a toy model's tight clusters) codes can rank dozens of
		// neighbours within rounding of the vector itself, and this check
		// is after links that were lost, not rounding.
		var hits []ann.Result
		if ix.Storage() == ann.Int8 {
			if hits, err = ix.Search(v, checkDepth); err == nil {
				hits, err = rerank(ctx, tx, emb, v, hits, k)
			}
		} else {
			hits, err = ix.Search(v, k)
		}
		if err != nil {
			return err
		}
		if !findsItself(hits, id, k) {
			misses = append(misses, id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(differ) > 0 {
		p.Add(true, "index file %s holds %d vectors that differ from the stored ones (e.g. chunk row %d)", name, len(differ), differ[0])
	}
	// HNSW is approximate, and on tightly clustered vectors (a toy model,
	// a tiny vocabulary) a few nodes lose every link that leads to them:
	// 2 in 100 were measured on a sound graph of hash:32 vectors of
	// 50-word text. A damaged graph misses far more; allow one in ten.
	if len(misses) > sampled/10 {
		p.Add(true, "index file %s: %d of %d sampled stored vectors are not their own nearest neighbour in its graph (e.g. chunk row %d)",
			name, len(misses), sampled, misses[0])
	}
	return nil
}

// checkDepth is how many hits of an int8 index the self-search re-ranks.
const checkDepth = 200

// findsItself reports whether the search for key's own vector returned key
// with similarity ~1, or k ties at ~1 that crowd it out.
func findsItself(hits []ann.Result, key int64, k int) bool {
	const one = 1 - 1e-4
	for _, h := range hits {
		if h.Key == key {
			return h.Score >= one
		}
	}
	return len(hits) == k && hits[k-1].Score >= one
}

// diffSorted returns the elements only in a and only in b.
func diffSorted(a, b []int64) (onlyA, onlyB []int64) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return onlyA, onlyB
}

// Rebuild drops vectors nothing owns, files vectors under their chunk's
// split, records the dimension the vectors have, and writes every searched
// split's index file afresh from the stored vectors.
func (vectorIndexCheck) Rebuild(ctx context.Context, s *Store, tx *sql.Tx) error {
	// The files reflect the log as it stood before this repair's own
	// entries: should the repair roll back and those numbers be reused, a
	// load replays them rather than trusting them.
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM vector_log`).Scan(&seq); err != nil {
		return err
	}
	in, args := s.searchedSplits()
	for _, q := range []string{
		`DELETE FROM vectors WHERE embedding NOT IN (SELECT id FROM embeddings)`,
		`DELETE FROM vectors WHERE chunk NOT IN (SELECT id FROM chunks)`,
		`DELETE FROM vectors WHERE chunk IN (SELECT id FROM chunks WHERE split NOT IN (` + in + `))`,
		`UPDATE vectors SET split = (SELECT c.split FROM chunks c WHERE c.id = vectors.chunk)
			WHERE split != (SELECT c.split FROM chunks c WHERE c.id = vectors.chunk)`,
		// A model whose vectors all have one length records that length.
		`UPDATE embeddings SET dim = (SELECT min(length(v.vector)) / 4 FROM vectors v WHERE v.embedding = embeddings.id)
			WHERE (SELECT count(DISTINCT length(v.vector)) FROM vectors v WHERE v.embedding = embeddings.id) = 1
			AND (SELECT min(length(v.vector)) % 4 FROM vectors v WHERE v.embedding = embeddings.id) = 0`,
	} {
		qargs := []any(nil)
		if strings.Contains(q, "NOT IN ("+in+")") {
			qargs = args
		}
		if _, err := tx.ExecContext(ctx, q, qargs...); err != nil {
			return err
		}
	}
	emb, err := activeEmbedding(ctx, tx)
	if err != nil {
		return err
	}
	// Forget what this handle holds in memory: it may hold what the files
	// held. Files of other models are leftovers of a switch.
	s.dropIndexes(-1)
	removeStaleTemporaries(s)
	if emb == nil || emb.dim == 0 {
		return nil
	}
	for _, sp := range s.splitList() {
		if !sp.Search {
			continue
		}
		idx := &vectorIndex{key: indexKey{emb.id, sp.Name}, model: emb.model}
		if err := s.buildIndex(ctx, tx, idx, emb); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Vectors of the wrong size: the check names them, and no
			// file is better than one without them.
			continue
		}
		idx.seq = seq
		if err := s.saveIndex(ctx, idx); err != nil {
			return fmt.Errorf("split %s: %w", sp.Name, err)
		}
	}
	return nil
}

// removeStaleTemporaries deletes what saves killed half-way left behind.
// A save in progress in another process is minutes old at most.
func removeStaleTemporaries(s *Store) {
	files, _ := filepath.Glob(filepath.Join(s.dir, "index", ".tmp-*.hnsw"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			os.Remove(f)
		}
	}
}
