// Package sqlite is the embedded store: one directory per collection holding
// a SQLite database (pure Go, modernc.org/sqlite) in WAL mode. Documents,
// pages and chunks live in ordinary tables; the BM25 index is kept in the
// same database as immutable segments of posting lists, written in the same
// transaction as the chunks they index, so the index can never disagree
// with the data after a crash.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/distill-rag/distill/store"
)

func init() {
	store.Register("sqlite", Open)
	store.RegisterProber("sqlite", func(_ context.Context, dir string) (bool, error) { return IsCollection(dir), nil })
}

// IsCollection reports whether dir holds an embedded collection.
func IsCollection(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, DatabaseFile))
	return err == nil && fi.Mode().IsRegular()
}

// DatabaseFile is the name of the database inside a collection directory.
const DatabaseFile = "collection.db"

// busyTimeout is how long a statement waits for another process's write lock
// before SQLite reports it busy; beyond it, withRetry tries again a few times.
// A variable so that tests can shorten it.
var busyTimeout = 30 * time.Second

// Store is an embedded collection.
type Store struct {
	dir    string
	writer *sql.DB // one connection, BEGIN IMMEDIATE: writers queue instead of deadlocking
	reader *sql.DB
	// splits are the collection's splits; a resplit replaces them while
	// the store is open, so they are read through splitList.
	splits atomic.Pointer[[]store.Split]
	vec    vectorState

	// Statements of the writer's connection that every document uses,
	// prepared once; see txStmt.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

	ckpt *checkpointer

	bulk bulkState

	// readOnly says why the collection is open read-only ("" when it is
	// not): both handles are then read-only and every write is refused.
	readOnly string

	// filterDocs caches the documents filters are matched against; see
	// filterDocuments.
	filterDocs atomic.Pointer[docSnapshot]
}

// refuseWrite is the error of every write to a read-only collection.
func (s *Store) refuseWrite() error {
	if s.readOnly == "" {
		return nil
	}
	return &store.ReadOnlyError{Collection: s.dir, Reason: s.readOnly}
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Destroyer = (*Store)(nil)
)

// Open opens the collection in directory dir, creating it when opts.Create
// is set and it does not exist.
func Open(ctx context.Context, dir string, opts store.Options) (store.Store, error) {
	return OpenStore(ctx, dir, opts)
}

// createPrivate creates an empty file only its owner can read, unless it
// exists (an existing collection keeps the mode it was given).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// OpenStore is Open returning the concrete type.
func OpenStore(ctx context.Context, dir string, opts store.Options) (*Store, error) {
	if dir == "" {
		return nil, &store.CollectionError{Path: dir, Reason: "no path given"}
	}
	dir = filepath.Clean(dir)
	dbPath := filepath.Join(dir, DatabaseFile)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if !opts.Create {
			return nil, &store.CollectionError{Path: dir, Reason: "does not exist (ingest documents first, or check --db)"}
		}
		// A collection holds all of its documents' text: only its owner
		// reads it (0700 here, 0600 for the files).
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, &store.CollectionError{Path: dir, Reason: err.Error()}
		}
	case err != nil:
		return nil, &store.CollectionError{Path: dir, Reason: err.Error()}
	case !fi.IsDir():
		return nil, &store.CollectionError{Path: dir, Reason: "is a file, not a distill collection directory"}
	default:
		if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
			entries, _ := os.ReadDir(dir)
			if len(entries) > 0 {
				return nil, &store.CollectionError{Path: dir, Reason: "is a directory that holds other files, not a distill collection"}
			}
			if !opts.Create {
				return nil, &store.CollectionError{Path: dir, Reason: "is empty (ingest documents first, or check --db)"}
			}
		}
	}
	readOnly := ""
	if opts.ReadOnly {
		readOnly = "opened read-only"
	} else if why := notWritable(dir, dbPath); why != "" {
		readOnly = why
	}
	if readOnly != "" {
		if _, err := os.Stat(dbPath); err != nil {
			return nil, &store.CollectionError{Path: dir, Reason: "cannot be created: " + readOnly}
		}
		return openReadOnly(ctx, dir, dbPath, readOnly, opts)
	}
	if opts.Create {
		// SQLite gives its -wal and -shm files the database file's mode.
		if err := createPrivate(dbPath); err != nil {
			return nil, &store.CollectionError{Path: dir, Reason: err.Error()}
		}
	}
	s := &Store{dir: dir}
	if s.writer, err = openDB(dbPath, true); err != nil {
		return nil, err
	}
	if s.reader, err = openDB(dbPath, false); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.migrate(ctx, opts); err != nil {
		s.Close()
		return nil, err
	}
	ckdb, err := openDB(dbPath, true)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.ckpt = startCheckpointer(ckdb, dir)
	return s, nil
}

// openReadOnly opens both handles read-only. A WAL database can be read
// that way when its -wal and -shm files exist or can be made; on a
// read-only file system after a clean close neither exists, and only an
// immutable open (no locks, no WAL) reads it, which is right there since
// nothing can write to it.
func openReadOnly(ctx context.Context, dir, dbPath, why string, opts store.Options) (*Store, error) {
	var firstErr error
	for _, mode := range []string{"ro", "immutable"} {
		s := &Store{dir: dir, readOnly: why}
		var err error
		if s.writer, err = openDBMode(dbPath, true, mode); err != nil {
			return nil, err
		}
		if s.reader, err = openDBMode(dbPath, false, mode); err != nil {
			s.writer.Close()
			return nil, err
		}
		if err = s.migrate(ctx, opts); err == nil {
			return s, nil
		}
		s.closeHandles()
		var roErr *store.ReadOnlyError
		if errors.As(err, &roErr) {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func openDB(path string, write bool) (*sql.DB, error) { return openDBMode(path, write, "") }

// openDBMode opens path; mode "ro" opens it read-only and "immutable"
// read-only without locks or WAL.
func openDBMode(path string, write bool, mode string) (*sql.DB, error) {
	q := url.Values{}
	switch mode {
	case "ro":
		q.Set("mode", "ro")
	case "immutable":
		q.Set("mode", "ro")
		q.Set("immutable", "1")
	}
	// The driver runs the _pragma list (sorted by name) before the named
	// settings below, so page_size comes before journal_mode: a page size
	// only takes effect while the database is new, before it turns to WAL.
	// 16 KiB pages hold a BM25 block without an overflow page and write the
	// WAL in fewer frames (docs/benchmarks.md).
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "page_size(16384)")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	if write && mode == "" {
		q.Set("_txlock", "immediate")
		// A document's writes fit in the cache, so pages are not spilled to
		// the WAL mid-transaction and written again.
		q.Add("_pragma", "cache_size(-65536)")
	} else {
		q.Set("_query_only", "1")
		// Searches read postings and page text from overflow pages; mapping
		// the file saves a pread system call per page.
		q.Add("_pragma", "mmap_size(1073741824)")
		q.Add("_pragma", "cache_size(-65536)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if write {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

// txStmt returns query as a statement of tx. One that prepareWrites
// prepared is reused, so the SQL is not compiled again for every
// document; any other is prepared on the transaction.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st := s.stmts[query]
	s.stmtMu.Unlock()
	if st == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// writeStatements are the statements every document write and merge runs.
func writeStatements() []string {
	qs := []string{insertPageSQL}
	for n := chunkBatch; n >= 1; n /= 2 {
		qs = append(qs, insertChunksSQL(n))
	}
	for n := blockBatch; n >= 1; n /= 2 {
		qs = append(qs, insertBlocksSQL(n))
	}
	return qs
}

// prepareWrites prepares writeStatements on the writer's connection, once.
// It runs before a write transaction begins: the writer has a single
// connection, which a transaction holds, so preparing inside one would
// wait for itself. It may wait for another writer's transaction to end,
// as beginning one would. A failure only costs speed: txStmt then prepares
// on the transaction.
func (s *Store) prepareWrites(ctx context.Context) {
	s.stmtMu.Lock()
	done := s.stmts != nil
	s.stmtMu.Unlock()
	if done {
		return
	}
	stmts := map[string]*sql.Stmt{}
	for _, q := range writeStatements() {
		st, err := s.writer.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range stmts {
				st.Close()
			}
			return
		}
		stmts[q] = st
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.stmts != nil { // another writer was first
		for _, st := range stmts {
			st.Close()
		}
		return
	}
	s.stmts = stmts
}

// Dir returns the collection directory.
func (s *Store) Dir() string { return s.dir }

// Close saves the vector indexes this handle changed and closes the
// database. An index that cannot be saved is only slower to open next
// time: it is replayed or rebuilt from the stored vectors.
func (s *Store) Close() error {
	if s.reader != nil && s.writer != nil && s.readOnly == "" {
		if err := s.SyncIndexes(context.Background()); err != nil {
			slog.Warn("vector index not saved; it will be rebuilt when next needed", "collection", s.dir, "err", err)
		}
	}
	return s.closeHandles()
}

// Destroy closes the store and removes the collection: its database with
// its WAL and shared-memory files, and its vector index files. Anything
// else in the directory stays, and so does the directory then.
func (s *Store) Destroy(ctx context.Context) error {
	if err := s.refuseWrite(); err != nil {
		return err
	}
	if err := s.closeHandles(); err != nil {
		return fmt.Errorf("collection %s: destroy: %w", s.dir, err)
	}
	var errs []error
	remove := func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, f := range []string{DatabaseFile, DatabaseFile + "-wal", DatabaseFile + "-shm", DatabaseFile + "-journal"} {
		remove(filepath.Join(s.dir, f))
	}
	index := filepath.Join(s.dir, "index")
	for _, pattern := range []string{"*.hnsw", ".tmp-*.hnsw"} {
		files, _ := filepath.Glob(filepath.Join(index, pattern))
		for _, f := range files {
			remove(f)
		}
	}
	os.Remove(index) // fails, harmlessly, when other files remain
	os.Remove(s.dir)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("collection %s: destroy: %w", s.dir, err)
	}
	return nil
}

// closeHandles closes the database handles and statements.
func (s *Store) closeHandles() error {
	var errs []error
	errs = append(errs, s.ckpt.close())
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// Splits returns the collection's splits.
func (s *Store) Splits(context.Context) ([]store.Split, error) {
	return append([]store.Split(nil), s.splitList()...), nil
}

// splitList returns the splits in force; callers must not modify it.
func (s *Store) splitList() []store.Split {
	if p := s.splits.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) setSplits(splits []store.Split) {
	cp := append([]store.Split(nil), splits...)
	s.splits.Store(&cp)
}

func (s *Store) split(name string) (store.Split, bool) {
	for _, sp := range s.splitList() {
		if sp.Name == name {
			return sp, true
		}
	}
	return store.Split{}, false
}

// UnknownSplitError names a split the collection does not have.
type UnknownSplitError struct {
	Split string
	Known []string
}

func (e *UnknownSplitError) Error() string {
	return fmt.Sprintf("the collection has no split %q (it has: %s); add it to the config's splits and run distill reindex", e.Split, strings.Join(e.Known, ", "))
}

func (s *Store) unknownSplit(name string) error {
	var known []string
	for _, sp := range s.splitList() {
		known = append(known, sp.Name)
	}
	return &UnknownSplitError{Split: name, Known: known}
}

// withRetry runs fn again when SQLite reports the database busy or locked
// beyond its own busy timeout, a bounded number of times with backoff; when
// the lock is still held it returns a BusyError.
func withRetry(ctx context.Context, fn func() error) error {
	delay := 50 * time.Millisecond
	start := time.Now()
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !isBusy(err) {
			return err
		}
		if attempt >= 5 {
			return &BusyError{Waited: time.Since(start).Round(time.Second), Err: err}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// BusyError reports a collection that another process kept locked for
// longer than distill waits for it.
type BusyError struct {
	Waited time.Duration
	Err    error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another process kept the collection locked for %s; try again when it finishes", e.Waited)
}

func (e *BusyError) Unwrap() error { return e.Err }

func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}
