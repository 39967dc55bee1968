package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// segmentFlushPostings bounds the postings a writer holds in memory before
// it writes them out as a segment, so a huge document indexes in bounded
// memory.
const segmentFlushPostings = 2 << 20

type writer struct {
	s      *Store
	doc    document.Document
	tx     *sql.Tx
	docRow int64

	insertPage, insertChunk *sql.Stmt

	model        string        // the embedding model vectors come from; "" for none
	emb          *embeddingRow // the collection's embedding, when it has one
	insertVector *sql.Stmt
	vectorSplits map[string]bool // splits that got vectors, to update their indexes

	pages    int
	seq      map[string]int
	segments map[string]*segmentBuilder
	touched  map[string]bool // splits whose segments changed, to merge after commit
	done     bool

	tf map[string]uint32 // reused term-frequency counter
}

type segmentBuilder struct {
	id       int64
	split    string
	chunks   int
	terms    int64
	entries  int
	postings map[string]*postingsBuilder
}

// Begin starts a write transaction for doc. An older document with the same
// source is deleted inside it, so readers see either the old version or the
// new one, never both and never a mix.
func (s *Store) Begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	return s.begin(ctx, doc, "")
}

// BeginVectors is Begin for a document whose searched chunks carry vectors
// from model.
func (s *Store) BeginVectors(ctx context.Context, doc document.Document, model string) (store.DocumentWriter, error) {
	if model == "" {
		return nil, fmt.Errorf("collection %s: write %s: no embedding model named", s.dir, doc.Source)
	}
	return s.begin(ctx, doc, model)
}

func (s *Store) begin(ctx context.Context, doc document.Document, model string) (store.DocumentWriter, error) {
	w := &writer{s: s, doc: doc, seq: map[string]int{}, segments: map[string]*segmentBuilder{}, touched: map[string]bool{}, tf: map[string]uint32{},
		model: model, vectorSplits: map[string]bool{}}
	err := withRetry(ctx, func() error {
		var err error
		w.tx, err = s.writer.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("collection %s: begin: %w", s.dir, err)
	}
	if err := w.start(ctx); err != nil {
		w.tx.Rollback()
		return nil, fmt.Errorf("collection %s: write %s: %w", s.dir, doc.Source, err)
	}
	return w, nil
}

func (w *writer) start(ctx context.Context) error {
	var old int64
	err := w.tx.QueryRowContext(ctx, `SELECT id FROM documents WHERE source = ? OR doc_id = ?`, w.doc.Source, w.doc.ID).Scan(&old)
	if err == nil {
		if err := deleteDocument(ctx, w.tx, old, w.touched); err != nil {
			return err
		}
	} else if err != sql.ErrNoRows {
		return err
	}
	res, err := w.tx.ExecContext(ctx, `INSERT INTO documents(doc_id, source, title, type, hash, size, meta, ingested_at) VALUES(?,?,?,?,?,?,?,?)`,
		w.doc.ID, w.doc.Source, w.doc.Title, w.doc.Type, w.doc.Hash, w.doc.Size, marshalMeta(w.doc.Meta), time.Now().Unix())
	if err != nil {
		return err
	}
	if w.docRow, err = res.LastInsertId(); err != nil {
		return err
	}
	if w.insertPage, err = w.tx.PrepareContext(ctx, `INSERT INTO pages(document, number, text) VALUES(?,?,?)`); err != nil {
		return err
	}
	if w.insertChunk, err = w.tx.PrepareContext(ctx, `INSERT INTO chunks(document, page, split, seq, start, end, parent, terms, segment) VALUES(?,?,?,?,?,?,?,?,?)`); err != nil {
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

func (w *writer) addPage(ctx context.Context, page document.Page, chunks []store.Chunk) error {
	res, err := w.insertPage.ExecContext(ctx, w.docRow, page.Number, page.Text)
	if err != nil {
		return err
	}
	pageRow, err := res.LastInsertId()
	if err != nil {
		return err
	}
	w.pages++
	var tokens []textproc.Token
	ids := make([]int64, len(chunks))
	for i, c := range chunks {
		sp, ok := w.s.split(c.Split)
		if !ok {
			return w.s.unknownSplit(c.Split)
		}
		if c.Start < 0 || c.End > len(page.Text) || c.Start > c.End {
			return fmt.Errorf("chunk %d of split %s has offsets [%d,%d) outside the page (%d bytes)", i, c.Split, c.Start, c.End, len(page.Text))
		}
		var parent any
		if c.Parent >= 0 {
			if c.Parent >= i {
				return fmt.Errorf("chunk %d of split %s names parent %d, which does not come before it", i, c.Split, c.Parent)
			}
			parent = ids[c.Parent]
		}
		var segment any
		var length int
		if sp.Search {
			if tokens == nil {
				tokens = textproc.English.Tokens(page.Text)
			}
			length = w.countTerms(tokens, c.Start, c.End)
			seg, err := w.segment(ctx, c.Split)
			if err != nil {
				return err
			}
			segment = seg.id
		}
		seq := w.seq[c.Split]
		w.seq[c.Split] = seq + 1
		res, err := w.insertChunk.ExecContext(ctx, w.docRow, pageRow, c.Split, seq, c.Start, c.End, parent, length, segment)
		if err != nil {
			return err
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return err
		}
		if err := w.addVector(ctx, ids[i], sp, i, c.Vector); err != nil {
			return err
		}
		if sp.Search {
			if err := w.addPostings(ctx, w.segments[c.Split], ids[i], length); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPostings adds chunk id, whose terms countTerms left in w.tf, to seg,
// flushing the segment when it holds enough postings. Chunks must come in
// increasing id order.
func (w *writer) addPostings(ctx context.Context, seg *segmentBuilder, id int64, length int) error {
	seg.chunks++
	seg.terms += int64(length)
	for term, tf := range w.tf {
		pb := seg.postings[term]
		if pb == nil {
			pb = &postingsBuilder{}
			seg.postings[term] = pb
		}
		pb.add(posting{chunk: id, tf: tf, dl: uint32(length)})
	}
	seg.entries += len(w.tf)
	if seg.entries >= segmentFlushPostings {
		return w.flush(ctx, seg)
	}
	return nil
}

// countTerms fills w.tf with the terms of the tokens inside [start, end) and
// returns their number.
func (w *writer) countTerms(tokens []textproc.Token, start, end int) int {
	return countTerms(w.tf, tokens, start, end)
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

func (w *writer) segment(ctx context.Context, split string) (*segmentBuilder, error) {
	if seg := w.segments[split]; seg != nil {
		return seg, nil
	}
	res, err := w.tx.ExecContext(ctx, `INSERT INTO bm25_segments(split, chunks) VALUES(?, 0)`, split)
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	seg := &segmentBuilder{id: id, split: split, postings: map[string]*postingsBuilder{}}
	w.segments[split] = seg
	w.touched[split] = true
	return seg, nil
}

// flush writes a segment's postings and statistics and forgets it, so the
// next searchable chunk of its split starts a new segment.
func (w *writer) flush(ctx context.Context, seg *segmentBuilder) error {
	terms := make([]string, 0, len(seg.postings))
	for t := range seg.postings {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	stmt, err := w.tx.PrepareContext(ctx, `INSERT INTO bm25_postings(split, term, segment, postings) VALUES(?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, t := range terms {
		if _, err := stmt.ExecContext(ctx, seg.split, t, seg.id, seg.postings[t].bytes()); err != nil {
			return err
		}
	}
	if _, err := w.tx.ExecContext(ctx, `UPDATE bm25_segments SET chunks = ? WHERE id = ?`, seg.chunks, seg.id); err != nil {
		return err
	}
	if err := addStats(ctx, w.tx, seg.split, int64(seg.chunks), seg.terms); err != nil {
		return err
	}
	delete(w.segments, seg.split)
	return nil
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
	defer w.tx.Rollback()
	splits := make([]string, 0, len(w.segments))
	for split := range w.segments {
		splits = append(splits, split)
	}
	sort.Strings(splits)
	for _, split := range splits {
		if err := w.flush(ctx, w.segments[split]); err != nil {
			return fmt.Errorf("collection %s: write %s: %w", w.s.dir, w.doc.Source, err)
		}
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
	w.s.vectorsChanged(w.emb, w.vectorSplits)
	w.s.mergeAfterWrite(ctx, w.touched)
	return nil
}

func (w *writer) Rollback() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.tx.Rollback()
}

// mergeAfterWrite compacts the BM25 segments of the splits a write touched.
// The write is already committed; a failed merge only leaves more segments
// to read, and the next write tries again.
func (s *Store) mergeAfterWrite(ctx context.Context, splits map[string]bool) {
	names := make([]string, 0, len(splits))
	for split := range splits {
		names = append(names, split)
	}
	sort.Strings(names)
	for _, split := range names {
		if err := s.Merge(ctx, split, false); err != nil {
			slog.Warn("BM25 segment merge failed; it will be retried", "collection", s.dir, "split", split, "err", err)
		}
	}
}

// deleteDocument removes a document inside tx, keeping the BM25 statistics
// exact and dropping segments that no longer hold a live chunk.
func deleteDocument(ctx context.Context, tx *sql.Tx, docRow int64, touched map[string]bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT segment, split, count(*), sum(terms) FROM chunks WHERE document = ? AND segment IS NOT NULL GROUP BY segment, split`, docRow)
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_postings WHERE segment IN (SELECT id FROM bm25_segments WHERE deleted >= chunks)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bm25_segments WHERE deleted >= chunks`); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, docRow)
	return err
}

// Delete removes documents by id.
func (s *Store) Delete(ctx context.Context, docIDs ...string) (int, error) {
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
	s.mergeAfterWrite(ctx, touched)
	return n, nil
}
