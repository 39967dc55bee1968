package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/store"
)

// TestCheckpointerCopiesCommits checks that a commit reaches the database
// file through the background checkpointer, not through the writer: a
// copy of collection.db alone (without its WAL) holds the document only if
// the checkpointer ran after the commit. A small write stays far below
// SQLite's automatic checkpoint, so without the checkpointer it stays in
// the WAL.
func TestCheckpointerCopiesCommits(t *testing.T) {
	tests := []struct {
		name        string
		stopFirst   bool // stop the checkpointer before the commit
		wantInCopy  int
		wantInStore int
	}{
		{name: "checkpointed after commit", wantInCopy: 1, wantInStore: 1},
		{name: "no checkpointer", stopFirst: true, wantInCopy: 0, wantInStore: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join(t.TempDir(), "c")
			s := openTest(t, dir)
			defer s.Close()
			if tt.stopFirst {
				if err := s.ckpt.close(); err != nil {
					t.Fatal(err)
				}
				s.ckpt = nil
			}
			if err := writeDoc(t, s, "a.txt", "", nil, "alpha beta gamma", "delta epsilon"); err != nil {
				t.Fatal(err)
			}
			// close lets a checkpoint the commit asked for finish.
			if err := s.ckpt.close(); err != nil {
				t.Fatal(err)
			}
			s.ckpt = nil
			data, err := os.ReadFile(filepath.Join(dir, DatabaseFile))
			if err != nil {
				t.Fatal(err)
			}
			copyDir := filepath.Join(t.TempDir(), "copy")
			if err := os.MkdirAll(copyDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(copyDir, DatabaseFile), data, 0o644); err != nil {
				t.Fatal(err)
			}
			cp, err := OpenStore(ctx, copyDir, store.Options{Splits: testSplits})
			if err != nil {
				t.Fatal(err)
			}
			defer cp.Close()
			for _, c := range []struct {
				what string
				s    *Store
				want int
			}{{"copy of the database file", cp, tt.wantInCopy}, {"store", s, tt.wantInStore}} {
				docs, err := c.s.Documents(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(docs) != c.want {
					t.Errorf("%s holds %d documents, want %d", c.what, len(docs), c.want)
				}
			}
		})
	}
}
