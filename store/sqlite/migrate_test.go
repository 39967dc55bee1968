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

// testdata/schemaN.db.gz are collections written by the code of schema N
// (one posting row per term, chunk rows naming their segment): the
// documents of newCollection(t, 12), with replacements and deletions, so
// their segments held postings of deleted chunks. The schema 2 one also has
// vectors for its searched chunks.
func unpackFixture(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
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

func TestMigrateRebuildsBM25(t *testing.T) {
	tests := []struct {
		fixture string
		vectors int // rows of the vectors table, which must survive
	}{
		{"schema1.db.gz", 0},
		{"schema2.db.gz", -1}, // counted before the migration
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) { testMigrate(t, tt.fixture, tt.vectors) })
	}
}

func testMigrate(t *testing.T, fixture string, vectors int) {
	dir := unpackFixture(t, fixture)
	if vectors < 0 {
		rawQuery(t, dir, `SELECT count(*) FROM vectors`, &vectors)
		if vectors == 0 {
			t.Fatal("the fixture has no vectors")
		}
	}
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
	if vectors > 0 {
		var n int
		rawQuery(t, dir, `SELECT count(*) FROM vectors`, &n)
		if n != vectors {
			t.Errorf("%d vectors after the migration, %d before", n, vectors)
		}
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
	// index exact. (A collection with vectors takes only documents with
	// vectors, which writeDoc does not make.)
	if vectors > 0 {
		return
	}
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
