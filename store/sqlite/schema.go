package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/distill-rag/distill/store"
)

// SchemaVersion is the version this code writes. Older collections are
// migrated forward on open; newer ones are refused.
const SchemaVersion = 4

// blocksVersion is the schema version that stores BM25 postings in blocks
// (postings.go); a collection migrated across it has its index rebuilt from
// the chunks' text.
const blocksVersion = 3

// migrations[i] upgrades a collection from version i to i+1.
var migrations = []string{
	`
CREATE TABLE meta(
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents(
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	doc_id      TEXT NOT NULL UNIQUE,
	source      TEXT NOT NULL UNIQUE,
	title       TEXT NOT NULL DEFAULT '',
	type        TEXT NOT NULL,
	hash        TEXT NOT NULL,
	size        INTEGER NOT NULL,
	meta        TEXT NOT NULL DEFAULT '{}',
	pages       INTEGER NOT NULL DEFAULT 0,
	chunks      INTEGER NOT NULL DEFAULT 0,
	ingested_at INTEGER NOT NULL
);

CREATE TABLE pages(
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
	number   INTEGER NOT NULL,
	text     TEXT NOT NULL,
	UNIQUE(document, number)
);

-- AUTOINCREMENT: chunk ids are never reused, so a posting left in a BM25
-- segment by a deleted chunk can never point at a new one.
CREATE TABLE chunks(
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
	page     INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
	split    TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	start    INTEGER NOT NULL,
	end      INTEGER NOT NULL,
	parent   INTEGER REFERENCES chunks(id) ON DELETE CASCADE,
	terms    INTEGER NOT NULL DEFAULT 0,
	segment  INTEGER,
	UNIQUE(document, split, seq)
);
CREATE INDEX chunks_page ON chunks(page);
CREATE INDEX chunks_parent ON chunks(parent);
CREATE INDEX chunks_segment ON chunks(segment);

-- A segment is an immutable BM25 index over a set of chunks of one split.
CREATE TABLE bm25_segments(
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	split   TEXT NOT NULL,
	chunks  INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE bm25_postings(
	split    TEXT NOT NULL,
	term     TEXT NOT NULL,
	segment  INTEGER NOT NULL,
	postings BLOB NOT NULL,
	PRIMARY KEY(split, term, segment)
) WITHOUT ROWID;
CREATE INDEX bm25_postings_segment ON bm25_postings(segment);
CREATE TABLE bm25_stats(
	split  TEXT PRIMARY KEY,
	chunks INTEGER NOT NULL,
	terms  INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 2: embeddings. A collection has at most one active embedding model;
	// a reindex writes another model's vectors beside it and switches over
	// only when every searched chunk has one. vector_log, filled by
	// triggers in the same transaction as the vectors, is what an ANN index
	// replays to catch up with the table, across processes and crashes.
	`
CREATE TABLE embeddings(
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	model  TEXT NOT NULL UNIQUE,
	dim    INTEGER NOT NULL DEFAULT 0,
	active INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE vectors(
	embedding INTEGER NOT NULL REFERENCES embeddings(id) ON DELETE CASCADE,
	chunk     INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
	split     TEXT NOT NULL,
	vector    BLOB NOT NULL,
	PRIMARY KEY(embedding, chunk)
);
CREATE INDEX vectors_split ON vectors(embedding, split, chunk);
CREATE INDEX vectors_chunk ON vectors(chunk);
CREATE TABLE vector_log(
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	embedding INTEGER NOT NULL,
	split     TEXT NOT NULL,
	chunk     INTEGER NOT NULL,
	added     INTEGER NOT NULL
);
CREATE INDEX vector_log_split ON vector_log(embedding, split, seq);
CREATE TRIGGER vectors_added AFTER INSERT ON vectors BEGIN
	INSERT INTO vector_log(embedding, split, chunk, added) VALUES(new.embedding, new.split, new.chunk, 1);
END;
CREATE TRIGGER vectors_deleted AFTER DELETE ON vectors BEGIN
	INSERT INTO vector_log(embedding, split, chunk, added) VALUES(old.embedding, old.split, old.chunk, 0);
END;
INSERT OR IGNORE INTO meta(key, value) VALUES('collection_id', lower(hex(randomblob(16))));
`,
	// 3: BM25 postings in blocks. A segment is a range of chunk ids of one
	// split, so merging segments never rewrites chunk rows; its postings are
	// a few blocks of consecutive terms instead of a row per term. The
	// index is rebuilt from the chunks' text after this runs (see migrate).
	`
DROP INDEX chunks_segment;
ALTER TABLE chunks DROP COLUMN segment;
DROP TABLE bm25_postings;
DROP TABLE bm25_segments;
DELETE FROM bm25_stats;
CREATE TABLE bm25_segments(
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	split   TEXT NOT NULL,
	first   INTEGER NOT NULL,
	last    INTEGER NOT NULL,
	chunks  INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX bm25_segments_range ON bm25_segments(split, first);
CREATE TABLE bm25_blocks(
	segment   INTEGER NOT NULL,
	last_term TEXT NOT NULL,
	data      BLOB NOT NULL,
	PRIMARY KEY(segment, last_term)
) WITHOUT ROWID;
`,
	// 4: chunk rows without foreign keys, and so without the indexes on
	// page and parent that only served their cascades: a chunk row costs
	// one B-tree insert fewer per index and no lookups of its document,
	// page and parent. A document's chunks are deleted with it, by
	// document (deleteDocument), and the check finds orphans by query.
	// SQLite changes constraints only by copying the table; the copy keeps
	// the ids and AUTOINCREMENT's high-water mark, so ids are still never
	// reused. It runs with foreign keys off (see migrate): dropping the old
	// table would otherwise delete the vectors that refer to its rows.
	`
CREATE TABLE chunks_v4(
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	document INTEGER NOT NULL,
	page     INTEGER NOT NULL,
	split    TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	start    INTEGER NOT NULL,
	end      INTEGER NOT NULL,
	parent   INTEGER,
	terms    INTEGER NOT NULL DEFAULT 0,
	UNIQUE(document, split, seq)
);
INSERT INTO chunks_v4(id, document, page, split, seq, start, end, parent, terms)
	SELECT id, document, page, split, seq, start, end, parent, terms FROM chunks ORDER BY id;
INSERT INTO sqlite_sequence(name, seq) SELECT 'chunks_v4', 0
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'chunks_v4');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0))
	WHERE name = 'chunks_v4';
DROP TABLE chunks;
ALTER TABLE chunks_v4 RENAME TO chunks;
`,
}

// keysOffFrom is the first migration that must run with foreign keys off.
const keysOffFrom = 3

// migrate creates or upgrades the schema and loads the collection's splits.
func (s *Store) migrate(ctx context.Context, opts store.Options) error {
	// A collection that is up to date is only read, so opening one (for
	// every ask) never queues behind an ingest holding the write lock.
	if done, err := s.loadCurrent(ctx); done || err != nil {
		return err
	}
	if s.readOnly != "" {
		return &store.ReadOnlyError{Collection: s.dir, Reason: s.readOnly + "; its schema is older than this distill's and must be upgraded once with write access"}
	}
	return withRetry(ctx, func() error {
		// One connection for the whole migration, so that the foreign
		// keys setting holds for the transaction (it cannot change inside
		// one).
		conn, err := s.writer.Conn(ctx)
		if err != nil {
			return fmt.Errorf("collection %s: %w", s.dir, err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return fmt.Errorf("collection %s: %w", s.dir, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("collection %s: %w", s.dir, err)
		}
		defer tx.Rollback()
		version, err := schemaVersion(ctx, tx)
		if err != nil {
			return &store.CollectionError{Path: s.dir, Reason: "not a distill collection: " + err.Error()}
		}
		if version > SchemaVersion {
			return &store.CollectionError{Path: s.dir, Reason: fmt.Sprintf("schema version %d is newer than this distill understands (%d); upgrade distill", version, SchemaVersion)}
		}
		if version > 0 && version <= keysOffFrom {
			// Never copy tables with cascades armed (see migration 4).
			var on bool
			if err := tx.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil || on {
				return fmt.Errorf("collection %s: migrate schema %d: foreign keys are still on (%v); nothing was changed", s.dir, version, err)
			}
		}
		for v := version; v < SchemaVersion; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("collection %s: migrate schema %d to %d: %w", s.dir, v, v+1, err)
			}
		}
		if version < SchemaVersion {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)`, strconv.Itoa(SchemaVersion)); err != nil {
				return err
			}
		}
		var raw string
		err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'splits'`).Scan(&raw)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if len(opts.Splits) == 0 {
				return &store.CollectionError{Path: s.dir, Reason: "has no splits recorded and none were given"}
			}
			b, _ := json.Marshal(opts.Splits)
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('splits', ?)`, string(b)); err != nil {
				return err
			}
			s.setSplits(opts.Splits)
		case err != nil:
			return err
		default:
			var splits []store.Split
			if err := json.Unmarshal([]byte(raw), &splits); err != nil {
				return &store.CollectionError{Path: s.dir, Reason: "corrupt splits record: " + err.Error()}
			}
			s.setSplits(splits)
		}
		if version > 0 && version < blocksVersion {
			if err := (bm25Index{}).Rebuild(ctx, s, tx); err != nil {
				return fmt.Errorf("collection %s: rebuild the BM25 index for schema %d: %w", s.dir, blocksVersion, err)
			}
		}
		return tx.Commit()
	})
}

func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var tables int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&tables); err != nil {
		return 0, err
	}
	if tables == 0 {
		return 0, nil
	}
	var v string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("no schema version: %w", err)
	}
	return strconv.Atoi(v)
}

// loadCurrent loads the splits of a collection whose schema is current,
// in a read transaction; done is false when the schema must be created or
// upgraded, or the splits recorded, which needs the write lock.
func (s *Store) loadCurrent(ctx context.Context) (done bool, err error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	defer tx.Rollback()
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, &store.CollectionError{Path: s.dir, Reason: "not a distill collection: " + err.Error()}
	}
	if version > SchemaVersion {
		return false, &store.CollectionError{Path: s.dir, Reason: fmt.Sprintf("schema version %d is newer than this distill understands (%d); upgrade distill", version, SchemaVersion)}
	}
	if version < SchemaVersion {
		return false, nil
	}
	var raw string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'splits'`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("collection %s: %w", s.dir, err)
	}
	var splits []store.Split
	if err := json.Unmarshal([]byte(raw), &splits); err != nil {
		return false, &store.CollectionError{Path: s.dir, Reason: "corrupt splits record: " + err.Error()}
	}
	s.setSplits(splits)
	return true, nil
}

// SchemaVersion returns the collection's schema version: opening a
// collection upgrades it to the current one.
func (s *Store) SchemaVersion() int { return SchemaVersion }
