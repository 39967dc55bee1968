package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// bm25Index checks the BM25 segments, postings and statistics against the
// chunks' text, and rebuilds them from it.
type bm25Index struct{}

func (bm25Index) Name() string { return "bm25" }

// chunkRow is a chunk as the BM25 check and rebuild read it.
type chunkRow struct {
	id, page   int64
	start, end int
	terms      int
}

// indexedChunk is what the check knows of one live chunk: fingerprints of
// its (term, frequency) pairs from its text (want) and from the postings
// (got), its segment and its length in terms.
type indexedChunk struct {
	want, got uint64
	segment   int64
	length    uint32
}

type segmentRow struct {
	id                    int64
	split                 string
	first, last           int64
	chunks, deleted, live int64
	foreign               map[int64]bool // chunk ids in its postings that are not live in it
}

func (bm25Index) Check(ctx context.Context, s *Store, tx *sql.Tx, p *Problems) error {
	segs := map[int64]*segmentRow{}
	rows, err := tx.QueryContext(ctx, `SELECT id, split, first, last, chunks, deleted FROM bm25_segments ORDER BY split, first`)
	if err != nil {
		return err
	}
	var prev *segmentRow
	for rows.Next() {
		sr := &segmentRow{foreign: map[int64]bool{}}
		if err := rows.Scan(&sr.id, &sr.split, &sr.first, &sr.last, &sr.chunks, &sr.deleted); err != nil {
			rows.Close()
			return err
		}
		segs[sr.id] = sr
		if sp, ok := s.split(sr.split); !ok || !sp.Search {
			p.Add(true, "segment %d belongs to split %q, which is not searched", sr.id, sr.split)
		}
		if sr.first > sr.last {
			p.Add(true, "segment %d of split %s covers chunk rows %d..%d, an empty range", sr.id, sr.split, sr.first, sr.last)
		}
		if prev != nil && prev.split == sr.split && prev.last >= sr.first {
			p.Add(true, "segments %d and %d of split %s overlap (chunk rows %d..%d and %d..%d)", prev.id, sr.id, sr.split, prev.first, prev.last, sr.first, sr.last)
		}
		prev = sr
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := eachString(ctx, tx, `SELECT DISTINCT 'block ' || quote(last_term) || ' is in segment ' || segment || ', which does not exist'
		FROM bm25_blocks WHERE segment NOT IN (SELECT id FROM bm25_segments)`, func(msg string) { p.Add(true, "%s", msg) }); err != nil {
		return err
	}
	for _, sp := range s.splitList() {
		if !sp.Search {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chunks c WHERE c.split = ? AND (c.terms != 0 OR EXISTS (SELECT 1 FROM bm25_segments s WHERE s.split = c.split AND c.id BETWEEN s.first AND s.last))`, sp.Name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				p.Add(true, "%d chunks of split %s, which is not searched, are indexed", n, sp.Name)
			}
			continue
		}
		if err := checkSplitBM25(ctx, s, tx, sp, segs, p); err != nil {
			return err
		}
	}
	ids := make([]int64, 0, len(segs))
	for id := range segs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		sr := segs[id]
		if sr.live != sr.chunks-sr.deleted {
			p.Add(true, "segment %d of split %s records %d chunks with %d deleted, but %d live chunks are in it", id, sr.split, sr.chunks, sr.deleted, sr.live)
		}
		if int64(len(sr.foreign)) > sr.deleted {
			p.Add(true, "segment %d of split %s has postings for %d chunks that are not in it, more than the %d it records as deleted", id, sr.split, len(sr.foreign), sr.deleted)
		}
	}
	return eachString(ctx, tx, `SELECT split FROM bm25_stats WHERE chunks != 0 OR terms != 0`, func(split string) {
		if sp, ok := s.split(split); !ok || !sp.Search {
			p.Add(true, "statistics are recorded for split %q, which is not searched", split)
		}
	})
}

func checkSplitBM25(ctx context.Context, s *Store, tx *sql.Tx, sp store.Split, segs map[int64]*segmentRow, p *Problems) error {
	rows, err := readChunkRows(ctx, tx, sp.Name)
	if err != nil {
		return err
	}
	var ranges []*segmentRow // the split's segments by first chunk
	for _, sr := range segs {
		if sr.split == sp.Name {
			ranges = append(ranges, sr)
		}
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].first < ranges[j].first })
	segmentOf := func(id int64) *segmentRow {
		i := sort.Search(len(ranges), func(i int) bool { return ranges[i].last >= id })
		if i < len(ranges) && ranges[i].first <= id {
			return ranges[i]
		}
		return nil
	}
	chunks := make(map[int64]*indexedChunk, len(rows))
	var liveTerms int64
	tf := map[string]uint32{}
	err = eachPage(ctx, tx, rows, func(c chunkRow, tokens []textproc.Token, ok bool) error {
		if !ok {
			return nil // the links check reports chunks outside their page
		}
		n := countTerms(tf, tokens, c.start, c.end)
		ic := &indexedChunk{want: fingerprint(tf), length: uint32(n), segment: -1}
		chunks[c.id] = ic
		liveTerms += int64(n)
		if c.terms != n {
			addChunk(ctx, tx, p, c.id, "records %d terms, but its text has %d", c.terms, n)
		}
		if sr := segmentOf(c.id); sr == nil {
			addChunk(ctx, tx, p, c.id, "is not in the BM25 index (no segment of split %s covers it)", sp.Name)
		} else {
			ic.segment = sr.id
			sr.live++
		}
		return nil
	})
	if err != nil {
		return err
	}

	brows, err := tx.QueryContext(ctx, `SELECT b.segment, b.last_term, b.data FROM bm25_blocks b JOIN bm25_segments s ON s.id = b.segment
		WHERE s.split = ? ORDER BY b.segment, b.last_term`, sp.Name)
	if err != nil {
		return err
	}
	lastSeg, lastTerm := int64(-1), ""
	for brows.Next() {
		var seg int64
		var key string
		var data []byte
		if err := brows.Scan(&seg, &key, &data); err != nil {
			brows.Close()
			return err
		}
		sr := segs[seg]
		if seg != lastSeg {
			lastSeg, lastTerm = seg, ""
		}
		var bad error
		term, first := "", true
		err := eachBlockTerm(data, func(bt blockTerm) bool {
			name := string(bt.term)
			if (!first || lastTerm != "") && name <= max(term, lastTerm) {
				bad = fmt.Errorf("term %q out of order", name)
				return false
			}
			first, term = false, name
			var prev int64 = -1
			bad = decodePostings(bt.postings, bt.count, func(x posting) {
				if bad != nil {
					return
				}
				id := sr.first + x.chunk
				if id <= prev || id > sr.last {
					bad = fmt.Errorf("term %q: chunk row %d out of order or outside the segment's rows %d..%d", bt.term, id, sr.first, sr.last)
					return
				}
				prev = id
				ic := chunks[id]
				if ic == nil || ic.segment != seg {
					sr.foreign[id] = true
					return
				}
				ic.got += termPrint(name, x.tf)
				if x.dl != ic.length {
					bad = fmt.Errorf("chunk row %d has length %d in the postings but %d terms", id, x.dl, ic.length)
				}
			})
			return bad == nil
		})
		if err == nil && bad == nil && term != key {
			bad = fmt.Errorf("its last term is %q", term)
		}
		if err == nil {
			err = bad
		}
		if err != nil {
			p.Add(true, "split %s segment %d: block %q: %v", sp.Name, seg, key, err)
		}
		lastTerm = key
	}
	brows.Close()
	if err := brows.Err(); err != nil {
		return err
	}
	// A posting for a chunk of this split that sits in another segment is
	// counted as foreign there; one for a live chunk of another split would
	// make search return it, so look the foreign ids up.
	if err := checkForeignPostings(ctx, tx, sp.Name, segs, p); err != nil {
		return err
	}

	ids := make([]int64, 0, len(chunks))
	for id, ic := range chunks {
		if ic.segment >= 0 && ic.got != ic.want {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		addChunk(ctx, tx, p, id, "has BM25 postings that disagree with its text")
	}

	var statChunks, statTerms int64
	err = tx.QueryRowContext(ctx, `SELECT chunks, terms FROM bm25_stats WHERE split = ?`, sp.Name).Scan(&statChunks, &statTerms)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if statChunks != int64(len(chunks)) || statTerms != liveTerms {
		p.Add(true, "split %s statistics record %d chunks of %d terms, but it has %d chunks of %d terms", sp.Name, statChunks, statTerms, len(chunks), liveTerms)
	}
	return nil
}

// checkForeignPostings reports postings of split's segments that point at a
// chunk that exists: such a chunk is either live in another segment (two
// entries for one chunk) or belongs to another split.
func checkForeignPostings(ctx context.Context, tx *sql.Tx, split string, segs map[int64]*segmentRow, p *Problems) error {
	owner := map[int64]int64{}
	var ids []int64
	for seg, sr := range segs {
		if sr.split != split {
			continue
		}
		for id := range sr.foreign {
			owner[id] = seg
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM chunks WHERE id IN (`+placeholders(len(batch))+`)`, args...)
		if err != nil {
			return err
		}
		var found []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			found = append(found, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range found {
			addChunk(ctx, tx, p, id, "has postings in segment %d of split %s, where it does not belong", owner[id], split)
		}
	}
	return nil
}

// readChunkRows reads a split's chunks in id order.
func readChunkRows(ctx context.Context, tx *sql.Tx, split string) ([]chunkRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, page, start, end, terms FROM chunks WHERE split = ? ORDER BY id`, split)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chunkRow
	for rows.Next() {
		var c chunkRow
		if err := rows.Scan(&c.id, &c.page, &c.start, &c.end, &c.terms); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// eachPage calls fn for every chunk with the tokens of its page, reading and
// analyzing each page once while consecutive chunks share it; ok is false
// for a chunk whose page is missing or whose offsets fall outside it.
func eachPage(ctx context.Context, tx *sql.Tx, chunks []chunkRow, fn func(c chunkRow, tokens []textproc.Token, ok bool) error) error {
	stmt, err := tx.PrepareContext(ctx, `SELECT text FROM pages WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	page, text, found := int64(-1), "", false
	var tokens []textproc.Token
	for _, c := range chunks {
		if c.page != page {
			page = c.page
			err := stmt.QueryRowContext(ctx, page).Scan(&text)
			switch {
			case err == sql.ErrNoRows:
				found = false
			case err != nil:
				return err
			default:
				found = true
				tokens = textproc.English.Tokens(text)
			}
		}
		ok := found && c.start >= 0 && c.start <= c.end && c.end <= len(text)
		if err := fn(c, tokens, ok); err != nil {
			return err
		}
	}
	return nil
}

// addChunk records a problem with a chunk, named by its public id.
func addChunk(ctx context.Context, tx *sql.Tx, p *Problems, id int64, format string, args ...any) {
	if len(p.result.Problems) >= maxProblems {
		p.result.Truncated++
		return
	}
	name := fmt.Sprintf("row %d", id)
	var docID, split string
	var seq int
	if tx.QueryRowContext(ctx, `SELECT d.doc_id, c.split, c.seq FROM chunks c JOIN documents d ON d.id = c.document WHERE c.id = ?`, id).Scan(&docID, &split, &seq) == nil {
		name = store.ChunkID(docID, split, seq)
	}
	p.Add(true, "chunk %s %s", name, fmt.Sprintf(format, args...))
}

// fingerprint sums the term prints of a chunk's terms: equal multisets of
// (term, frequency) give equal sums whatever the order they are added in.
func fingerprint(tf map[string]uint32) uint64 {
	var sum uint64
	for t, n := range tf {
		sum += termPrint(t, n)
	}
	return sum
}

// termPrint hashes a term and its frequency (FNV-1a, then the SplitMix64
// finalizer so that sums of prints do not collide by accident).
func termPrint(term string, tf uint32) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(term); i++ {
		h ^= uint64(term[i])
		h *= 1099511628211
	}
	x := h ^ uint64(tf)*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Rebuild recomputes the BM25 index from the chunks' text: every segment,
// block and statistic is dropped and written again, as ingestion would have
// written them.
func (bm25Index) Rebuild(ctx context.Context, s *Store, tx *sql.Tx) error {
	for _, q := range []string{`DELETE FROM bm25_blocks`, `DELETE FROM bm25_segments`, `DELETE FROM bm25_stats`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	update, err := tx.PrepareContext(ctx, `UPDATE chunks SET terms = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer update.Close()
	tf := map[string]uint32{}
	for _, sp := range s.splitList() {
		if !sp.Search {
			if _, err := tx.ExecContext(ctx, `UPDATE chunks SET terms = 0 WHERE split = ? AND terms != 0`, sp.Name); err != nil {
				return err
			}
			continue
		}
		rows, err := readChunkRows(ctx, tx, sp.Name)
		if err != nil {
			return err
		}
		// A broken chunk stays out of the index: the segment before it ends
		// and the next one starts after it, so no segment covers it.
		seg := &segmentBuilder{split: sp.Name}
		write := func() error {
			err := s.writeSegment(ctx, tx, seg, 0)
			seg = &segmentBuilder{split: sp.Name}
			return err
		}
		err = eachPage(ctx, tx, rows, func(c chunkRow, tokens []textproc.Token, ok bool) error {
			n := 0
			if ok {
				n = countTerms(tf, tokens, c.start, c.end)
			}
			if n != c.terms {
				if _, err := update.ExecContext(ctx, n, c.id); err != nil {
					return err
				}
			}
			if !ok {
				return write()
			}
			seg.add(tf, c.id, n)
			if seg.postings.count >= segmentFlushPostings {
				return write()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := write(); err != nil {
			return err
		}
	}
	return nil
}
