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
// (for 1 and 2, one posting row per term, chunk rows naming their segment):
// the documents of newCollection(t, 12), with replacements and deletions, so
// their segments held postings of deleted chunks. The schema 2 and 3 ones
// also have vectors for their searched chunks; the schema 3 one lacks
// document 8 as well, deleted last, so that its chunk id high-water mark is
// above every chunk id left.
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
		vectors int   // rows of the vectors table, which must survive
		gone    []int // documents deleted beyond newCollection's
	}{
		{"schema1.db.gz", 0, nil},
		{"schema2.db.gz", -1, nil}, // counted before the migration
		{"schema3.db.gz", -1, []int{8}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) { testMigrate(t, tt.fixture, tt.vectors, tt.gone) })
	}
}

func testMigrate(t *testing.T, fixture string, vectors int, gone []int) {
	dir := unpackFixture(t, fixture)
	if vectors < 0 {
		rawQuery(t, dir, `SELECT count(*) FROM vectors`, &vectors)
		if vectors == 0 {
			t.Fatal("the fixture has no vectors")
		}
	}
	// Chunk ids are never reused: the AUTOINCREMENT high-water mark
	// survives the copy of the chunks table (schema 4).
	var seq, maxID int64
	rawQuery(t, dir, `SELECT seq FROM sqlite_sequence WHERE name = 'chunks'`, &seq)
	rawQuery(t, dir, `SELECT max(id) FROM chunks`, &maxID)
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
	rawQuery(t, dir, `SELECT count(*) FROM sqlite_master WHERE name IN ('bm25_postings', 'chunks_segment', 'chunks_page', 'chunks_parent', 'chunks_v4')`, &oldTables)
	if oldTables != 0 {
		t.Errorf("%d tables or indexes of older schemas left", oldTables)
	}
	var fks int
	rawQuery(t, dir, `SELECT count(*) FROM pragma_foreign_key_list('chunks')`, &fks)
	if fks != 0 {
		t.Errorf("chunks has %d foreign keys after the migration", fks)
	}
	var seqAfter int64
	rawQuery(t, dir, `SELECT seq FROM sqlite_sequence WHERE name = 'chunks'`, &seqAfter)
	if seqAfter != seq || (fixture == "schema3.db.gz" && seq <= maxID) {
		t.Errorf("chunk id high-water mark %d after the migration, %d before (highest id %d)", seqAfter, seq, maxID)
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
	if err != nil || len(docs) != 9-len(gone) {
		t.Fatalf("documents after migration: %d, %v", len(docs), err)
	}

	// The same documents written by this code rank the same, both merged
	// so that no postings of deleted chunks count (a rebuild has none).
	fresh, _ := newCollection(t, 12)
	for _, d := range gone {
		if _, err := fresh.Delete(ctx, document.IDFor(fmt.Sprintf("/docs/doc-%03d.txt", d))); err != nil {
			t.Fatal(err)
		}
	}
	for _, sp := range checkSplits {
		if err := fresh.Merge(ctx, sp.Name, true); err != nil {
			t.Fatal(err)
		}
		if err := st.Merge(ctx, sp.Name, true); err != nil {
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
		// Deleting a document deletes its chunks' vectors.
		var before, after int
		rawQuery(t, dir, `SELECT count(*) FROM vectors`, &before)
		if _, err := st.Delete(ctx, document.IDFor("/docs/doc-002.txt")); err != nil {
			t.Fatal(err)
		}
		rawQuery(t, dir, `SELECT count(*) FROM vectors`, &after)
		if after >= before {
			t.Errorf("%d vectors after deleting a document, %d before", after, before)
		}
		if rep := mustCheck(t, st, false); !rep.OK() {
			t.Fatalf("after a delete: %v", rep.Problems())
		}
		return
	}
	writeDoc(t, st, 3, 2)
	var first int64
	rawQuery(t, dir, `SELECT min(id) FROM chunks WHERE document = (SELECT id FROM documents WHERE source = '/docs/doc-003.txt')`, &first)
	if first <= seq {
		t.Errorf("a new document's chunks start at id %d, at or below the old high-water mark %d", first, seq)
	}
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
