package cli_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// smallCollection ingests n small text files under dir/docs into dir/db.
func smallCollection(t *testing.T, r *runner, dir string, n int) (db, docs string) {
	t.Helper()
	db, docs = filepath.Join(dir, "db"), filepath.Join(dir, "docs")
	for i := 0; i < n; i++ {
		testsupport.Write(t, docs, fmt.Sprintf("note-%02d.txt", i), []byte(fmt.Sprintf("Note %d: the quokka census of district %d counted %d animals.", i, i, 100+i)))
	}
	r.ok("--db", db, "ingest", docs)
	return db, docs
}

func documentCount(t *testing.T, r *runner, db string) int {
	t.Helper()
	var ls lsJSON
	if err := json.Unmarshal([]byte(r.ok("--db", db, "ls", "--json")), &ls); err != nil {
		t.Fatal(err)
	}
	return len(ls.Documents)
}

// TestRemoveSaysHowManyAndAsks: rm prints the total; on a terminal it asks
// before removing more than ten documents (no keeps them all), --yes does
// not ask, and rm without arguments says what it needs.
func TestRemoveSaysHowManyAndAsks(t *testing.T) {
	r := newRunner(t)
	db, docs := smallCollection(t, r, t.TempDir(), 12)

	out, code := r.ptyRun(80, nil, "n\n", "--db", db, "rm", docs)
	if code != 1 || !strings.Contains(out, "Remove 12 documents (36 chunks)? [y/N]") || !strings.Contains(out, "nothing removed") {
		t.Fatalf("rm of 12 on a terminal, answered no: exit %d\n%s", code, out)
	}
	if n := documentCount(t, r, db); n != 12 {
		t.Fatalf("answering no removed documents: %d left", n)
	}
	out, code = r.ptyRun(80, nil, "y\n", "--db", db, "rm", filepath.Join(docs, "note-00.txt"), filepath.Join(docs, "note-01.txt"))
	if code != 0 || strings.Contains(out, "[y/N]") || !strings.Contains(out, "2 documents removed (6 chunks)") {
		t.Fatalf("rm of 2 asked or did not count: exit %d\n%s", code, out)
	}
	out, code = r.ptyRun(80, nil, "", "--db", db, "rm", "--yes", docs)
	if code != 0 || strings.Contains(out, "[y/N]") || !strings.Contains(out, "10 documents removed") {
		t.Fatalf("rm --yes: exit %d\n%s", code, out)
	}
	if n := documentCount(t, r, db); n != 0 {
		t.Fatalf("%d documents left after rm --yes", n)
	}

	// Piped (a script): no question, the total is printed.
	db2, docs2 := smallCollection(t, r, t.TempDir(), 11)
	if out := r.ok("--db", db2, "rm", docs2); !strings.Contains(out, "11 documents removed (33 chunks)") {
		t.Fatalf("piped rm:\n%s", out)
	}

	_, stderr, code := r.run("--db", db2, "rm")
	if code == 0 || !strings.Contains(stderr, "rm needs what to remove") || strings.Contains(stderr, "arg(s)") {
		t.Fatalf("rm without arguments: exit %d\n%s", code, stderr)
	}
}

// TestIngestOfNothingFails: a directory with no supported file exits
// non-zero and says what it skipped and why.
func TestIngestOfNothingFails(t *testing.T) {
	r := newRunner(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	testsupport.Write(t, empty, "a.zip", []byte("PK"))
	testsupport.Write(t, empty, "b.zip", []byte("PK"))
	testsupport.Write(t, empty, "c.exe", []byte("MZ"))
	testsupport.Write(t, empty, ".hidden.txt", []byte("hidden"))
	out, stderr, code := r.run("--db", filepath.Join(dir, "db"), "ingest", empty)
	if code != 1 || !strings.Contains(stderr, "nothing to ingest") || !strings.Contains(stderr, "(3 files skipped)") {
		t.Fatalf("ingest of a directory without documents: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "3 files skipped: 2 unsupported type .zip, 1 unsupported type .exe") {
		t.Fatalf("skipped files not counted by reason:\n%s", out)
	}
	var rep struct {
		Files   []any `json:"files"`
		Skipped []struct {
			Source, Reason string
		} `json:"skipped"`
	}
	js, _, _ := r.run("--db", filepath.Join(dir, "db"), "ingest", "--json", empty)
	if err := json.Unmarshal([]byte(js), &rep); err != nil || rep.Files == nil || len(rep.Skipped) != 3 {
		t.Fatalf("--json report: %v\n%s", err, js)
	}
	// A directory with a document beside the skipped files succeeds.
	testsupport.Write(t, empty, "d.txt", []byte("The quokka census counted 300 animals."))
	if out := r.ok("--db", filepath.Join(dir, "db"), "ingest", empty); !strings.Contains(out, "1 added") || !strings.Contains(out, "3 files skipped") {
		t.Fatalf("ingest with a document:\n%s", out)
	}
}

// TestAskOnEmptyCollection says the collection is empty instead of "no
// answer", for ask, ask --stream and compare; a collection with documents
// that do not answer still says "no answer".
func TestAskOnEmptyCollection(t *testing.T) {
	r := newRunner(t)
	db, docs := smallCollection(t, r, t.TempDir(), 1)
	if out := r.ok("--db", db, "ask", "zebra xylophone"); !strings.Contains(out, "could not find an answer") {
		t.Fatalf("a question nothing matches:\n%s", out)
	}
	r.ok("--db", db, "rm", docs)
	for _, args := range [][]string{{"ask", "quokka census"}, {"ask", "--stream", "quokka census"}, {"compare", "quokka census"}} {
		_, stderr, code := r.run(append([]string{"--db", db}, args...)...)
		if code != 1 || !strings.Contains(stderr, "is empty: add documents with distill ingest PATH") {
			t.Errorf("%v on an empty collection: exit %d\n%s", args, code, stderr)
		}
	}
}

// TestCheckShowsProgressOnTerminal: on a terminal check names the check
// it runs; piped, it prints only the report.
func TestCheckShowsProgressOnTerminal(t *testing.T) {
	r := newRunner(t)
	db, _ := smallCollection(t, r, t.TempDir(), 3)
	out, code := r.ptyRun(80, nil, "", "--db", db, "check")
	if code != 0 || !strings.Contains(visible(out), "checking sqlite (1 of ") || !strings.Contains(out, ": ok") {
		t.Fatalf("check on a terminal: exit %d\n%q", code, out)
	}
	_, stderr, code := r.run("--db", db, "check")
	if code != 0 || strings.Contains(stderr, "checking") {
		t.Fatalf("piped check printed progress: exit %d\n%q", code, stderr)
	}
}

// TestDynamicCompletion: the shell's questions (cobra's __complete) are
// answered from the configuration and the collection.
func TestDynamicCompletion(t *testing.T) {
	r := newRunner(t)
	db, docs := smallCollection(t, r, t.TempDir(), 2)
	lines := func(args ...string) []string {
		return strings.Split(strings.TrimSpace(r.ok(append([]string{"__complete"}, args...)...)), "\n")
	}
	has := func(got []string, prefix string) bool {
		for _, l := range got {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	got := lines("--db", db, "ask", "-t", "pa")
	if !has(got, "parent\t") || has(got, "regular") {
		t.Errorf("ask -t pa<TAB>: %q", got)
	}
	if got := lines("--db", db, "ask", "-t", "parent-h"); !has(got, "parent-hybrid\t(unavailable)") {
		t.Errorf("offline, parent-hybrid is not marked unavailable: %q", got)
	}
	if got := lines("--db", db, "compare", "--techniques", "regular,ex"); !has(got, "regular,extract\t") {
		t.Errorf("compare --techniques regular,ex<TAB>: %q", got)
	}
	got = lines("--db", db, "rm", docs)
	if !has(got, filepath.Join(docs, "note-00.txt")) || !has(got, filepath.Join(docs, "note-01.txt")) || !has(got, ":4") {
		t.Errorf("rm <TAB> does not offer the stored sources: %q", got)
	}
	if got := lines("--db", ""); got[len(got)-1] != ":16" { // ShellCompDirectiveFilterDirs
		t.Errorf("--db <TAB> does not complete directories: %q", got)
	}
}

// TestEnvSaysWhereThingsComeFrom: distill env names each setting's origin
// and creates nothing.
func TestEnvSaysWhereThingsComeFrom(t *testing.T) {
	r := newRunner(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	r.env = append(r.env, "DISTILL_DB="+db, "DISTILL_RERANK=tei:http://127.0.0.1:9")
	out := r.ok("--llm", "ollama:mixtral", "env")
	for _, want := range []string{
		"collection  " + db + "  ($DISTILL_DB, does not exist yet)",
		"<built-in>  (the default)",
		"llm     ollama:mixtral  (--llm)",
		"embed   none (set --embed or $DISTILL_EMBED)",
		"rerank  tei:http://127.0.0.1:9  ($DISTILL_RERANK)",
		"llm answers",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("env lacks %q:\n%s", want, out)
		}
	}
	if documentCountOrMissing(r, db) {
		t.Fatal("env created the collection")
	}
	// The collection's recorded model is in force once it has one.
	testsupport.Write(t, filepath.Join(dir, "docs"), "a.txt", []byte("The quokka census counted 300 animals."))
	r.ok("--embed", "hash:64", "ingest", filepath.Join(dir, "docs"))
	var env struct {
		Collection struct{ Value, From string }
		Exists     bool `json:"collection_exists"`
		Embed      struct{ Value, From string }
	}
	if err := json.Unmarshal([]byte(r.ok("env", "--json")), &env); err != nil {
		t.Fatal(err)
	}
	if !env.Exists || env.Collection.From != "env" || env.Embed.From != "collection" || !strings.HasPrefix(env.Embed.Value, "hash") {
		t.Errorf("env --json after ingest with a model: %+v", env)
	}
}

func documentCountOrMissing(r *runner, db string) bool {
	_, _, code := r.run("--db", db, "ls")
	return code == 0
}

// TestInfo shows the collection's store, schema, splits and sizes.
func TestInfo(t *testing.T) {
	r := newRunner(t)
	db, _ := smallCollection(t, r, t.TempDir(), 3)
	out := r.ok("--db", db, "info")
	for _, want := range []string{"store      " + db, "schema     version ", "vectors    none", "documents  3, 3 pages, ", "splits", "  children    400      200  parents  yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	var info struct {
		Documents int
		Splits    []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(r.ok("--db", db, "info", "--json")), &info); err != nil || info.Documents != 3 || len(info.Splits) == 0 {
		t.Fatalf("info --json: %v %+v", err, info)
	}
	if _, stderr, code := r.run("--db", filepath.Join(t.TempDir(), "none"), "info"); code == 0 || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("info on a missing collection: exit %d %s", code, stderr)
	}
}

// TestCompareMarkdownListsSources: each answer's [n] are listed under it.
func TestCompareMarkdownListsSources(t *testing.T) {
	r := newRunner(t)
	db, _ := smallCollection(t, r, t.TempDir(), 3)
	out := r.ok("--db", db, "compare", "--markdown", "--techniques", "regular", "How many animals did the quokka census of district 2 count?")
	if !strings.Contains(out, "<sub>[1] note-") || !strings.Contains(out, ".txt p. 1") {
		t.Fatalf("markdown lists no sources:\n%s", out)
	}
}

// TestFirstPDFSaysItPrepares: with a cold PDFium cache the first PDF
// ingest says why it is slow; once compiled, it says nothing.
func TestFirstPDFSaysItPrepares(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles PDFium into a fresh cache (seconds)")
	}
	r := newRunner(t)
	dir := t.TempDir()
	r.env = append(r.env, "DISTILL_CACHE_DIR="+filepath.Join(dir, "cache")) // the last value wins
	db := filepath.Join(dir, "db")
	first := testsupport.PDF(t, dir, "first.pdf", "First", "The quokka census counted 300 animals.")
	_, stderr, code := r.run("--db", db, "ingest", first)
	if code != 0 || !strings.Contains(stderr, "preparing the PDF reader (first run only") {
		t.Fatalf("first PDF with a cold cache: exit %d\n%s", code, stderr)
	}
	second := testsupport.PDF(t, dir, "second.pdf", "Second", "The wombat census counted 40 animals.")
	if _, stderr, code := r.run("--db", db, "ingest", second); code != 0 || strings.Contains(stderr, "preparing") {
		t.Fatalf("second PDF with a warm cache: exit %d\n%s", code, stderr)
	}
}

// TestCacheLsAndClear: cache ls counts what ingest cached, cache clear
// empties the named cache only, and a bad DISTILL_CACHE_MAX names itself.
func TestCacheLsAndClear(t *testing.T) {
	r := newRunner(t)
	dir := t.TempDir()
	llmDir := filepath.Join(dir, "llm")
	r.env = append(r.env, "DISTILL_EMBED_CACHE="+filepath.Join(dir, "e.db"), "DISTILL_CACHE="+llmDir, "DISTILL_CACHE_MAX=5MB")
	testsupport.Write(t, filepath.Join(dir, "docs"), "a.txt", []byte("The quokka census counted 300 animals. The wombat census counted 40."))
	r.ok("--db", filepath.Join(dir, "db"), "--embed", "hash:64", "ingest", filepath.Join(dir, "docs"))
	testsupport.Write(t, filepath.Join(llmDir, "ab"), "ab12.json", []byte(`{"text":"cached"}`))

	type usage struct {
		Name    string
		Entries int
		Bytes   int64
		Max     int64 `json:"max_bytes"`
	}
	ls := func() map[string]usage {
		var out struct{ Caches []usage }
		if err := json.Unmarshal([]byte(r.ok("cache", "ls", "--json")), &out); err != nil {
			t.Fatal(err)
		}
		m := map[string]usage{}
		for _, u := range out.Caches {
			m[u.Name] = u
		}
		return m
	}
	got := ls()
	if got["embeddings"].Entries == 0 || got["llm"].Entries != 1 || got["llm"].Max != 5_000_000 {
		t.Fatalf("cache ls: %+v", got)
	}
	if out := r.ok("cache", "clear", "embeddings"); !strings.Contains(out, "cleared embeddings") {
		t.Fatalf("cache clear embeddings:\n%s", out)
	}
	got = ls()
	if got["embeddings"].Entries != 0 || got["llm"].Entries != 1 {
		t.Fatalf("clear embeddings touched the wrong caches: %+v", got)
	}
	r.ok("cache", "clear", "llm")
	if got := ls(); got["llm"].Entries != 0 {
		t.Fatalf("llm cache not cleared: %+v", got)
	}
	if _, stderr, code := r.run("cache", "clear", "everything"); code == 0 || !strings.Contains(stderr, "everything") {
		t.Fatalf("clear of an unknown cache: exit %d %s", code, stderr)
	}
	r.env = append(r.env, "DISTILL_CACHE_MAX=lots")
	if _, stderr, code := r.run("cache", "ls"); code == 0 || !strings.Contains(stderr, `$DISTILL_CACHE_MAX="lots"`) {
		t.Fatalf("bad DISTILL_CACHE_MAX: exit %d %s", code, stderr)
	}
}

// TestReadOnlyCollectionCLI: on a collection the user cannot write, the
// reading commands work and the writing ones say it is read-only.
func TestReadOnlyCollectionCLI(t *testing.T) {
	r := newRunner(t)
	dir := t.TempDir()
	db, docs := smallCollection(t, r, dir, 2)
	testsupport.ReadOnly(t, db)
	for _, args := range [][]string{
		{"ask", "quokka census of district 1"},
		{"compare", "--techniques", "regular", "quokka census"},
		{"ls"},
		{"check"},
		{"info"},
	} {
		if _, stderr, code := r.run(append([]string{"--db", db}, args...)...); code != 0 {
			t.Errorf("%v on a read-only collection: exit %d\n%s", args, code, stderr)
		}
	}
	testsupport.Write(t, docs, "new.txt", []byte("The wombat census counted 40 animals."))
	for _, args := range [][]string{{"ingest", docs}, {"rm", "--yes", docs}} {
		out, stderr, code := r.run(append([]string{"--db", db}, args...)...)
		if code == 0 || !strings.Contains(stderr, "is read-only") {
			t.Errorf("%v on a read-only collection: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	if n := documentCount(t, r, db); n != 2 {
		t.Fatalf("%d documents after refused writes, want 2", n)
	}
}
