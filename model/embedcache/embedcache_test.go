package embedcache_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/embedcache"
	_ "github.com/distill-rag/distill/model/tei"
)

func TestReembeddingPaysOnlyForNewTexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	srv := fakemodel.TEI(t, fakemodel.Dim(4))
	embed := func(texts []string, purpose model.Purpose) [][]float32 {
		t.Helper()
		c, err := embedcache.Open(path) // a new process each time: the cache persists
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		emb, err := model.OpenEmbedder(context.Background(), srv.URI(""), model.WithEmbedCache(c))
		if err != nil {
			t.Fatal(err)
		}
		vecs, err := emb.Embed(context.Background(), texts, purpose)
		if err != nil {
			t.Fatal(err)
		}
		return vecs
	}
	first := embed([]string{"a", "b", "c"}, model.ForDocuments)
	if srv.EmbedCalls() != 1 {
		t.Fatalf("%d calls, want 1", srv.EmbedCalls())
	}
	again := embed([]string{"c", "a", "b", "a"}, model.ForDocuments)
	if srv.EmbedCalls() != 1 {
		t.Fatalf("re-embedding cached texts called the server (%d calls)", srv.EmbedCalls())
	}
	if again[0][0] != first[2][0] || again[1][3] != first[0][3] || again[3][1] != first[0][1] {
		t.Error("cached vectors do not match the texts they belong to")
	}
	embed([]string{"a", "d"}, model.ForDocuments)
	if srv.EmbedCalls() != 2 || len(srv.Last().JSON()["inputs"].([]any)) != 1 {
		t.Errorf("want one more call for the one new text, got %d calls, last %v", srv.EmbedCalls(), srv.Last().JSON())
	}
	embed([]string{"a"}, model.ForQuery) // another purpose is another key
	if srv.EmbedCalls() != 3 {
		t.Errorf("a query embedding came from the document cache (%d calls)", srv.EmbedCalls())
	}
}

// TestCacheIsPrivate: the cache file and its WAL are 0600 whatever the
// umask, in a 0700 directory.
func TestCacheIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "distill")
	path := filepath.Join(dir, "embeddings.db")
	c, err := embedcache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := fakemodel.TEI(t, fakemodel.Dim(4))
	emb, err := model.OpenEmbedder(context.Background(), srv.URI(""), model.WithEmbedCache(c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emb.Embed(context.Background(), []string{"a"}, model.ForDocuments); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v %v", fi.Mode().Perm(), err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", p, fi.Mode().Perm(), err)
		}
	}
}
