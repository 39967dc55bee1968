//go:build unix

package reliability

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentProcesses runs several `distill ingest` processes over
// overlapping files at once, with `distill ask`, `ls` and `check` running
// in loops beside them, in two rounds (the second replaces a third of the
// documents). No process may fail or report a locked database, every check
// taken while writes go on must pass, and the collection must end up
// holding each document exactly once, as one clean ingest would.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs many distill processes")
	}
	const docs = 120
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	src := filepath.Join(tmp, "src")
	db := filepath.Join(tmp, "coll")
	writeCorpus(t, src, docs, 1)
	files := corpusFiles(t, src)
	// Three ingesters, each with its own quarter of the files and the
	// shared last quarter.
	var groups [4][]string
	for i, f := range files {
		groups[i%4] = append(groups[i%4], f)
	}
	// Something to ask about from the start; a PDF, so that PDFium's
	// compiled module is cached before the processes race.
	for _, f := range files {
		if strings.HasSuffix(f, ".pdf") {
			must(t, env, "--db", db, "ingest", f)
			break
		}
	}

	for round, v := range []int{1, 2} {
		writeCorpus(t, src, docs, v)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			failures []string
			runs     = map[string]int{}
			stop     = make(chan struct{})
		)
		record := func(what string, args []string, r result) {
			mu.Lock()
			defer mu.Unlock()
			runs[what]++
			out := r.stdout + r.stderr
			if r.code != 0 || strings.Contains(out, "locked") || strings.Contains(out, "busy") {
				failures = append(failures, fmt.Sprintf("distill %s: exit %d\n%s", strings.Join(args, " "), r.code, out))
			}
		}
		var writers sync.WaitGroup
		for i := 0; i < 3; i++ {
			args := append([]string{"--db", db, "ingest"}, append(append([]string(nil), groups[i]...), groups[3]...)...)
			writers.Add(1)
			go func() {
				defer writers.Done()
				record("ingest", args, run(t, env, args...))
			}()
		}
		loops := [][]string{
			{"--db", db, "ask", "--json", "How did revenue and the solar lanterns do?"},
			{"--db", db, "ask", "--technique", "regular", "Which harbour had a lighthouse?"},
			{"--db", db, "ls"},
			{"--db", db, "check"},
		}
		for _, args := range loops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						if n > 0 {
							return
						}
					default:
					}
					record(args[2], args, run(t, env, args...))
					time.Sleep(20 * time.Millisecond) // leave the writers some CPU
				}
			}()
		}
		writers.Wait()
		close(stop)
		wg.Wait()
		t.Logf("round %d: %v runs at once", round+1, runs)
		if len(failures) > 0 {
			t.Fatalf("round %d: %d runs failed:\n%s", round+1, len(failures), strings.Join(failures, "\n"))
		}
	}

	got := rebase(list(t, env, db), src)
	ref := filepath.Join(tmp, "ref")
	must(t, env, "--db", ref, "ingest", src)
	want := rebase(list(t, env, ref), src)
	if len(want) != docs {
		t.Fatalf("reference holds %d documents, want %d", len(want), docs)
	}
	if diffs := sameDocuments(got, want); len(diffs) > 0 {
		t.Fatalf("after concurrent ingests the collection differs from a clean one:\n%s", strings.Join(diffs, "\n"))
	}
	must(t, env, "--db", db, "check")
}

// corpusFiles lists the files under dir, sorted.
func corpusFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
