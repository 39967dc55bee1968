package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

var _ store.Exporter = (*Store)(nil)

// ExportDocument reads a document back with its pages and chunks, in one
// read transaction so it is consistent.
func (s *Store) ExportDocument(ctx context.Context, docID string) (store.ExportedDocument, error) {
	var ed store.ExportedDocument
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ed, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	if err := s.export(ctx, tx, docID, &ed); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ed, err
		}
		return ed, fmt.Errorf("collection %s: export %s: %w", s.dir, docID, err)
	}
	return ed, nil
}

func (s *Store) export(ctx context.Context, tx *sql.Tx, docID string, ed *store.ExportedDocument) error {
	var row int64
	var meta string
	d := &ed.Document
	err := tx.QueryRowContext(ctx, `SELECT id, doc_id, source, title, type, hash, size, meta FROM documents WHERE doc_id = ?`, docID).
		Scan(&row, &d.ID, &d.Source, &d.Title, &d.Type, &d.Hash, &d.Size, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	d.Meta = store.DecodeMeta(meta)
	rows, err := tx.QueryContext(ctx, `SELECT id, number, text FROM pages WHERE document = ? ORDER BY number`, row)
	if err != nil {
		return err
	}
	pageAt := map[int64]int{}
	for rows.Next() {
		var id int64
		var p document.Page
		if err := rows.Scan(&id, &p.Number, &p.Text); err != nil {
			rows.Close()
			return err
		}
		pageAt[id] = len(ed.Pages)
		ed.Pages = append(ed.Pages, store.ExportedPage{Page: p})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	order := map[string]int{}
	for i, sp := range store.ParentsFirst(s.splitList()) {
		order[sp.Name] = i
	}
	// Vectors of the active embedding, if the collection has one.
	emb, err := activeEmbedding(ctx, tx)
	if err != nil {
		return err
	}
	var embID int64 = -1
	dim := 0
	if emb != nil {
		embID, dim = emb.id, emb.dim
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.id, c.page, c.split, c.start, c.end, c.parent, v.vector
		FROM chunks c LEFT JOIN vectors v ON v.chunk = c.id AND v.embedding = ?
		WHERE c.document = ? ORDER BY c.page, c.seq`, embID, row)
	if err != nil {
		return err
	}
	defer rows.Close()
	type loaded struct {
		id     int64
		page   int
		parent sql.NullInt64
		chunk  store.Chunk
	}
	var all []loaded
	for rows.Next() {
		var l loaded
		var pageRow int64
		var vec []byte
		if err := rows.Scan(&l.id, &pageRow, &l.chunk.Split, &l.chunk.Start, &l.chunk.End, &l.parent, &vec); err != nil {
			return err
		}
		if vec != nil {
			if l.chunk.Vector, err = decodeVector(vec, dim); err != nil {
				return fmt.Errorf("chunk %d: %w", l.id, err)
			}
		}
		pi, ok := pageAt[pageRow]
		if !ok {
			return fmt.Errorf("chunk %d belongs to no page of the document", l.id)
		}
		l.page = pi
		all = append(all, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Per page: parents' splits first, each split in seq order, as AddPage
	// wants a parent before its children.
	byPage := make([][]loaded, len(ed.Pages))
	for _, l := range all {
		byPage[l.page] = append(byPage[l.page], l)
	}
	for pi, ls := range byPage {
		slices.SortStableFunc(ls, func(a, b loaded) int { return order[a.chunk.Split] - order[b.chunk.Split] })
		at := map[int64]int{}
		for _, l := range ls {
			c := l.chunk
			c.Parent = -1
			if l.parent.Valid {
				idx, ok := at[l.parent.Int64]
				if !ok {
					return fmt.Errorf("chunk %d has a parent that is not on its page", l.id)
				}
				c.Parent = idx
			}
			at[l.id] = len(ed.Pages[pi].Chunks)
			ed.Pages[pi].Chunks = append(ed.Pages[pi].Chunks, c)
		}
	}
	return nil
}
