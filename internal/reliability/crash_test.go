//go:build unix

package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/crash"
	"github.com/distill-rag/distill/store/sqlite"
)

// TestIngestSurvivesKills kills `distill ingest` of a few hundred documents
// at random moments. After every kill `distill check` must pass and every
// visible document must be complete (the pages and chunks a full ingest
// stores for that version of it); at the end, ingesting again must finish
// the work with each document exactly once. Between kills the files switch
// between two versions, so kills also land while documents are replaced.
func TestIngestSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	const docs = 240
	kills := 24
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	bin := testsupport.Binary(t)

	// What complete ingests of either version store.
	want := map[version]docInfo{}
	var final map[string]docInfo
	var window = make([]float64, 0, 2)
	for v := 1; v <= 2; v++ {
		src := filepath.Join(tmp, "ref-src")
		writeCorpus(t, src, docs, v)
		ref := filepath.Join(tmp, "ref")
		if v == 1 {
			must(t, env, "--db", ref, "ingest", src) // warms the PDFium cache
			os.RemoveAll(ref)
		}
		window = append(window, crash.Time(t, env, bin, "--db", ref, "ingest", src).Seconds())
		final = list(t, env, ref)
		if len(final) != docs {
			t.Fatalf("reference ingest holds %d documents, want %d", len(final), docs)
		}
		// The sources differ between the reference and the crashed
		// collections; compare by relative path.
		final = rebase(final, src)
		expect(want, final)
		os.RemoveAll(ref)
	}

	src := filepath.Join(tmp, "src")
	db := filepath.Join(tmp, "coll")
	current := 0
	visible := map[int]int{} // documents visible after a kill, by tens
	stats := crash.Run(t, crash.Options{
		Command: []string{bin, "--db", db, "ingest", src},
		Env:     env,
		Kills:   kills,
		Window:  secs(window[0]),
		Before: func(t testing.TB, attempt int) {
			// Even runs start afresh, so their kills land anywhere in a
			// full ingest; odd runs resume what the last kill left, with
			// the other version of the files, and replace documents.
			if attempt%2 == 0 {
				os.RemoveAll(db)
			}
			if v := 1 + (attempt/2)%2; v != current {
				writeCorpus(t, src, docs, v)
				current = v
			}
		},
		After: func(t testing.TB, attempt int, killed bool) {
			if _, err := os.Stat(filepath.Join(db, sqlite.DatabaseFile)); err != nil {
				return // killed before the collection was created
			}
			if r := run(t, env, "--db", db, "check"); r.code != 0 {
				t.Fatalf("after kill %d, distill check fails:\n%s%s", attempt, r.stdout, r.stderr)
			}
			got := rebase(list(t, env, db), src)
			for _, d := range got {
				w, ok := want[version{d.Source, d.Hash}]
				if !ok {
					t.Fatalf("after kill %d: %s is stored with a hash no version has", attempt, d.Source)
				}
				if d != w {
					t.Fatalf("after kill %d: %s is partial: %+v, a complete ingest stores %+v", attempt, d.Source, d, w)
				}
			}
			if killed {
				visible[len(got)*10/docs]++
			}
		},
	})
	t.Logf("%d runs: %d killed (at %v .. %v), %d finished; documents visible at the kills, by tenths of the corpus: %v",
		stats.Attempts, stats.Kills, minDur(stats.Delays), maxDur(stats.Delays), stats.Finished, visible)

	// Finish the work: the last version, each document exactly once.
	writeCorpus(t, src, docs, 2)
	must(t, env, "--db", db, "ingest", src)
	got := rebase(list(t, env, db), src)
	if diffs := sameDocuments(got, final); len(diffs) > 0 {
		t.Fatalf("after the final ingest the collection differs from a clean one:\n%s", strings.Join(diffs, "\n"))
	}
	if r := must(t, env, "--db", db, "ingest", src); !strings.Contains(r.stdout, "0 added, 0 updated, 240 unchanged, 0 failed") {
		t.Errorf("ingesting again did work:\n%s", r.stdout)
	}
	must(t, env, "--db", db, "check")
}

// rebase makes sources relative to dir and forgets document ids, which
// derive from the absolute path.
func rebase(docs map[string]docInfo, dir string) map[string]docInfo {
	out := map[string]docInfo{}
	for _, d := range docs {
		if rel, err := filepath.Rel(dir, d.Source); err == nil {
			d.Source = rel
		}
		d.ID = ""
		out[d.Source] = d
	}
	return out
}
