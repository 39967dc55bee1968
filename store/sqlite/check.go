package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/distill-rag/distill/store"
)

var _ store.Checker = (*Store)(nil)

// maxProblems bounds the problems one check lists; the rest are counted.
const maxProblems = 50

// Problems collects what one check finds.
type Problems struct {
	result store.CheckResult
}

// Add records a problem. Repairable problems are ones a rebuild from the
// stored data fixes.
func (p *Problems) Add(repairable bool, format string, args ...any) {
	if len(p.result.Problems) >= maxProblems {
		p.result.Truncated++
		return
	}
	p.result.Problems = append(p.result.Problems, store.Problem{Check: p.result.Name, Message: fmt.Sprintf(format, args...), Repairable: repairable})
}

// Found reports whether anything was recorded.
func (p *Problems) Found() bool { return !p.result.OK() }

// A DerivedIndex is data the store computes from the stored chunks and
// vectors: the BM25 index, and the vector index where there is one. Check
// compares it with what the stored data implies, inside a read transaction;
// Rebuild recomputes it from scratch inside the write transaction of a
// repair (an index kept in a file beside the database writes the file to a
// temporary name and renames it before returning).
type DerivedIndex interface {
	Name() string
	Check(ctx context.Context, s *Store, tx *sql.Tx, p *Problems) error
	Rebuild(ctx context.Context, s *Store, tx *sql.Tx) error
}

var (
	indexesMu sync.Mutex
	indexes   = []DerivedIndex{bm25Index{}}
)

// RegisterDerivedIndex adds an index to those Check verifies and Repair
// rebuilds, after the BM25 index.
func RegisterDerivedIndex(ix DerivedIndex) {
	indexesMu.Lock()
	defer indexesMu.Unlock()
	indexes = append(indexes, ix)
}

func derivedIndexes() []DerivedIndex {
	indexesMu.Lock()
	defer indexesMu.Unlock()
	return append([]DerivedIndex(nil), indexes...)
}

// Check verifies the collection: SQLite's own integrity and foreign-key
// checks, the recorded schema and splits, the links from every chunk to its
// page, document and parent, the per-document counts, and each derived
// index against the stored data. With opts.Repair it rebuilds what it can
// in one transaction and checks again.
func (s *Store) Check(ctx context.Context, opts store.CheckOptions) (*store.CheckReport, error) {
	rep := &store.CheckReport{}
	results, err := s.check(ctx, rep, opts.Progress, 0, 1)
	if err != nil {
		return nil, err
	}
	rep.Checks = results
	if !opts.Repair || rep.OK() {
		return rep, nil
	}
	if err := s.refuseWrite(); err != nil {
		return rep, err
	}
	if opts.Progress != nil {
		opts.Progress(store.CheckProgress{Check: "repair", Done: len(results), Total: 2 * len(results), Repairing: true})
	}
	repaired, err := s.repair(ctx, results)
	if err != nil {
		return rep, fmt.Errorf("collection %s: repair: %w", s.dir, err)
	}
	rep.Repaired = repaired
	if rep.After, err = s.check(ctx, rep, opts.Progress, len(results), 2); err != nil {
		return rep, err
	}
	if rep.After == nil {
		rep.After = []store.CheckResult{}
	}
	return rep, nil
}

type namedCheck struct {
	name string
	run  func(ctx context.Context, tx *sql.Tx, p *Problems) error
}

// check runs every check in one read transaction. progress, when set, hears
// of each check as it starts, counted after done earlier ones out of passes
// runs of all checks.
func (s *Store) check(ctx context.Context, rep *store.CheckReport, progress func(store.CheckProgress), done, passes int) ([]store.CheckResult, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	checks := []namedCheck{{"sqlite", s.checkSQLite}, {"schema", s.checkSchema}, {"links", s.checkLinks}}
	for _, ix := range derivedIndexes() {
		checks = append(checks, namedCheck{ix.Name(), func(ctx context.Context, tx *sql.Tx, p *Problems) error {
			return ix.Check(ctx, s, tx, p)
		}})
	}
	var out []store.CheckResult
	for i, c := range checks {
		if progress != nil {
			progress(store.CheckProgress{Check: c.name, Done: done + i, Total: passes * len(checks)})
		}
		p := &Problems{result: store.CheckResult{Name: c.name, Problems: []store.Problem{}}}
		if err := c.run(ctx, tx, p); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A check that cannot even read what it checks has found a
			// problem; the others still run.
			p.Add(false, "cannot be checked: %v", err)
		}
		out = append(out, p.result)
	}
	for _, q := range []struct {
		sql string
		n   *int
	}{{`SELECT count(*) FROM documents`, &rep.Documents}, {`SELECT count(*) FROM pages`, &rep.Pages}, {`SELECT count(*) FROM chunks`, &rep.Chunks}} {
		if err := tx.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			return out, nil
		}
	}
	return out, nil
}

// checkSQLite runs SQLite's integrity and foreign key checks.
func (s *Store) checkSQLite(ctx context.Context, tx *sql.Tx, p *Problems) error {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`PRAGMA integrity_check(%d)`, maxProblems))
	if err != nil {
		return err
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if !(len(msgs) == 1 && msgs[0] == "ok") {
		for _, m := range msgs {
			// An index entry that disagrees with its table is fixed by
			// REINDEX; anything else is damage to the stored data.
			p.Add(isIndexDamage(m), "integrity check: %s", m)
		}
	}
	rows, err = tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		p.Add(table == "pages" || table == "chunks" || table == "vectors", "row %d of %s refers to a missing row of %s", rowid.Int64, table, parent)
	}
	return rows.Err()
}

func isIndexDamage(msg string) bool {
	return strings.Contains(msg, "missing from index") || strings.Contains(msg, "wrong # of entries in index") ||
		strings.Contains(msg, "non-unique entry in index")
}

func (s *Store) checkSchema(ctx context.Context, tx *sql.Tx, p *Problems) error {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	switch {
	case err != nil:
		p.Add(false, "no schema version recorded: %v", err)
	case v != fmt.Sprint(SchemaVersion):
		p.Add(false, "schema version %s, want %d", v, SchemaVersion)
	}
	names := map[string]bool{}
	for _, sp := range s.splitList() {
		names[sp.Name] = true
	}
	for _, sp := range s.splitList() {
		if sp.Parent != "" && !names[sp.Parent] {
			p.Add(false, "split %s names parent split %q, which the collection does not have", sp.Name, sp.Parent)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT split, count(*) FROM chunks GROUP BY split ORDER BY split`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var split string
		var n int
		if err := rows.Scan(&split, &n); err != nil {
			return err
		}
		if !names[split] {
			p.Add(false, "%d chunks belong to split %q, which the collection does not record", n, split)
		}
	}
	return rows.Err()
}

// linkQueries find chunks and pages whose links are broken. Each yields one
// description per row; repairable ones are rows no document owns (invisible
// to search, dropped by a repair) and derived counts.
var linkQueries = []struct {
	repairable bool
	sql        string
}{
	{true, `SELECT 'page ' || p.id || ' (page ' || p.number || ') belongs to missing document row ' || p.document
		FROM pages p LEFT JOIN documents d ON d.id = p.document WHERE d.id IS NULL`},
	{true, `SELECT 'chunk ' || c.id || ' belongs to missing document row ' || c.document
		FROM chunks c LEFT JOIN documents d ON d.id = c.document WHERE d.id IS NULL`},
	{true, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' is on missing page row ' || c.page
		FROM chunks c JOIN documents d ON d.id = c.document LEFT JOIN pages p ON p.id = c.page WHERE p.id IS NULL`},
	{false, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' is on page ' || p.number || ' of another document'
		FROM chunks c JOIN documents d ON d.id = c.document JOIN pages p ON p.id = c.page WHERE p.document != c.document`},
	{false, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' has offsets [' || c.start || ',' || c.end || ') outside page ' || p.number || ' (' || length(CAST(p.text AS BLOB)) || ' bytes)'
		FROM chunks c JOIN documents d ON d.id = c.document JOIN pages p ON p.id = c.page
		WHERE c.start < 0 OR c.start > c.end OR c.end > length(CAST(p.text AS BLOB))`},
	{false, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' names missing parent chunk row ' || c.parent
		FROM chunks c JOIN documents d ON d.id = c.document LEFT JOIN chunks pc ON pc.id = c.parent WHERE c.parent IS NOT NULL AND pc.id IS NULL`},
	{false, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' has parent ' || pd.doc_id || ':' || pc.split || ':' || pc.seq || ' that does not contain it'
		FROM chunks c JOIN documents d ON d.id = c.document JOIN chunks pc ON pc.id = c.parent JOIN documents pd ON pd.id = pc.document
		WHERE pc.document != c.document OR pc.page != c.page OR c.start < pc.start OR c.end > pc.end`},
	{false, `SELECT 'document ' || d.doc_id || ' split ' || c.split || ' has chunks numbered ' || min(c.seq) || '..' || max(c.seq) || ' but ' || count(*) || ' chunks'
		FROM chunks c JOIN documents d ON d.id = c.document GROUP BY c.document, c.split
		HAVING min(c.seq) != 0 OR max(c.seq) != count(*) - 1`},
	{false, `SELECT 'document ' || d.doc_id || ' (' || d.source || ') has no pages; remove it (distill rm) and ingest it again'
		FROM documents d WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.document = d.id)`},
	{true, `SELECT 'document ' || d.doc_id || ' records ' || d.pages || ' pages and ' || d.chunks || ' chunks but has ' || np || ' and ' || nc
		FROM (SELECT d.*, (SELECT count(*) FROM pages p WHERE p.document = d.id) AS np, (SELECT count(*) FROM chunks c WHERE c.document = d.id) AS nc FROM documents d) d
		WHERE d.pages != np OR d.chunks != nc`},
}

func (s *Store) checkLinks(ctx context.Context, tx *sql.Tx, p *Problems) error {
	for _, q := range linkQueries {
		if err := eachString(ctx, tx, q.sql, func(msg string) { p.Add(q.repairable, "%s", msg) }); err != nil {
			return err
		}
	}
	// Parent links must follow the splits: a child split's chunks each have
	// a parent chunk of the parent split; other chunks have none.
	for _, sp := range s.splitList() {
		if sp.Parent == "" {
			err := eachString(ctx, tx, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || ' of a split without parents has a parent'
				FROM chunks c JOIN documents d ON d.id = c.document WHERE c.split = ? AND c.parent IS NOT NULL`, func(msg string) { p.Add(false, "%s", msg) }, sp.Name)
			if err != nil {
				return err
			}
			continue
		}
		err := eachString(ctx, tx, `SELECT 'chunk ' || d.doc_id || ':' || c.split || ':' || c.seq || CASE WHEN c.parent IS NULL THEN ' has no parent chunk' ELSE ' has a parent in split ' || pc.split || ', not ' || ? END
			FROM chunks c JOIN documents d ON d.id = c.document LEFT JOIN chunks pc ON pc.id = c.parent
			WHERE c.split = ? AND (c.parent IS NULL OR pc.split != ?)`, func(msg string) { p.Add(false, "%s", msg) }, sp.Parent, sp.Name, sp.Parent)
		if err != nil {
			return err
		}
	}
	return nil
}

func eachString(ctx context.Context, q querier, query string, fn func(string), args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return err
		}
		fn(s.String)
	}
	return rows.Err()
}

// repair fixes what the first pass found, in one write transaction: SQLite
// indexes are rebuilt, rows no document owns are dropped, document counts
// are recounted, and every derived index that disagreed (or all of them,
// when rows were dropped) is rebuilt from the stored data.
func (s *Store) repair(ctx context.Context, results []store.CheckResult) ([]string, error) {
	failed := map[string]bool{}
	for _, r := range results {
		for _, pr := range r.Problems {
			if pr.Repairable {
				failed[r.Name] = true
			}
		}
		if r.Truncated > 0 {
			failed[r.Name] = true
		}
	}
	var repaired []string
	err := withRetry(ctx, func() error {
		repaired = repaired[:0]
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if failed["sqlite"] {
			if _, err := tx.ExecContext(ctx, `REINDEX`); err != nil {
				return err
			}
			repaired = append(repaired, "sqlite indexes")
		}
		dropped := false
		if failed["sqlite"] || failed["links"] {
			for _, q := range []string{
				`DELETE FROM chunks WHERE document NOT IN (SELECT id FROM documents) OR page NOT IN (SELECT id FROM pages)`,
				`DELETE FROM pages WHERE document NOT IN (SELECT id FROM documents)`,
			} {
				res, err := tx.ExecContext(ctx, q)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n > 0 {
					dropped = true
				}
			}
			if dropped {
				repaired = append(repaired, "rows without a document dropped")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET
				pages = (SELECT count(*) FROM pages p WHERE p.document = documents.id),
				chunks = (SELECT count(*) FROM chunks c WHERE c.document = documents.id)`); err != nil {
				return err
			}
			repaired = append(repaired, "document counts")
		}
		for _, ix := range derivedIndexes() {
			if !failed[ix.Name()] && !dropped {
				continue
			}
			if err := ix.Rebuild(ctx, s, tx); err != nil {
				return fmt.Errorf("rebuild %s: %w", ix.Name(), err)
			}
			repaired = append(repaired, ix.Name()+" index")
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, err
	}
	return repaired, nil
}
