package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

const documentColumns = `doc_id, source, title, type, hash, size, meta, pages, chunks, ingested_at`

func scanDocument(sc interface{ Scan(...any) error }) (store.DocumentInfo, error) {
	var d store.DocumentInfo
	var meta string
	var ingested int64
	err := sc.Scan(&d.ID, &d.Source, &d.Title, &d.Type, &d.Hash, &d.Size, &meta, &d.Pages, &d.Chunks, &ingested)
	d.Meta = store.DecodeMeta(meta)
	d.Ingested = time.Unix(ingested, 0).UTC()
	return d, err
}

// Document returns the stored record for source.
func (s *Store) Document(ctx context.Context, source string) (store.DocumentInfo, error) {
	d, err := scanDocument(s.reader.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE source = ?`, source))
	if errors.Is(err, sql.ErrNoRows) {
		return d, store.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	return d, nil
}

// Documents lists all documents ordered by source.
// Empty reports whether the collection holds no document, without listing
// them (store.Emptier).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var one int
	err := s.reader.QueryRowContext(ctx, `SELECT 1 FROM documents LIMIT 1`).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	return false, nil
}

func (s *Store) Documents(ctx context.Context) ([]store.DocumentInfo, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+documentColumns+` FROM documents ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer rows.Close()
	var out []store.DocumentInfo
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("collection %s: %w", s.dir, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Page returns the text of a document's page.
func (s *Store) Page(ctx context.Context, docID string, number int) (string, error) {
	var text string
	err := s.reader.QueryRowContext(ctx, `SELECT p.text FROM pages p JOIN documents d ON d.id = p.document WHERE d.doc_id = ? AND p.number = ?`, docID, number).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return text, err
}

// passageColumns select a chunk with its page and document; scanPassage reads them.
// Only the chunk's bytes of the page leave SQLite: a text file's pages are
// sections of up to 256 KiB, and copying whole pages into Go strings for a
// dozen passages per query dominated search time.
const passageColumns = `c.id, c.split, c.seq, c.start, c.end, p.number,
	CAST(substr(CAST(p.text AS BLOB), c.start + 1, c.end - c.start) AS TEXT), length(CAST(p.text AS BLOB)),
	d.doc_id, d.source, d.title, d.meta`

func scanPassage(sc interface{ Scan(...any) error }) (int64, document.Passage, error) {
	var id int64
	var p document.Passage
	var seq int
	var pageLen int
	var meta string
	if err := sc.Scan(&id, &p.Split, &seq, &p.Start, &p.End, &p.Page, &p.Text, &pageLen, &p.DocID, &p.Source, &p.Title, &meta); err != nil {
		return 0, p, err
	}
	if p.Start < 0 || p.End > pageLen || p.Start > p.End {
		return 0, p, fmt.Errorf("chunk %d has offsets [%d,%d) outside its page of %d bytes", id, p.Start, p.End, pageLen)
	}
	p.ChunkID = store.ChunkID(p.DocID, p.Split, seq)
	p.Meta = store.DecodeMeta(meta)
	return id, p, nil
}

// passagesByID fetches chunks by row id; ids that no longer exist are absent
// from the map.
func passagesByID(ctx context.Context, q querier, ids []int64) (map[int64]document.Passage, error) {
	out := make(map[int64]document.Passage, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT `+passageColumns+` FROM chunks c JOIN pages p ON p.id = c.page JOIN documents d ON d.id = c.document WHERE c.id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		id, p, err := scanPassage(rows)
		if err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Parents returns the parent chunk of each child, aligned with childIDs.
func (s *Store) Parents(ctx context.Context, childIDs []string) ([]document.Passage, error) {
	var out []document.Passage
	for _, cid := range childIDs {
		docID, split, seq, err := store.ParseChunkID(cid)
		if err != nil {
			return nil, err
		}
		_, p, err := scanPassage(s.reader.QueryRowContext(ctx, `SELECT `+passageColumns+`
			FROM chunks child JOIN documents d ON d.id = child.document
			JOIN chunks c ON c.id = child.parent JOIN pages p ON p.id = c.page
			WHERE d.doc_id = ? AND child.split = ? AND child.seq = ?`, docID, split, seq))
		if errors.Is(err, sql.ErrNoRows) {
			out = append(out, document.Passage{})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("collection %s: parent of %s: %w", s.dir, cid, err)
		}
		out = append(out, p)
	}
	return out, nil
}
