package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/ann"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/model/hashembed"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

const vecModel = "hash:32"

var toyEmbedder = &hashembed.Embedder{Dim: 32}

func embed(t testing.TB, texts ...string) [][]float32 {
	t.Helper()
	vs, err := toyEmbedder.Embed(context.Background(), texts, 0)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// writeEmbeddedDoc is writeDoc with a vector for every searched chunk.
func writeEmbeddedDoc(t testing.TB, st *sqlite.Store, d, pages int) {
	t.Helper()
	ctx := context.Background()
	src := fmt.Sprintf("/docs/doc-%03d.txt", d)
	w, err := st.BeginVectors(ctx, document.Document{ID: document.IDFor(src), Source: src, Type: "text", Hash: fmt.Sprint(d, pages)}, vecModel)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= pages; n++ {
		text := pageText(d, n)
		chunks := ingest.Chunks(checkSplits, text)
		for i := range chunks {
			if chunks[i].Split != "parents" {
				chunks[i].Vector = embed(t, text[chunks[i].Start:chunks[i].End])[0]
			}
		}
		if err := w.AddPage(ctx, document.Page{Number: n, Text: text}, chunks); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// newVectorCollection writes, replaces and deletes embedded documents and
// saves the index files, as a closing ingest would.
func newVectorCollection(t testing.TB, docs int) (*sqlite.Store, string) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "coll")
	st, err := sqlite.OpenStore(ctx, dir, store.Options{Create: true, Splits: checkSplits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for d := 0; d < docs; d++ {
		writeEmbeddedDoc(t, st, d, 1+d%3)
	}
	if err := st.SyncIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	// Changes after the save, which a load replays from the log.
	for d := 0; d < docs; d += 4 {
		writeEmbeddedDoc(t, st, d, 2+d%2)
	}
	if _, err := st.Delete(ctx, document.IDFor("/docs/doc-001.txt")); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	writeEmbeddedDoc(t, st, docs, 2)
	return st, dir
}

func denseAll(t *testing.T, st *sqlite.Store) map[string][]hitKey {
	t.Helper()
	out := map[string][]hitKey{}
	for _, split := range []string{"chunks", "children"} {
		for _, q := range []string{"revenue grew", "solar lanterns recall", "kestrel harbour", "dividend tariff copper"} {
			ps, err := st.SearchVector(context.Background(), split, embed(t, q)[0], 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				out[split+"/"+q] = append(out[split+"/"+q], hitKey{p.ChunkID, p.Score})
			}
		}
	}
	return out
}

// sameDense compares dense results: float32 scores, computed from vectors
// normalized on different paths, agree to about 1e-7.
func sameDense(a, b map[string][]hitKey) error {
	for q, ha := range a {
		hb := b[q]
		if len(ha) != len(hb) {
			return fmt.Errorf("%s: %d hits, then %d", q, len(ha), len(hb))
		}
		near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-5 }
		for i := range ha {
			// Identical chunks tie, and either may come first.
			tied := (i > 0 && near(ha[i].score, ha[i-1].score)) || (i+1 < len(ha) && near(ha[i].score, ha[i+1].score))
			if !near(ha[i].score, hb[i].score) || (!tied && ha[i].chunk != hb[i].chunk) {
				return fmt.Errorf("%s hit %d: %v, then %v", q, i, ha[i], hb[i])
			}
		}
	}
	return nil
}

func indexFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "index", "*.hnsw"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no index files in %s (%v)", dir, err)
	}
	return files
}

func TestCheckSoundVectors(t *testing.T) {
	ctx := context.Background()
	st, dir := newVectorCollection(t, 24)
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("a sound embedded collection fails the check: %v", rep.Problems())
	}
	if n := len(indexFiles(t, dir)); n != 2 {
		t.Fatalf("%d index files, want one per searched split", n)
	}
	// A reindex in progress keeps another model's vectors beside the
	// active one's, some chunks still without: by design.
	next, _, err := st.Unembedded(ctx, "hash:16", 0, 40)
	if err != nil {
		t.Fatal(err)
	}
	other := &hashembed.Embedder{Dim: 16}
	var cvs []store.ChunkVector
	for _, c := range next {
		v, _ := other.Embed(ctx, []string{c.Text}, 0)
		cvs = append(cvs, store.ChunkVector{ID: c.ID, Vector: v[0]})
	}
	if err := st.PutVectors(ctx, "hash:16", cvs); err != nil {
		t.Fatal(err)
	}
	// A save killed half-way leaves a temporary file behind.
	if err := os.WriteFile(filepath.Join(dir, "index", ".tmp-123.hnsw"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("a reindex in progress fails the check: %v", rep.Problems())
	}
	// Without index files (never saved) there is nothing to disagree.
	for _, f := range indexFiles(t, dir) {
		os.Remove(f)
	}
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("a collection without index files fails the check: %v", rep.Problems())
	}
}

const (
	firstChunkVector = `(SELECT min(chunk) FROM vectors WHERE split = 'chunks')`
	lastChunkVector  = `(SELECT max(chunk) FROM vectors WHERE split = 'chunks')`
)

func TestCheckFindsAndRepairsVectors(t *testing.T) {
	tests := []struct {
		name       string
		corrupt    []string
		file       func(t *testing.T, dir string) // damage to the index files
		check      string
		want       string
		repairable bool
		same       bool // dense search returns what it did before the damage
	}{
		{name: "vector of a deleted chunk", corrupt: []string{`INSERT INTO vectors(embedding, chunk, split, vector) SELECT embedding, 999999, split, vector FROM vectors LIMIT 1`},
			check: "vectors", want: "chunks that no longer exist", repairable: true, same: true},
		{name: "vector of an unknown model", corrupt: []string{`INSERT INTO vectors(embedding, chunk, split, vector) SELECT 77, chunk, split, vector FROM vectors LIMIT 1`},
			check: "vectors", want: "belong to no embedding model", repairable: true, same: true},
		{name: "vector of a parent chunk", corrupt: []string{`INSERT INTO vectors(embedding, chunk, split, vector) SELECT (SELECT id FROM embeddings), id, 'chunks', (SELECT vector FROM vectors LIMIT 1) FROM chunks WHERE split = 'parents' LIMIT 1`},
			check: "vectors", want: "which is not searched", repairable: true, same: true},
		{name: "vector under another split", corrupt: []string{`UPDATE vectors SET split = 'children' WHERE chunk = ` + firstChunkVector},
			check: "vectors", want: "another split", repairable: true, same: true},
		{name: "recorded dimension wrong", corrupt: []string{`UPDATE embeddings SET dim = 48`},
			check: "vectors", want: "records 48 dimensions, but all its", repairable: true, same: true},
		{name: "stored vector changed behind the index", corrupt: []string{`UPDATE vectors SET vector = (SELECT vector FROM vectors WHERE chunk = ` + lastChunkVector + `) WHERE chunk = ` + firstChunkVector},
			check: "vectors", want: "differ from the stored ones", repairable: true},
		{name: "log entries lost", corrupt: []string{`DELETE FROM vector_log WHERE seq > (SELECT max(seq) - 3 FROM vector_log)`},
			check: "vectors", want: "lacks", repairable: true, same: true},
		{name: "index file ahead of the log", corrupt: []string{`DELETE FROM vector_log`},
			check: "vectors", want: "but the log ends at 0", repairable: true, same: true},
		{name: "index file of another collection", corrupt: []string{`UPDATE meta SET value = 'feedface' WHERE key = 'collection_id'`},
			check: "vectors", want: "belongs to another collection", repairable: true, same: true},
		{name: "index file damaged", file: func(t *testing.T, dir string) {
			f := indexFiles(t, dir)[0]
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x5a
			if err := os.WriteFile(f, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, check: "vectors", want: "cannot be used", repairable: true, same: true},
		{name: "index file truncated", file: func(t *testing.T, dir string) {
			f := indexFiles(t, dir)[1]
			fi, _ := os.Stat(f)
			if err := os.Truncate(f, fi.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, check: "vectors", want: "cannot be used", repairable: true, same: true},
		{name: "chunk without a vector", corrupt: []string{`DELETE FROM vectors WHERE chunk = ` + firstChunkVector},
			check: "vectors", want: "have no vector from hash:32", repairable: false},
		{name: "vector of the wrong size", corrupt: []string{`UPDATE vectors SET vector = substr(vector, 1, 64) WHERE chunk = ` + lastChunkVector},
			check: "vectors", want: "have 64 bytes, not the 128", repairable: false},
		{name: "two active models", corrupt: []string{`INSERT INTO embeddings(model, dim, active) VALUES('hash:8', 8, 1)`},
			check: "vectors", want: "2 embedding models are marked active", repairable: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, dir := newVectorCollection(t, 12)
			before := denseAll(t, st)
			if len(tt.corrupt) > 0 {
				corrupt(t, dir, tt.corrupt...)
			}
			if tt.file != nil {
				tt.file(t, dir)
			}
			rep := mustCheck(t, st, false)
			if rep.OK() {
				t.Fatal("the check passes a damaged collection")
			}
			var msgs []string
			found := false
			for _, p := range rep.Problems() {
				msgs = append(msgs, p.String())
				if p.Check == tt.check && strings.Contains(p.Message, tt.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s problem mentioning %q in:\n%s", tt.check, tt.want, strings.Join(msgs, "\n"))
			}
			rep = mustCheck(t, st, true)
			if rep.OK() != tt.repairable {
				t.Fatalf("after repair OK = %v, want %v; repaired %v; still: %v", rep.OK(), tt.repairable, rep.Repaired, rep.After)
			}
			if !tt.repairable {
				return
			}
			if again := mustCheck(t, st, false); !again.OK() {
				t.Fatalf("a fresh check after repair: %v", again.Problems())
			}
			if tt.same {
				if err := sameDense(before, denseAll(t, st)); err != nil {
					t.Errorf("dense search after repair differs: %v", err)
				}
			}
			// The repaired files load as they are: another handle finds
			// the same as this one.
			st2, err := sqlite.OpenStore(context.Background(), dir, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close()
			if err := sameDense(denseAll(t, st), denseAll(t, st2)); err != nil {
				t.Errorf("a new handle searches differently: %v", err)
			}
		})
	}
}

// TestRepairedIndexFollowsChangedVector: after a vector changes behind the
// index, the repaired index finds the chunk by its new vector.
func TestRepairedIndexFollowsChangedVector(t *testing.T) {
	ctx := context.Background()
	st, dir := newVectorCollection(t, 12)
	denseAll(t, st) // load the index into this handle
	corrupt(t, dir, `UPDATE vectors SET vector = (SELECT vector FROM vectors WHERE chunk = (SELECT min(chunk) FROM vectors WHERE split = 'children')) WHERE chunk = `+firstChunkVector)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	err = db.QueryRow(`SELECT vector FROM vectors WHERE chunk = ` + firstChunkVector).Scan(&blob)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	changed := make([]float32, len(blob)/4)
	for i := range changed {
		changed[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
	}
	rank := func() float64 {
		ps, err := st.SearchVector(ctx, "chunks", changed, 1)
		if err != nil || len(ps) == 0 {
			t.Fatalf("search: %v %v", ps, err)
		}
		return ps[0].Score
	}
	// Searches re-rank with the stored vectors, so even the stale index
	// may score the chunk right; the check must still see the stale codes.
	if rep := mustCheck(t, st, false); rep.OK() {
		t.Fatal("the check passes an index that holds the old vector")
	}
	mustCheck(t, st, true)
	if s := rank(); s < 0.9999 {
		t.Fatalf("after repair the new vector's top score is %v, want 1", s)
	}
}

// TestFloat32IndexFileIsRebuiltWithInt8Codes: an index file written before
// indexes kept int8 codes still answers the same, and is replaced by an
// int8 one.
func TestFloat32IndexFileIsRebuiltWithInt8Codes(t *testing.T) {
	ctx := context.Background()
	st, dir := newVectorCollection(t, 12)
	before := denseAll(t, st)
	st.Close()
	for _, path := range indexFiles(t, dir) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		quant, meta, err := ann.Read(f)
		f.Close()
		if err != nil || quant.Storage() != ann.Int8 {
			t.Fatalf("%s: %v, storage %d", path, err, quant.Storage())
		}
		float := ann.New(quant.Dim(), ann.Parameters{Storage: ann.Float32})
		for _, key := range quant.Keys() {
			v, _ := quant.Vector(key)
			if err := float.Add(key, v); err != nil {
				t.Fatal(err)
			}
		}
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := float.Write(out, meta); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	st, err := sqlite.OpenStore(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := sameDense(before, denseAll(t, st)); err != nil {
		t.Errorf("dense search with the float32 files: %v", err)
	}
	if err := st.SyncIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range indexFiles(t, dir) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ix, _, err := ann.Read(f)
		f.Close()
		if err != nil || ix.Storage() != ann.Int8 {
			t.Fatalf("%s after sync: %v, storage %d", path, err, ix.Storage())
		}
	}
}
