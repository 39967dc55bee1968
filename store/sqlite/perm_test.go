package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

// TestNewCollectionIsPrivate: a new collection's directory is 0700 and its
// database, WAL and index files 0600, whatever the umask.
func TestNewCollectionIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "c")
	st, err := sqlite.OpenStore(context.Background(), dir, store.Options{Create: true, Splits: []store.Split{{Name: "chunks", Size: 100, Search: true}}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Begin(context.Background(), document.Document{ID: "d1", Source: "/a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddPage(context.Background(), document.Page{Number: 1, Text: "private text"}, []store.Chunk{{Split: "chunks", Start: 0, End: 12, Parent: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("collection directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		n++
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read it", p, fi.Mode().Perm())
		}
		return nil
	})
	if n < 2 { // collection.db and its -wal at least
		t.Fatalf("only %d files checked", n)
	}
}
