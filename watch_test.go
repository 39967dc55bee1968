package distill_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatchFollowsChanges(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	first := testsupport.Write(t, dir, "first.txt", []byte("The copper tariff was lifted."))
	eng := openEngine(t, filepath.Join(t.TempDir(), "db"), "")
	defer eng.Close()

	var mu sync.Mutex
	var syncs int
	var errs []error
	done := make(chan error, 1)
	go func() {
		done <- eng.Watch(ctx, []string{dir}, distill.WatchOptions{
			Debounce: 50 * time.Millisecond,
			OnSync: func(r *distill.SyncReport, err error) {
				mu.Lock()
				defer mu.Unlock()
				syncs++
				if err != nil {
					errs = append(errs, err)
				}
			},
		})
	}()
	has := func(source string) bool { return slices.Contains(sources(t, eng), source) }
	text := func(source string) string {
		res, err := eng.Retrieve(context.Background(), "marble glacier quarry", "regular")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Contexts {
			if c.Source == source {
				return c.Text
			}
		}
		return ""
	}
	eventually(t, "the first sync stores the existing file", func() bool { return has(first) })

	// A new file.
	created := testsupport.Write(t, dir, "created.md", []byte("# Notes\n\nThe marble quarry closed."))
	eventually(t, "a created file is stored", func() bool { return has(created) })

	// An editor's save: write a temporary file, then rename it over.
	tmp := filepath.Join(dir, ".created.md.swp")
	if err := os.WriteFile(tmp, []byte("# Notes\n\nThe marble quarry reopened beside the glacier."), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, created); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a file saved by rename is replaced", func() bool { return strings.Contains(text(created), "reopened") })

	// A directory created later, with a file made right after it.
	sub := filepath.Join(dir, "later", "deeper")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	nested := testsupport.Write(t, sub, "nested.txt", []byte("The glacier moved."))
	eventually(t, "a file in a new subdirectory is stored", func() bool { return has(nested) })
	// A file added to that directory later still needs its watch.
	nested2 := testsupport.Write(t, sub, "nested2.txt", []byte("The glacier stopped."))
	eventually(t, "a later file in the new subdirectory is stored", func() bool { return has(nested2) })

	// Deletions: a file, then a whole directory.
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a deleted file's document is removed", func() bool { return !has(first) })
	if err := os.RemoveAll(filepath.Join(dir, "later")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a deleted directory's documents are removed", func() bool { return !has(nested) && !has(nested2) })
	if got := sources(t, eng); !slices.Equal(got, []string{created}) {
		t.Errorf("collection holds %v, want only %s", got, created)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not stop with its context")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("sync errors: %v", errs)
	}
	if syncs < 2 {
		t.Errorf("OnSync called %d times", syncs)
	}
}
