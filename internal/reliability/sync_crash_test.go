//go:build unix

package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/crash"
	"github.com/distill-rag/distill/store/sqlite"
)

// TestSyncSurvivesKills kills `distill sync` while it adds, replaces and
// removes documents. After every kill `distill check` must pass and every
// visible document must be a complete version from before or after the
// sync; a sync run to the end afterwards must leave exactly the collection
// a clean ingest of the folder makes. A few kills by default;
// DISTILL_CRASH_KILLS=N runs more.
func TestSyncSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process several times")
	}
	kills := 4
	if n, err := strconv.Atoi(os.Getenv("DISTILL_CRASH_KILLS")); err == nil && n > 0 {
		kills = n
	}
	const docs, added = 90, 30
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	bin := testsupport.Binary(t)
	src := filepath.Join(tmp, "src")

	// Before: version 1 of docs files, synced.
	writeCorpus(t, src, docs, 1)
	before := filepath.Join(tmp, "before")
	must(t, env, "--db", before, "sync", src)
	want := map[version]docInfo{}
	expect(want, list(t, env, before))

	// After: every third file changed, more files, every seventh gone.
	writeCorpus(t, src, docs+added, 2)
	files := corpusFiles(t, src)
	removed := 0
	for i, f := range files {
		if i%7 == 0 && !strings.HasSuffix(f, ".pdf") {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	ref := filepath.Join(tmp, "ref")
	must(t, env, "--db", ref, "ingest", src)
	final := list(t, env, ref)
	expect(want, final)

	db := filepath.Join(tmp, "coll")
	reset := func() {
		os.RemoveAll(db)
		copyDir(t, before, db)
	}
	reset()
	window := crash.Time(t, env, bin, "--db", db, "sync", src)
	stats := crash.Run(t, crash.Options{
		Command: []string{bin, "--db", db, "sync", src},
		Env:     env,
		Kills:   kills,
		Window:  window,
		Before: func(t testing.TB, attempt int) {
			// Even runs start from the synced "before" state; odd runs
			// resume what the last kill left.
			if attempt%2 == 0 {
				reset()
			}
		},
		After: func(t testing.TB, attempt int, killed bool) {
			if _, err := os.Stat(filepath.Join(db, sqlite.DatabaseFile)); err != nil {
				t.Fatal("the collection is gone")
			}
			if r := run(t, env, "--db", db, "check"); r.code != 0 {
				t.Fatalf("after kill %d, distill check fails:\n%s%s", attempt, r.stdout, r.stderr)
			}
			for _, d := range list(t, env, db) {
				if w, ok := want[version{d.Source, d.Hash}]; !ok || d != w {
					t.Fatalf("after kill %d: %s is partial or unknown: %+v, a complete version is %+v", attempt, d.Source, d, w)
				}
			}
		},
	})
	t.Logf("%d runs: %d killed (at %v .. %v of a %v sync), %d finished; %d files removed, %d added",
		stats.Attempts, stats.Kills, minDur(stats.Delays), maxDur(stats.Delays), window, stats.Finished, removed, added)

	must(t, env, "--db", db, "sync", src)
	if diffs := sameDocuments(list(t, env, db), final); len(diffs) > 0 {
		t.Fatalf("after the final sync the collection differs from a clean ingest:\n%s", strings.Join(diffs, "\n"))
	}
	if r := must(t, env, "--db", db, "sync", src); !strings.Contains(r.stdout, "0 added, 0 replaced, 0 removed") {
		t.Errorf("syncing again did work:\n%s", r.stdout)
	}
	must(t, env, "--db", db, "check")
}
