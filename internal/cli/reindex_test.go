package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

func run(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testsupport.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestReindexCommand(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	testsupport.Write(t, docs, "a.txt", []byte("The Zephyr lanterns were recalled over faulty batteries."))
	testsupport.Write(t, docs, "b.txt", []byte("A warehouse opened in Krakow in June."))
	env := []string{"DISTILL_DB=" + filepath.Join(dir, "db"), "DISTILL_CONFIG=" + filepath.Join(dir, "none.yaml"), "DISTILL_EMBED=", "XDG_CONFIG_HOME=" + dir}
	testsupport.Write(t, dir, "none.yaml", []byte("{}\n"))
	if _, stderr, code := run(t, env, "ingest", docs); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"reindex"}, 0, "nothing to do: the collection's splits match the configuration, and no embedding model was given", ""},
		{[]string{"reindex", "--embed", "hash:x"}, 1, "", `model "hash:x": want hash:DIM`},
		{[]string{"ask", "-t", "hybrid", "lanterns"}, 1, "", "--embed"},
		{[]string{"reindex", "--embed", "hash:64"}, 0, "embedded 4 chunks with hash:64; the collection now searches 4 chunks of 64 dimensions", ""},
		// Without --embed the collection's recorded model is used, for asking and for ingesting.
		{[]string{"ask", "-t", "regular", "lanterns"}, 0, "faulty batteries", ""},
		{[]string{"ingest", docs}, 0, "2 unchanged", ""},
		{[]string{"ingest", "--embed", "hash:64", docs}, 0, "2 unchanged", ""},
		{[]string{"ask", "--embed", "hash:32", "-t", "regular", "lanterns"}, 1, "", "not hash:32"},
	} {
		stdout, stderr, code := run(t, env, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Fatalf("distill %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, stdout, stderr)
		}
	}
	stdout, stderr, code := run(t, env, "ask", "--embed", "hash:64", "-t", "hybrid", "--json", "Why were the lanterns recalled?")
	if code != 0 {
		t.Fatalf("ask hybrid: %s", stderr)
	}
	var res struct {
		Contexts []struct{ Text string } `json:"contexts"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Contexts) == 0 || !strings.Contains(res.Contexts[0].Text, "faulty batteries") {
		t.Fatalf("ask hybrid: %v %s", err, stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "db", "index", "*.hnsw")); len(files) != 2 { // chunks and children
		t.Fatalf("index files: %v", files)
	}
}

// TestReindexRebuildsChangedSplits: a split added to the config and a
// changed chunk size were a dead end (ingest said "unchanged"); reindex
// builds them without a model.
func TestReindexRebuildsChangedSplits(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	testsupport.Write(t, docs, "a.txt", []byte("The Zephyr lanterns were recalled over faulty batteries. The recall covered 3,000 lanterns in all."))
	testsupport.Write(t, docs, "b.txt", []byte("A warehouse opened in Krakow in June."))
	env := []string{"DISTILL_DB=" + filepath.Join(dir, "db"), "DISTILL_CONFIG=" + filepath.Join(dir, "c.yaml"), "DISTILL_EMBED=", "XDG_CONFIG_HOME=" + dir}
	testsupport.Write(t, dir, "c.yaml", []byte("{}\n"))
	if _, stderr, code := run(t, env, "ingest", docs); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	testsupport.Write(t, dir, "c.yaml", []byte(`splits:
  chunks: {size: 40, overlap: 0}
  small:  {size: 20, overlap: 0}
techniques:
  small:
    retriever: {type: bm25, split: small, k: 2}
`))
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"ingest", docs}, 0, "2 unchanged", `split "small" is configured but the collection was built without it; run distill reindex to build it`},
		{[]string{"ask", "-t", "small", "lanterns"}, 1, "", `the collection has no split "small"`},
		{[]string{"reindex"}, 0, "splits: built small; rebuilt chunks; rewrote 2 documents", ""},
		{[]string{"ask", "-t", "small", "--json", "lanterns"}, 0, "lanterns", ""},
		{[]string{"reindex"}, 0, "nothing to do", ""},
		{[]string{"check"}, 0, "", ""},
	} {
		stdout, stderr, code := run(t, env, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Fatalf("distill %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, stdout, stderr)
		}
		if tc.args[0] == "reindex" && strings.Contains(stderr, "warning") {
			t.Errorf("reindex warned: %s", stderr)
		}
	}
}
