//go:build unix

package reliability

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/crash"
	"github.com/distill-rag/distill/store/sqlite"
)

// TestRepairSurvivesKills kills `distill check --repair` while it rebuilds
// a damaged BM25 index. A kill must leave the collection as it was (the
// rebuild is one transaction) or repaired, never worse: the stored data
// stays sound after every kill, and a last repair fixes everything. A
// command that rewrites an index (reindex, an index save) is tested the
// same way: a crash.Run with its command line and these After checks.
func TestRepairSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	src, db := filepath.Join(tmp, "src"), filepath.Join(tmp, "coll")
	writeCorpus(t, src, 160, 1)
	must(t, env, "--db", db, "ingest", src)
	damage := func() {
		conn, err := sql.Open("sqlite", "file:"+filepath.Join(db, sqlite.DatabaseFile)+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Exec(`DELETE FROM bm25_blocks WHERE last_term > 'm'`); err != nil {
			t.Fatal(err)
		}
	}
	damage()
	copyDir(t, db, db+"-timing")
	window := crash.Time(t, env, testsupport.Binary(t), "--db", db+"-timing", "check", "--repair")

	stats := crash.Run(t, crash.Options{
		Command: []string{testsupport.Binary(t), "--db", db, "check", "--repair"},
		Env:     env,
		Kills:   10,
		Window:  window,
		Before: func(t testing.TB, attempt int) {
			if attempt > 0 && checkReport(t, env, db).OK {
				damage() // repaired before its kill: damage it again
			}
		},
		After: func(t testing.TB, attempt int, killed bool) {
			rep := checkReport(t, env, db)
			for _, c := range rep.Checks {
				if c.Name != "bm25" && len(c.Problems) > 0 {
					t.Fatalf("after kill %d the %s check fails: %v", attempt, c.Name, c.Problems)
				}
			}
		},
	})
	t.Logf("%d runs of check --repair: %d killed, %d finished", stats.Attempts, stats.Kills, stats.Finished)
	must(t, env, "--db", db, "check", "--repair")
	must(t, env, "--db", db, "check")
}

type checkJSON struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name     string `json:"name"`
		Problems []struct {
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"checks"`
}

func checkReport(t testing.TB, env []string, db string) checkJSON {
	t.Helper()
	r := run(t, env, "--db", db, "check", "--json")
	var rep checkJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json (exit %d): %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if rep.OK != (r.code == 0) {
		t.Fatalf("check --json says ok=%v but exits %d", rep.OK, r.code)
	}
	return rep
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-r", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	t.Cleanup(func() { os.RemoveAll(to) })
}
