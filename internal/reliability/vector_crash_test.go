//go:build unix

package reliability

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/crash"
	"github.com/distill-rag/distill/store/sqlite"
)

// vectorState is what the collection's tables say about its vectors.
type vectorState struct {
	active   string         // the model searched with; "" for BM25 only
	byModel  map[string]int // stored vectors per model
	searched int            // chunks of searched splits
	files    int            // index files
	temps    int            // temporary files of saves that were killed
}

func readVectorState(t testing.TB, db string) vectorState {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(db, sqlite.DatabaseFile)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st := vectorState{byModel: map[string]int{}}
	if err := conn.QueryRow(`SELECT coalesce((SELECT model FROM embeddings WHERE active = 1), '')`).Scan(&st.active); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(`SELECT e.model, count(v.chunk) FROM embeddings e LEFT JOIN vectors v ON v.embedding = e.id GROUP BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			t.Fatal(err)
		}
		st.byModel[m] = n
	}
	rows.Close()
	// The default configuration searches chunks and children; parents
	// are only read.
	if err := conn.QueryRow(`SELECT count(*) FROM chunks WHERE split != 'parents'`).Scan(&st.searched); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(db, "index", "*.hnsw"))
	temps, _ := filepath.Glob(filepath.Join(db, "index", ".tmp-*"))
	st.files, st.temps = len(files), len(temps)
	return st
}

// askWorks asks a question the way a user would and fails unless it
// returns contexts, densely when the collection is embedded.
func askWorks(t testing.TB, env []string, db, embed string) {
	t.Helper()
	args := []string{"--db", db, "ask", "which lanterns were recalled", "-t", "regular", "--json"}
	if embed != "" {
		args = append(args, "--embed", embed)
	}
	r := must(t, env, args...)
	var res struct {
		Contexts []struct {
			Text string `json:"text"`
		} `json:"contexts"`
		Stats struct {
			Stages []struct {
				Name string `json:"name"`
			} `json:"stages"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("ask --json: %v\n%s", err, r.stdout)
	}
	if len(res.Contexts) == 0 {
		t.Fatalf("ask (embed %q) found nothing:\n%s", embed, r.stdout)
	}
}

// mustCheckOK runs distill check and fails with its output unless it passes.
func mustCheckOK(t testing.TB, env []string, db, when string) {
	t.Helper()
	if r := run(t, env, "--db", db, "check"); r.code != 0 {
		t.Fatalf("%s, distill check fails:\n%s%s", when, r.stdout, r.stderr)
	}
}

// TestReindexSurvivesKills kills `distill reindex --embed hash:64` at
// random moments: while it embeds and stores batches, while it switches
// the collection's model, and while it builds and saves the new index at
// close. Runs start from a collection ingested offline, from one embedded
// with another model (hash:32), or resume what the last kill left. After
// every kill `distill check` passes, the collection searches with one
// model whose vectors cover every chunk (the old one, until the switch),
// and ask works; at the end a last reindex finishes with every chunk
// embedded exactly once, and another one embeds nothing.
func TestReindexSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	bin := testsupport.Binary(t)
	src := filepath.Join(tmp, "src")
	writeCorpus(t, src, 160, 1)
	offline, other := filepath.Join(tmp, "offline"), filepath.Join(tmp, "hash32")
	must(t, env, "--db", offline, "ingest", src)
	copyDir(t, offline, other)
	must(t, env, "--db", other, "reindex", "--embed", "hash:32")
	copyDir(t, offline, offline+"-timing")
	window := crash.Time(t, env, bin, "--db", offline+"-timing", "reindex", "--embed", "hash:64", "--batch", "64")

	db := filepath.Join(tmp, "coll")
	reset := func(from string) {
		os.RemoveAll(db)
		copyDir(t, from, db)
	}
	phases := map[string]int{}
	stats := crash.Run(t, crash.Options{
		Command: []string{bin, "--db", db, "reindex", "--embed", "hash:64", "--batch", "64"},
		Env:     env,
		Kills:   24,
		Window:  window,
		Before: func(t testing.TB, attempt int) {
			switch attempt % 3 {
			case 0:
				reset(offline)
			case 2:
				reset(other)
			}
			// case 1 resumes what the last run left
		},
		After: func(t testing.TB, attempt int, killed bool) {
			when := fmt.Sprintf("after run %d (killed %v)", attempt, killed)
			mustCheckOK(t, env, db, when)
			st := readVectorState(t, db)
			switch {
			case st.active == "":
				phases["embedding, offline"]++
			case st.active == "hash:32":
				phases["embedding, hash:32 searched"]++
			case st.active == "hash:64" && st.files < 2:
				phases["switched, index not saved"]++
			default:
				phases["switched and saved"]++
			}
			if st.active != "" && st.byModel[st.active] != st.searched {
				t.Fatalf("%s: %s is searched with %d vectors for %d chunks", when, st.active, st.byModel[st.active], st.searched)
			}
			if st.active == "hash:64" && len(st.byModel) != 1 {
				t.Fatalf("%s: the switch left other models' vectors: %v", when, st.byModel)
			}
			if st.byModel["hash:64"] > st.searched {
				t.Fatalf("%s: %d vectors of hash:64 for %d chunks", when, st.byModel["hash:64"], st.searched)
			}
			embed := ""
			if st.active != "" {
				embed = st.active
			}
			askWorks(t, env, db, embed)
		},
	})
	t.Logf("%d runs of reindex: %d killed (at %v .. %v of a %v run), %d finished; states after the runs: %v",
		stats.Attempts, stats.Kills, minDur(stats.Delays), maxDur(stats.Delays), window.Round(time.Millisecond), stats.Finished, phases)

	// Finish the work: every chunk embedded once, with hash:64 only.
	must(t, env, "--db", db, "reindex", "--embed", "hash:64")
	st := readVectorState(t, db)
	if st.active != "hash:64" || len(st.byModel) != 1 || st.byModel["hash:64"] != st.searched {
		t.Fatalf("after the last reindex: %+v", st)
	}
	if r := must(t, env, "--db", db, "reindex", "--embed", "hash:64"); !strings.Contains(r.stdout, "embedded 0 chunks") {
		t.Errorf("reindexing again did work:\n%s", r.stdout)
	}
	mustCheckOK(t, env, db, "at the end")
	askWorks(t, env, db, "hash:64")
}

// TestIndexSavesSurviveKills kills `distill ingest --embed hash:64` near
// the end of its runs, where it closes the collection: it loads each
// split's index file (several megabytes), replays the log, and saves the
// file again (a temporary file, synced, renamed). Every run adds two
// documents to an embedded collection of some 20,000 vectors; every fifth
// first deletes the index files, so that closing rebuilds them. After
// every kill `distill check` passes (a file is the old one or the new one,
// never torn) and dense search works; at the end one more ingest leaves
// each document and each vector exactly once.
func TestIndexSavesSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	tmp := t.TempDir()
	env := env(t, filepath.Join(tmp, "cache"))
	bin := testsupport.Binary(t)
	src, db := filepath.Join(tmp, "src"), filepath.Join(tmp, "coll")
	writeCorpus(t, src, 60, 1)
	const bulk = 24
	for i := 0; i < bulk; i++ {
		testsupport.Write(t, src, fmt.Sprintf("bulk/long-%02d.txt", i), []byte(prose(500+i, 1, 1, 9000)))
	}
	must(t, env, "--db", db, "ingest", "--embed", "hash:64", src)

	// More documents, two per run, in files the corpus does not use.
	added := 0
	addFiles := func(dir string, n int) {
		for i := 0; i < n; i++ {
			testsupport.Write(t, dir, fmt.Sprintf("more/extra-%03d.txt", added), []byte(prose(1000+added, 1, 1, 400)))
			added++
		}
	}
	// Find when a run saves its index files: run it a few times (each
	// adding two documents) while watching for the temporary file a save
	// writes, and aim the kills at those moments.
	copyDir(t, db, db+"-timing")
	var first, last time.Duration
	for i := 0; i < 3; i++ {
		addFiles(src, 2) // the first run below adds these too
		a, b := saveMoments(t, env, filepath.Join(db+"-timing", "index"), bin, "--db", db+"-timing", "ingest", "--embed", "hash:64", src)
		if a == 0 {
			continue
		}
		if first == 0 || a < first {
			first = a
		}
		last = max(last, b)
	}
	if first == 0 {
		t.Fatal("no timing run was seen saving an index file")
	}
	from := max(first-20*time.Millisecond, 0)
	window := last - from + 20*time.Millisecond

	midSave := 0
	stats := crash.Run(t, crash.Options{
		Command: []string{bin, "--db", db, "ingest", "--embed", "hash:64", src},
		Env:     env,
		Kills:   20,
		From:    from,
		Window:  window,
		Before: func(t testing.TB, attempt int) {
			addFiles(src, 2)
			if attempt%5 == 4 {
				files, _ := filepath.Glob(filepath.Join(db, "index", "*.hnsw"))
				for _, f := range files {
					os.Remove(f)
				}
			}
		},
		After: func(t testing.TB, attempt int, killed bool) {
			when := fmt.Sprintf("after run %d (killed %v)", attempt, killed)
			st := readVectorState(t, db)
			if killed && st.temps > 0 {
				midSave++
				// What a killed save leaves is removed by the next save.
				temps, _ := filepath.Glob(filepath.Join(db, "index", ".tmp-*"))
				for _, f := range temps {
					old := time.Now().Add(-time.Hour)
					os.Chtimes(f, old, old)
				}
			}
			mustCheckOK(t, env, db, when)
			if st.byModel["hash:64"] != st.searched || len(st.byModel) != 1 {
				t.Fatalf("%s: %v vectors for %d chunks", when, st.byModel, st.searched)
			}
			askWorks(t, env, db, "hash:64")
		},
	})
	t.Logf("%d runs of ingest --embed: %d killed (at %v .. %v; saves seen between %v and %v), %d finished; kills during a save (a temporary index file left): %d",
		stats.Attempts, stats.Kills, minDur(stats.Delays), maxDur(stats.Delays), first.Round(time.Millisecond), last.Round(time.Millisecond), stats.Finished, midSave)

	// Finish the work; everything is there once.
	must(t, env, "--db", db, "ingest", "--embed", "hash:64", src)
	docs := list(t, env, db)
	if want := 60 + bulk + added; len(docs) != want {
		t.Fatalf("%d documents after the last ingest, want %d", len(docs), want)
	}
	st := readVectorState(t, db)
	if st.byModel["hash:64"] != st.searched || st.temps != 0 {
		t.Fatalf("after the last ingest: %+v", st)
	}
	if r := must(t, env, "--db", db, "ingest", "--embed", "hash:64", src); !strings.Contains(r.stdout, "0 added, 0 updated") {
		t.Errorf("ingesting again did work:\n%s", r.stdout)
	}
	mustCheckOK(t, env, db, "at the end")
	askWorks(t, env, db, "hash:64")
}

// saveMoments runs a command to completion while polling dir, and returns
// when a temporary index file was first and last seen (0 if never).
func saveMoments(t testing.TB, env []string, dir string, command ...string) (first, last time.Duration) {
	t.Helper()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", strings.Join(command, " "), err)
			}
			return first, last
		default:
		}
		if temps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(temps) > 0 {
			if first == 0 {
				first = time.Since(start)
			}
			last = time.Since(start)
		}
		time.Sleep(200 * time.Microsecond)
	}
}
