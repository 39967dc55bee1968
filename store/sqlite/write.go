package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// segmentFlushPostings bounds the postings a writer holds in memory before
// it writes them out as a segment, so a huge document indexes in bounded
// memory.
const segmentFlushPostings = 2 << 20

// flushBytes bounds the page text a writer buffers before it opens its
// transaction and writes what it has. A variable so that tests can make
// documents flush page by page.
var flushBytes = 32 << 20

// chunkBatch is how many chunk rows one INSERT statement writes.
const chunkBatch = 128

// A writer does the CPU work of a document (tokenizing, counting terms,
// encoding postings) before it takes the collection's write lock, which it
// only takes when it has buffered flushBytes of text or commits: ingest
// workers then analyze documents in parallel while one of them writes.
// Chunk ids are assigned in the transaction as consecutive AUTOINCREMENT
// values, so postings are built on ordinals and stored relative to their
// segment's first chunk.
type writer struct {
	s      *Store
	doc    document.Document
	tx     *sql.Tx // nil until the first flush
	docRow int64
	base   int64 // chunk ordinal i has id base + i

	insertPage *sql.Stmt
	args       []any // a chunk INSERT's arguments, reused

	model        string        // the embedding model vectors come from; "" for none
	emb          *embeddingRow // the collection's embedding, when it has one
	insertVector *sql.Stmt
	vectorSplits map[string]bool // splits that got vectors, to update their indexes

	ordinals     int64 // chunks added so far
	pages        int
	seq          map[string]int
	pending      []pendingPage
	pendingBytes int
	segments     map[string]*segmentBuilder
	touched      map[string]bool // splits whose segments changed, to merge after commit
	done         bool

	// Analysis state, reused across pages: the page's tokens as term ids,
	// and per-chunk counts indexed by term id.
	vocab   *vocabulary // from getVocabulary, until the writer is done
	dict    *termDict   // the vocabulary's
	tokens  []idToken
	counts  []uint32
	counted []int32 // term ids with non-zero counts
}

// idToken is a token of the page being analyzed, its term numbered by the
// writer's dictionary.
type idToken struct {
	id         int32
	start, end int32
}

type pendingPage struct {
	page   document.Page
	chunks []pendingChunk
}

type pendingChunk struct {
	index      int // in its page's chunks
	vector     []float32
	ordinal    int64
	split      string
	seq        int
	start, end int
	parent     int64 // ordinal, or -1
	terms      int
}

// segmentBuilder collects one new segment: chunks first..last (ordinals
// while a document is written, ids when the index is rebuilt) of split.
type segmentBuilder struct {
	split       string
	first, last int64
	chunks      int
	terms       int64
	postings    segmentPostings
	sealed      []block // the postings encoded, once seal has run
}

// seal encodes the segment's blocks, once.
func (seg *segmentBuilder) seal() {
	if seg.sealed == nil {
		seg.sealed = seg.postings.blocks()
		seg.postings = segmentPostings{}
	}
}

// Begin starts writing doc. An older document with the same source is
// deleted in the same transaction as the new one is written, so readers see
// either the old version or the new one, never both and never a mix.
func (s *Store) Begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	if err := s.refuseWrite(); err != nil {
		return nil, err
	}
	return s.begin(ctx, doc, "")
}

// BeginVectors is Begin for a document whose searched chunks carry vectors
// from model.
func (s *Store) BeginVectors(ctx context.Context, doc document.Document, model string) (store.DocumentWriter, error) {
	if err := s.refuseWrite(); err != nil {
		return nil, err
	}
	if model == "" {
		return nil, fmt.Errorf("collection %s: write %s: no embedding model named", s.dir, doc.Source)
	}
	return s.begin(ctx, doc, model)
}

func (s *Store) begin(ctx context.Context, doc document.Document, model string) (store.DocumentWriter, error) {
	return &writer{s: s, doc: doc, seq: map[string]int{}, segments: map[string]*segmentBuilder{}, touched: map[string]bool{},
		model: model, vectorSplits: map[string]bool{}}, nil
}

// begin opens the transaction: the old version goes, the document row and
// the statements are made, and the next chunk id is read.
func (w *writer) begin(ctx context.Context) error {
	w.s.prepareWrites(ctx)
	err := withRetry(ctx, func() error {
		var err error
		w.tx, err = w.s.writer.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	var old int64
	err = w.tx.QueryRowContext(ctx, `SELECT id FROM documents WHERE source = ? OR doc_id = ?`, w.doc.Source, w.doc.ID).Scan(&old)
	if err == nil {
		if err := deleteDocument(ctx, w.tx, old, w.touched); err != nil {
			return err
		}
	} else if err != sql.ErrNoRows {
		return err
	}
	res, err := w.tx.ExecContext(ctx, `INSERT INTO documents(doc_id, source, title, type, hash, size, meta, ingested_at) VALUES(?,?,?,?,?,?,?,?)`,
		w.doc.ID, w.doc.Source, w.doc.Title, w.doc.Type, w.doc.Hash, w.doc.Size, store.EncodeMeta(w.doc.Meta), time.Now().Unix())
	if err != nil {
		return err
	}
	if w.docRow, err = res.LastInsertId(); err != nil {
		return err
	}
	// AUTOINCREMENT never reuses an id, so the ids after the highest one
	// ever given are free for this transaction's chunks.
	if err := w.tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0) + 1`).Scan(&w.base); err != nil {
		return err
	}
	if w.insertPage, err = w.s.txStmt(ctx, w.tx, insertPageSQL); err != nil {
		return err
	}
	return w.startVectors(ctx)
}

func (w *writer) AddPage(ctx context.Context, page document.Page, chunks []store.Chunk) error {
	if w.done {
		return fmt.Errorf("write %s: document already committed or rolled back", w.doc.Source)
	}
	if err := w.addPage(ctx, page, chunks); err != nil {
		return fmt.Errorf("collection %s: write %s page %d: %w", w.s.dir, w.doc.Source, page.Number, err)
	}
	return nil
}

// addPage analyzes a page and buffers it, writing what is buffered when it
// grows past flushBytes or segmentFlushPostings.
func (w *writer) addPage(ctx context.Context, page document.Page, chunks []store.Chunk) error {
	analyzed := false
	pp := pendingPage{page: page, chunks: make([]pendingChunk, len(chunks))}
	for i, c := range chunks {
		sp, ok := w.s.split(c.Split)
		if !ok {
			return w.s.unknownSplit(c.Split)
		}
		if c.Start < 0 || c.End > len(page.Text) || c.Start > c.End {
			return fmt.Errorf("chunk %d of split %s has offsets [%d,%d) outside the page (%d bytes)", i, c.Split, c.Start, c.End, len(page.Text))
		}
		pc := pendingChunk{index: i, vector: c.Vector, ordinal: w.ordinals + int64(i), split: c.Split, start: c.Start, end: c.End, parent: -1}
		if c.Parent >= 0 {
			if c.Parent >= i {
				return fmt.Errorf("chunk %d of split %s names parent %d, which does not come before it", i, c.Split, c.Parent)
			}
			pc.parent = pp.chunks[c.Parent].ordinal
		}
		pc.seq = w.seq[c.Split]
		w.seq[c.Split] = pc.seq + 1
		if sp.Search {
			if !analyzed {
				w.analyze(page.Text)
				analyzed = true
			}
			pc.terms = w.countChunk(c.Start, c.End)
			w.segment(c.Split).addCounted(w, pc.ordinal, pc.terms)
		}
		pp.chunks[i] = pc
	}
	w.ordinals += int64(len(chunks))
	w.pending = append(w.pending, pp)
	w.pendingBytes += len(page.Text)
	full := w.pendingBytes >= flushBytes
	for _, seg := range w.segments {
		full = full || seg.postings.count >= segmentFlushPostings
	}
	if full {
		return w.flush(ctx)
	}
	return nil
}

// add adds a chunk whose terms are counted in tf. Chunks must come in
// increasing order.
func (seg *segmentBuilder) add(tf map[string]uint32, chunk int64, length int) {
	if seg.chunks == 0 {
		seg.first = chunk
	}
	seg.last = chunk
	seg.chunks++
	seg.terms += int64(length)
	for term, n := range tf {
		seg.postings.add(term, posting{chunk: chunk - seg.first, tf: n, dl: uint32(length)})
	}
}

// analyze tokenizes a page into w.tokens.
func (w *writer) analyze(text string) {
	w.tokens = w.tokens[:0]
	if w.vocab == nil {
		w.vocab = getVocabulary()
		w.dict = &w.vocab.dict
		w.tokens, w.counts, w.counted = w.vocab.tokens, w.vocab.counts, w.vocab.counted
	}
	textproc.English.ForEachWord(text, func(word []byte, start, end int) {
		if id := w.vocab.id(word); id >= 0 {
			w.tokens = append(w.tokens, idToken{id: id, start: int32(start), end: int32(end)})
		}
	})
}

// countChunk counts the terms of the tokens inside [start, end) into
// w.counts and w.touched and returns their number; it counts as
// countTerms does, which the check uses.
func (w *writer) countChunk(start, end int) int {
	i := sort.Search(len(w.tokens), func(i int) bool { return int(w.tokens[i].start) >= start })
	n := 0
	for ; i < len(w.tokens) && int(w.tokens[i].end) <= end; i++ {
		id := w.tokens[i].id
		if int(id) >= len(w.counts) {
			w.counts = append(w.counts, make([]uint32, len(w.dict.names)-len(w.counts))...)
		}
		if w.counts[id] == 0 {
			w.counted = append(w.counted, id)
		}
		w.counts[id]++
		n++
	}
	return n
}

// addCounted adds a chunk whose terms w.countChunk counted, and clears the
// counts. Chunks must come in increasing order.
func (seg *segmentBuilder) addCounted(w *writer, chunk int64, length int) {
	if seg.chunks == 0 {
		seg.first = chunk
	}
	seg.last = chunk
	seg.chunks++
	seg.terms += int64(length)
	for _, id := range w.counted {
		seg.postings.addID(id, posting{chunk: chunk - seg.first, tf: w.counts[id], dl: uint32(length)})
		w.counts[id] = 0
	}
	w.counted = w.counted[:0]
}

// countTerms fills tf with the terms of the tokens inside [start, end) and
// returns their number. The check recomputes the BM25 index with it.
func countTerms(tf map[string]uint32, tokens []textproc.Token, start, end int) int {
	clear(tf)
	i := sort.Search(len(tokens), func(i int) bool { return tokens[i].Start >= start })
	n := 0
	for ; i < len(tokens) && tokens[i].End <= end; i++ {
		tf[tokens[i].Term]++
		n++
	}
	return n
}

func (w *writer) segment(split string) *segmentBuilder {
	seg := w.segments[split]
	if seg == nil {
		seg = &segmentBuilder{split: split, postings: segmentPostings{dict: w.dict, flat: w.vocab.takeFlat(), scratch: &w.vocab.scratch}}
		w.segments[split] = seg
		w.touched[split] = true
	}
	return seg
}

// flush writes the buffered pages, chunks and segments, opening the
// transaction first if need be.
func (w *writer) flush(ctx context.Context) error {
	// The blocks are encoded (their terms sorted) before the write lock is
	// taken, so another writer can write meanwhile.
	splits := make([]string, 0, len(w.segments))
	for split := range w.segments {
		splits = append(splits, split)
	}
	sort.Strings(splits)
	segments := make([]*segmentBuilder, len(splits))
	for i, split := range splits {
		seg := w.segments[split]
		flat := seg.postings.flat
		seg.seal()
		w.vocab.putFlat(flat)
		segments[i] = seg
		delete(w.segments, split)
	}
	if w.tx == nil {
		if err := w.begin(ctx); err != nil {
			return err
		}
	}
	var rows []pendingChunk
	for _, pp := range w.pending {
		res, err := w.insertPage.ExecContext(ctx, w.docRow, pp.page.Number, pp.page.Text)
		if err != nil {
			return err
		}
		pageRow, err := res.LastInsertId()
		if err != nil {
			return err
		}
		w.pages++
		for i := 0; i < len(pp.chunks); i += len(rows) {
			rows = pp.chunks[i : i+batchSize(chunkBatch, len(pp.chunks)-i)]
			if err := w.insertChunks(ctx, pageRow, rows); err != nil {
				return err
			}
			for _, c := range rows {
				sp, _ := w.s.split(c.split)
				if err := w.addVector(ctx, w.base+c.ordinal, sp, c.index, c.vector); err != nil {
					return err
				}
			}
		}
	}
	w.pending, w.pendingBytes = nil, 0
	for _, seg := range segments {
		if err := w.s.writeSegment(ctx, w.tx, seg, w.base); err != nil {
			return err
		}
	}
	return nil
}

// insertChunks writes chunk rows of one page with one statement.
func (w *writer) insertChunks(ctx context.Context, pageRow int64, rows []pendingChunk) error {
	stmt, err := w.s.txStmt(ctx, w.tx, insertChunksSQL(len(rows)))
	if err != nil {
		return err
	}
	// Values shared by the rows are boxed once, and numbers are passed as
	// int64, which database/sql hands to the driver without converting.
	doc, page := any(w.docRow), any(pageRow)
	var split any
	args := w.args[:0]
	for i, c := range rows {
		if i == 0 || c.split != rows[i-1].split {
			split = c.split
		}
		var parent any
		if c.parent >= 0 {
			parent = w.base + c.parent
		}
		args = append(args, w.base+c.ordinal, doc, page, split, int64(c.seq), int64(c.start), int64(c.end), parent, int64(c.terms))
	}
	w.args = args
	_, err = stmt.ExecContext(ctx, args...)
	clear(args)
	return err
}

// writeSegment writes a segment built on chunk numbers offset by base, its
// blocks and its statistics.
func (s *Store) writeSegment(ctx context.Context, tx *sql.Tx, seg *segmentBuilder, base int64) error {
	if seg.chunks == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO bm25_segments(split, first, last, chunks) VALUES(?,?,?,?)`, seg.split, base+seg.first, base+seg.last, seg.chunks)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	seg.seal()
	if err := s.writeBlocks(ctx, tx, id, seg.sealed); err != nil {
		return err
	}
	return addStats(ctx, tx, seg.split, int64(seg.chunks), seg.terms)
}

// blockBatch is how many blocks one INSERT statement writes.
const blockBatch = 32

// writeBlocks inserts a segment's blocks, several per statement.
func (s *Store) writeBlocks(ctx context.Context, tx *sql.Tx, segment int64, blocks []block) error {
	for len(blocks) > 0 {
		n := batchSize(blockBatch, len(blocks))
		stmt, err := s.txStmt(ctx, tx, insertBlocksSQL(n))
		if err != nil {
			return err
		}
		args := make([]any, 0, 3*n)
		for _, b := range blocks[:n] {
			args = append(args, segment, b.last, b.data)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
		blocks = blocks[n:]
	}
	return nil
}

// batchSize is the number of rows the next multi-row INSERT writes: the
// full batch, or for the rest the largest power of two that fits, so that
// a handful of statements serve every count.
func batchSize(batch, left int) int {
	n := batch
	for n > left {
		n /= 2
	}
	return n
}

const insertPageSQL = `INSERT INTO pages(document, number, text) VALUES(?,?,?)`

func insertChunksSQL(rows int) string {
	return insertRowsSQL(`INSERT INTO chunks(id, document, page, split, seq, start, end, parent, terms) VALUES `, 9, rows)
}

func insertBlocksSQL(rows int) string {
	return insertRowsSQL(`INSERT INTO bm25_blocks(segment, last_term, data) VALUES `, 3, rows)
}

// insertRowsSQL is an INSERT of rows rows of columns values each.
func insertRowsSQL(head string, columns, rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", columns), ",") + "),"
	return head + strings.TrimSuffix(strings.Repeat(row, rows), ",")
}

func addStats(ctx context.Context, tx *sql.Tx, split string, chunks, terms int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO bm25_stats(split, chunks, terms) VALUES(?,?,?)
		ON CONFLICT(split) DO UPDATE SET chunks = chunks + excluded.chunks, terms = terms + excluded.terms`, split, chunks, terms)
	return err
}

func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return fmt.Errorf("write %s: document already committed or rolled back", w.doc.Source)
	}
	w.done = true
	defer w.rollback()
	if err := w.flush(ctx); err != nil {
		return fmt.Errorf("collection %s: write %s: %w", w.s.dir, w.doc.Source, err)
	}
	total := 0
	for _, n := range w.seq {
		total += n
	}
	if _, err := w.tx.ExecContext(ctx, `UPDATE documents SET pages = ?, chunks = ? WHERE id = ?`, w.pages, total, w.docRow); err != nil {
		return fmt.Errorf("collection %s: write %s: %w", w.s.dir, w.doc.Source, err)
	}
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("collection %s: commit %s: %w", w.s.dir, w.doc.Source, err)
	}
	w.s.ckpt.committed()
	w.s.vectorsChanged(w.emb, w.vectorSplits)
	w.s.mergeAfterWrite(ctx, w.touched, w.base)
	return nil
}

// rollback drops what was written; after a commit it does nothing.
func (w *writer) rollback() error {
	w.pending = nil
	if w.vocab != nil {
		for _, id := range w.counted {
			w.counts[id] = 0
		}
		w.vocab.tokens, w.vocab.counts, w.vocab.counted = w.tokens[:0], w.counts, w.counted[:0]
		w.tokens, w.counts, w.counted = nil, nil, nil
		putVocabulary(w.vocab)
		w.vocab, w.dict = nil, nil
	}
	if w.tx == nil {
		return nil
	}
	return w.tx.Rollback()
}

func (w *writer) Rollback() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.rollback()
}

// mergeAfterWrite compacts the BM25 segments of the splits a write touched
// (whose new segments start at chunk id first; 0 for a write that added
// none),
// each split in its own goroutine: their merges are computed in parallel and
// written one after the other. The write is already committed; a failed
// merge only leaves more segments to read, and the next write tries again.
func (s *Store) mergeAfterWrite(ctx context.Context, splits map[string]bool, first int64) {
	var wg sync.WaitGroup
	for split := range splits {
		scope, merge := s.bulk.wrote(split, first)
		if !merge {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.merge(ctx, split, scope); err != nil {
				slog.Warn("BM25 segment merge failed; it will be retried", "collection", s.dir, "split", split, "err", err)
			}
		}()
	}
	wg.Wait()
}

// deleteDocument removes a document inside tx, keeping the BM25 statistics
// exact and dropping segments that no longer hold a live chunk.
func deleteDocument(ctx context.Context, tx *sql.Tx, docRow int64, touched map[string]bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.split, count(*), sum(c.terms) FROM chunks c
		JOIN bm25_segments s ON s.split = c.split AND c.id BETWEEN s.first AND s.last
		WHERE c.document = ? GROUP BY s.id, s.split`, docRow)
	if err != nil {
		return err
	}
	type gone struct {
		segment       int64
		split         string
		chunks, terms int64
	}
	var gones []gone
	for rows.Next() {
		var g gone
		if err := rows.Scan(&g.segment, &g.split, &g.chunks, &g.terms); err != nil {
			rows.Close()
			return err
		}
		gones = append(gones, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range gones {
		if _, err := tx.ExecContext(ctx, `UPDATE bm25_segments SET deleted = deleted + ? WHERE id = ?`, g.chunks, g.segment); err != nil {
			return err
		}
		if err := addStats(ctx, tx, g.split, -g.chunks, -g.terms); err != nil {
			return err
		}
		if touched != nil {
			touched[g.split] = true
		}
	}
	if len(gones) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_blocks WHERE segment IN (SELECT id FROM bm25_segments WHERE deleted >= chunks)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_segments WHERE deleted >= chunks`); err != nil {
			return err
		}
	}
	// Chunks have no foreign keys (schema 4); their vectors do, and go
	// with them. Pages go with the document.
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document = ?`, docRow); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, docRow)
	return err
}

// Delete removes documents by id.
func (s *Store) Delete(ctx context.Context, docIDs ...string) (int, error) {
	if err := s.refuseWrite(); err != nil {
		return 0, err
	}
	if len(docIDs) == 0 {
		return 0, nil
	}
	n := 0
	touched := map[string]bool{}
	err := withRetry(ctx, func() error {
		n = 0
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, id := range docIDs {
			var row int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM documents WHERE doc_id = ?`, id).Scan(&row)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return err
			}
			if err := deleteDocument(ctx, tx, row, touched); err != nil {
				return err
			}
			n++
		}
		return tx.Commit()
	})
	if err != nil {
		return 0, fmt.Errorf("collection %s: delete %s: %w", s.dir, strings.Join(docIDs, ", "), err)
	}
	s.ckpt.committed()
	s.mergeAfterWrite(ctx, touched, 0)
	return n, nil
}
