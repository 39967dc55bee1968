package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// holdWriteLock takes the collection's write lock from another connection,
// as another distill process writing would, until release is called.
func holdWriteLock(t *testing.T, dir string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.DatabaseFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`BEGIN IMMEDIATE`, `UPDATE meta SET value = value WHERE key = 'splits'`} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	done := false
	release = func() {
		if !done {
			done = true
			conn.ExecContext(context.Background(), `ROLLBACK`)
			conn.Close()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

func TestReadersDoNotWaitForWriters(t *testing.T) {
	restore := sqlite.SetBusyTimeout(50 * time.Millisecond)
	defer restore()
	st, dir := newCollection(t, 5)
	st.Close()
	release := holdWriteLock(t, dir)

	// Opening, listing and searching only read: they go on while another
	// process holds the write lock.
	st, err := sqlite.OpenStore(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatalf("open while another process writes: %v", err)
	}
	defer st.Close()
	if docs, err := st.Documents(context.Background()); err != nil || len(docs) != 4 {
		t.Fatalf("documents: %d, %v", len(docs), err)
	}
	if ps, err := st.SearchText(context.Background(), "chunks", "revenue", 3); err != nil || len(ps) == 0 {
		t.Fatalf("search: %v, %v", ps, err)
	}
	if rep, err := st.Check(context.Background(), store.CheckOptions{}); err != nil || !rep.OK() {
		t.Fatalf("check: %v, %v", rep, err)
	}

	// A write gives up after its bounded wait with an error that says why,
	// not SQLite's "database is locked". The writer analyzes its pages
	// before it takes the lock, so the wait comes at the commit.
	ctx := context.Background()
	w, err := st.Begin(ctx, document.Document{ID: "x", Source: "/x.txt", Type: "text"})
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	text := "Revenue grew while the lock was held."
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, ingest.Chunks(checkSplits, text)); err != nil {
		t.Fatalf("add page: %v", err)
	}
	err = w.Commit(ctx)
	var busy *sqlite.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("commit while locked: %v, want a BusyError", err)
	}
	if msg := err.Error(); strings.Contains(msg, "database is locked") || !strings.Contains(msg, "another process") {
		t.Errorf("message %q", msg)
	}
	release()
	writeDoc(t, st, 99, 1)
	if _, err := st.Document(ctx, "/x.txt"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the document whose commit failed: %v, want not found", err)
	}
}

func TestWritersWaitForTheLock(t *testing.T) {
	st, dir := newCollection(t, 2)
	release := holdWriteLock(t, dir)
	go func() {
		time.Sleep(200 * time.Millisecond)
		release()
	}()
	writeDoc(t, st, 50, 2) // waits for the other writer, then succeeds
	if _, err := st.Document(context.Background(), "/docs/doc-050.txt"); err != nil {
		t.Fatal(err)
	}
}
