package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var splits = []store.Split{
	{Name: "chunks", Size: 300, Overlap: 30, Search: true},
	{Name: "parents", Size: 500, Overlap: 50},
	{Name: "children", Size: 150, Overlap: 30, Parent: "parents", Search: true},
}

func openStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenStore(context.Background(), dir, store.Options{Create: true, Splits: splits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func text(i, v int) string {
	var b strings.Builder
	for p := 0; p < 1+i%3; p++ {
		if p > 0 {
			b.WriteString("\f")
		}
		fmt.Fprintf(&b, "Document %d version %d page %d.\n\n", i, v, p+1)
		for w := 0; w < 80; w++ {
			fmt.Fprintf(&b, "word%d ", (i*7+w*w+v)%97)
		}
	}
	return b.String()
}

func writeFiles(t *testing.T, dir string, n, v int) []string {
	t.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		paths = append(paths, testsupport.Write(t, dir, fmt.Sprintf("doc-%02d.txt", i), []byte(text(i, v))))
	}
	return paths
}

func mustCheck(t *testing.T, st *sqlite.Store) {
	t.Helper()
	rep, err := st.Check(context.Background(), store.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("check: %v", rep.Problems())
	}
}

func TestIngestAddsUpdatesSkips(t *testing.T) {
	tmp := t.TempDir()
	st := openStore(t, filepath.Join(tmp, "coll"))
	src := filepath.Join(tmp, "src")
	writeFiles(t, src, 6, 1)
	in := ingest.Ingester{Store: st, Splits: splits}
	tests := []struct {
		name                      string
		before                    func()
		added, updated, unchanged int
	}{
		{"first", func() {}, 6, 0, 0},
		{"again", func() {}, 0, 0, 6},
		{"two changed", func() {
			testsupport.Write(t, src, "doc-01.txt", []byte(text(1, 2)))
			testsupport.Write(t, src, "doc-04.txt", []byte(text(4, 2)))
		}, 0, 2, 4},
		{"one new", func() { testsupport.Write(t, src, "doc-99.txt", []byte(text(99, 1))) }, 1, 0, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.before()
			rep, err := in.Ingest(context.Background(), []string{src}, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if a, u, n, f := rep.Count(ingest.Added), rep.Count(ingest.Updated), rep.Count(ingest.Unchanged), rep.Count(ingest.Failed); a != tt.added || u != tt.updated || n != tt.unchanged || f != 0 {
				t.Fatalf("added %d, updated %d, unchanged %d, failed %d; want %d, %d, %d, 0", a, u, n, f, tt.added, tt.updated, tt.unchanged)
			}
			mustCheck(t, st)
		})
	}
	docs, _ := st.Documents(context.Background())
	if len(docs) != 7 {
		t.Errorf("%d documents, want 7", len(docs))
	}
}

// TestConcurrentIngesters writes overlapping files through separate store
// handles (separate connections, as separate processes have) while
// searches run: every document ends up stored once, and the collection
// checks clean.
func TestConcurrentIngesters(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "coll")
	paths := writeFiles(t, filepath.Join(tmp, "src"), 24, 1)
	stores := []*sqlite.Store{openStore(t, dir), openStore(t, dir), openStore(t, dir)}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i, st := range stores {
		// Each takes every third file and all of the last eight.
		var mine []string
		for j, p := range paths {
			if j%3 == i || j >= 16 {
				mine = append(mine, p)
			}
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			in := ingest.Ingester{Store: st, Splits: splits}
			rep, err := in.Ingest(context.Background(), mine, ingest.Options{Workers: 2})
			if err == nil && rep.Count(ingest.Failed) > 0 {
				err = rep.Failures()[0].Err()
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			for n := 0; n < 20; n++ {
				if _, err := st.SearchText(context.Background(), "children", "word5 word12", 5); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	docs, err := stores[0].Documents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(paths) {
		t.Fatalf("%d documents stored, want %d", len(docs), len(paths))
	}
	mustCheck(t, stores[1])
}

// TestIngestCancelled stops a run midway: what was committed is whole,
// nothing else is visible, the run reports the cancellation, and no
// goroutine is left behind (TestMain).
// interruptingStore cancels the run at its sixth write and fails that
// write with an error of its own, as SQLite does for a statement cut off
// by a cancel ("interrupted (9)"), not with ctx.Err().
type interruptingStore struct {
	*sqlite.Store
	cancel context.CancelFunc
	writes *atomic.Int32
}

func (s interruptingStore) Begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	if s.writes.Add(1) == 6 {
		s.cancel()
		return nil, errors.New("interrupted (9)")
	}
	return s.Store.Begin(ctx, doc)
}

// TestIngestCancelledStoreError: a file cut off by the cancel is reported
// as interrupted, not failed, whatever error the store gave for it.
func TestIngestCancelledStoreError(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	writeFiles(t, src, 40, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := interruptingStore{Store: openStore(t, filepath.Join(tmp, "coll")), cancel: cancel, writes: new(atomic.Int32)}
	in := ingest.Ingester{Store: st, Splits: splits}
	rep, err := in.Ingest(ctx, []string{src}, ingest.Options{Workers: 3})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f := rep.Failures(); len(f) > 0 {
		t.Errorf("files cut off by the cancel reported as failed: %v", f)
	}
	if rep.Count(ingest.Interrupted) == 0 {
		t.Errorf("no file reported interrupted: %+v", rep.Files)
	}
}

func TestIngestCancelled(t *testing.T) {
	tmp := t.TempDir()
	st := openStore(t, filepath.Join(tmp, "coll"))
	src := filepath.Join(tmp, "src")
	writeFiles(t, src, 40, 1)
	testsupport.PDF(t, src, "a.pdf", "A PDF", "First page of the PDF.", "Second page.")
	ctx, cancel := context.WithCancel(context.Background())
	in := ingest.Ingester{Store: st, Splits: splits}
	n := 0
	_, err := in.Ingest(ctx, []string{src}, ingest.Options{Workers: 3, Progress: func(p ingest.Progress) {
		if n++; n == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	docs, err := st.Documents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 || len(docs) >= 41 {
		t.Errorf("%d documents after cancelling at the fifth file", len(docs))
	}
	for _, d := range docs {
		if d.Pages == 0 || d.Chunks == 0 {
			t.Errorf("%s stored without pages or chunks", d.Source)
		}
	}
	mustCheck(t, st)
	// Finishing the run stores the rest.
	rep, err := in.Ingest(context.Background(), []string{src}, ingest.Options{})
	if err != nil || rep.Count(ingest.Failed) > 0 {
		t.Fatalf("%v %v", err, rep.Failures())
	}
	if docs, _ := st.Documents(context.Background()); len(docs) != 41 {
		t.Errorf("%d documents, want 41", len(docs))
	}
	mustCheck(t, st)
}
