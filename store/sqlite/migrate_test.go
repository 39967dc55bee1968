package sqlite_test

import (
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// testdata/schema1.db.gz is a collection written by the schema 1 code (one
// posting row per term, chunk rows naming their segment): the documents of
// newCollection(t, 12), with replacements and deletions, so its segments
// held postings of deleted chunks.
func openSchema1(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema1.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "old")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, sqlite.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMigrateFromSchema1RebuildsBM25(t *testing.T) {
	dir := openSchema1(t)
	ctx := context.Background()
	st, err := sqlite.OpenStore(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var version string
	if err := rawQuery(t, dir, `SELECT value FROM meta WHERE key = 'schema_version'`, &version); version != fmt.Sprint(sqlite.SchemaVersion) {
		t.Fatalf("schema version %q (%v), want %d", version, err, sqlite.SchemaVersion)
	}
	var oldTables int
	rawQuery(t, dir, `SELECT count(*) FROM sqlite_master WHERE name IN ('bm25_postings', 'chunks_segment')`, &oldTables)
	if oldTables != 0 {
		t.Errorf("%d tables or indexes of schema 1 left", oldTables)
	}
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("the migrated collection fails the check: %v", rep.Problems())
	}
	docs, err := st.Documents(ctx)
	if err != nil || len(docs) != 9 {
		t.Fatalf("documents after migration: %d, %v", len(docs), err)
	}

	// The same documents written by this code, merged so that no postings
	// of deleted chunks count (the rebuild has none), rank the same.
	fresh, _ := newCollection(t, 12)
	for _, sp := range checkSplits {
		if err := fresh.Merge(ctx, sp.Name, true); err != nil {
			t.Fatal(err)
		}
	}
	got, want := searchAll(t, st), searchAll(t, fresh)
	if len(got) == 0 {
		t.Fatal("no hits in the migrated collection")
	}
	if err := sameHits(want, got); err != nil {
		t.Errorf("migrated collection ranks differently: %v", err)
	}

	// It keeps working as a collection: a replacement and a delete keep the
	// index exact.
	writeDoc(t, st, 3, 2)
	if _, err := st.Delete(ctx, document.IDFor("/docs/doc-002.txt")); err != nil {
		t.Fatal(err)
	}
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("after writes: %v", rep.Problems())
	}
}

func rawQuery(t *testing.T, dir, q string, dst any) error {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.QueryRow(q).Scan(dst)
}
