package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// distill runs the built binary and returns stdout, stderr and exit code.
type runner struct {
	t   *testing.T
	bin string
	env []string
}

func newRunner(t *testing.T) *runner {
	bin := testsupport.Binary(t)
	home := t.TempDir()
	return &runner{t: t, bin: bin, env: append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_DATA_HOME="+filepath.Join(home, ".local"),
		"DISTILL_CONFIG=", "DISTILL_DB=", "DISTILL_LLM=", "DISTILL_EMBED=", "DISTILL_RERANK=",
		"DISTILL_CACHE_DIR="+wasmCache(t),
	)}
}

var sharedCache string

// wasmCache shares PDFium's compilation cache between the test's runs.
func wasmCache(t *testing.T) string {
	if sharedCache == "" {
		dir, err := os.MkdirTemp("", "distill-test-cache-")
		if err != nil {
			t.Fatal(err)
		}
		sharedCache = dir
	}
	return sharedCache
}

func (r *runner) run(args ...string) (stdout, stderr string, code int) {
	r.t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = r.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func (r *runner) ok(args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run(args...)
	if code != 0 {
		r.t.Fatalf("distill %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

type askJSON struct {
	Question  string `json:"question"`
	Technique string `json:"technique"`
	Mode      string `json:"mode"`
	Answer    string `json:"answer"`
	Contexts  []struct {
		Rank    int     `json:"rank"`
		Text    string  `json:"text"`
		Source  string  `json:"source"`
		Page    int     `json:"page"`
		Score   float64 `json:"score"`
		DocID   string  `json:"doc_id"`
		ChunkID string  `json:"chunk_id"`
		Start   int     `json:"start"`
		End     int     `json:"end"`
	} `json:"contexts"`
	Stats map[string]any `json:"stats"`
}

type lsJSON struct {
	Documents []struct {
		DocID  string `json:"doc_id"`
		Source string `json:"source"`
		Pages  int    `json:"pages"`
		Chunks int    `json:"chunks"`
	} `json:"documents"`
}

// letters writes the test letters as PDFs, with bad files beside them.
func letters(t *testing.T) string {
	dir := t.TempDir()
	for name, pages := range testsupport.Letters {
		testsupport.PDF(t, dir, name, strings.TrimSuffix(name, ".pdf"), pages...)
	}
	testsupport.Write(t, dir, "bad/encrypted.pdf", testsupport.EncryptedPDF())
	testsupport.Write(t, dir, "bad/truncated.pdf", testsupport.CorruptPDF(t))
	testsupport.Write(t, dir, "bad/binary.txt", []byte("\x7fELF\x02\x01\x01\x00\x00\x00 not text"))
	testsupport.Write(t, dir, "notes.docx", []byte("PK\x03\x04 not supported"))
	return dir
}

func TestIngestAskCompareRemove(t *testing.T) {
	r := newRunner(t)
	db := filepath.Join(t.TempDir(), "coll")
	dir := letters(t)

	// Bad files fail with their names; the good ones are stored.
	out, errOut, code := r.run("--db", db, "ingest", dir)
	if code != 1 {
		t.Fatalf("ingest with bad files: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"encrypted.pdf", "truncated.pdf", "binary.txt"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("ingest errors do not name %s:\n%s", name, errOut)
		}
	}
	if !strings.Contains(errOut, "password") && !strings.Contains(errOut, "encrypt") {
		t.Errorf("encrypted PDF error does not say why:\n%s", errOut)
	}
	if !strings.Contains(out, "2 added") {
		t.Errorf("ingest summary = %q, want 2 added", out)
	}

	var ls lsJSON
	if err := json.Unmarshal([]byte(r.ok("--db", db, "ls", "--json")), &ls); err != nil {
		t.Fatal(err)
	}
	pages := map[string]int{}
	for _, d := range ls.Documents {
		pages[filepath.Base(d.Source)] = d.Pages
		if d.DocID == "" || d.Chunks == 0 {
			t.Errorf("ls document %+v lacks id or chunks", d)
		}
	}
	if len(ls.Documents) != 2 || pages["alpha-2021.pdf"] != 2 || pages["alpha-2022.pdf"] != 3 {
		t.Fatalf("ls = %+v, want the two letters with 2 and 3 pages", ls.Documents)
	}

	// ask --json keeps the contract and cites the right page.
	var ask askJSON
	if err := json.Unmarshal([]byte(r.ok("--db", db, "ask", "--json", "-t", "regular", "How much did Alpha pay for Borealis Optics?")), &ask); err != nil {
		t.Fatal(err)
	}
	if ask.Mode != "extractive" || ask.Technique != "regular" || !strings.Contains(ask.Answer, "€12 million") {
		t.Errorf("ask = %+v, want an extractive answer with €12 million", ask)
	}
	if len(ask.Contexts) == 0 || filepath.Base(ask.Contexts[0].Source) != "alpha-2022.pdf" || ask.Contexts[0].Page != 1 || ask.Contexts[0].Rank != 1 {
		t.Fatalf("first context = %+v, want alpha-2022.pdf page 1", ask.Contexts)
	}
	c := ask.Contexts[0]
	if page := testsupport.Letters["alpha-2022.pdf"][0]; !strings.Contains(strings.Join(strings.Fields(page), " "), strings.Join(strings.Fields(c.Text), " ")) {
		t.Errorf("context text %q is not from its page", c.Text)
	}
	if c.DocID == "" || c.ChunkID == "" || c.Score <= 0 || c.End <= c.Start {
		t.Errorf("context lacks id, score or offsets: %+v", c)
	}
	for _, field := range []string{"retrieved", "context_chars", "llm_calls", "prompt_tokens", "completion_tokens", "latency_ms"} {
		if _, ok := ask.Stats[field]; !ok {
			t.Errorf("stats lacks %q: %v", field, ask.Stats)
		}
	}

	// Unicode survives PDF generation, extraction and search.
	out = r.ok("--db", db, "ask", "Which cities does the fast delivery cover?")
	if !strings.Contains(out, "Zürich") || !strings.Contains(out, "Malmö") {
		t.Errorf("answer lost Unicode text:\n%s", out)
	}

	// compare --json: one line per question, every technique in each.
	out = r.ok("--db", db, "compare", "--json", "What happened to the Zephyr line?", "Where did the warehouse open?")
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var cmp struct {
			Question string    `json:"question"`
			Results  []askJSON `json:"results"`
		}
		if err := json.Unmarshal(sc.Bytes(), &cmp); err != nil {
			t.Fatalf("compare line %d: %v", lines, err)
		}
		got := map[string]bool{}
		for _, res := range cmp.Results {
			got[res.Technique] = res.Question == cmp.Question && res.Answer != ""
		}
		for _, tech := range []string{"regular", "parent", "extract", "filter"} {
			if !got[tech] {
				t.Errorf("compare %q lacks an answer from %s", cmp.Question, tech)
			}
		}
		lines++
	}
	if lines != 2 {
		t.Fatalf("compare printed %d lines, want 2", lines)
	}

	// Human compare output fits 80 columns.
	for _, line := range strings.Split(r.ok("--db", db, "compare", "What happened to the Zephyr line?"), "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("compare line of %d columns: %q", n, line)
		}
	}

	// rm by source path.
	r.ok("--db", db, "rm", filepath.Join(dir, "alpha-2021.pdf"))
	ls = lsJSON{}
	json.Unmarshal([]byte(r.ok("--db", db, "ls", "--json")), &ls)
	if len(ls.Documents) != 1 || filepath.Base(ls.Documents[0].Source) != "alpha-2022.pdf" {
		t.Fatalf("after rm, ls = %+v", ls.Documents)
	}
	if _, errOut, code := r.run("--db", db, "rm", "no-such-doc"); code != 1 || !strings.Contains(errOut, "no-such-doc") {
		t.Errorf("rm of an unknown document: exit %d, %q", code, errOut)
	}
}

func TestReingestIsNoOpAndChangesReplace(t *testing.T) {
	r := newRunner(t)
	db := filepath.Join(t.TempDir(), "coll")
	dir := t.TempDir()
	path := testsupport.PDF(t, dir, "report.pdf", "Report", "The budget for 2024 was 7 million crowns.", "Second page about kayaks.")
	r.ok("--db", db, "ingest", path)

	var rep struct {
		Files []struct {
			Status string `json:"status"`
			Pages  int    `json:"pages"`
		} `json:"files"`
	}
	json.Unmarshal([]byte(r.ok("--db", db, "ingest", "--json", path)), &rep)
	if len(rep.Files) != 1 || rep.Files[0].Status != "unchanged" {
		t.Fatalf("re-ingest report = %+v, want unchanged", rep)
	}

	testsupport.PDF(t, dir, "report.pdf", "Report", "The budget for 2025 was 9 million crowns.")
	rep.Files = nil
	json.Unmarshal([]byte(r.ok("--db", db, "ingest", "--json", path)), &rep)
	if len(rep.Files) != 1 || rep.Files[0].Status != "updated" || rep.Files[0].Pages != 1 {
		t.Fatalf("changed file report = %+v, want updated with 1 page", rep)
	}
	var ask askJSON
	json.Unmarshal([]byte(r.ok("--db", db, "ask", "--json", "-t", "regular", "What was the budget?")), &ask)
	all := ""
	for _, c := range ask.Contexts {
		all += c.Text
	}
	if !strings.Contains(all, "9 million") || strings.Contains(all, "7 million") || strings.Contains(all, "kayaks") {
		t.Fatalf("contexts after replace = %q; want only the new text", all)
	}
	var ls lsJSON
	json.Unmarshal([]byte(r.ok("--db", db, "ls", "--json")), &ls)
	if len(ls.Documents) != 1 || ls.Documents[0].Pages != 1 {
		t.Fatalf("ls after replace = %+v, want one document of one page", ls.Documents)
	}

	// --pages keeps only the pages asked for, and changing it re-ingests.
	three := testsupport.PDF(t, dir, "three.pdf", "", "Page one about otters.", "Page two about beavers.", "Page three reprints an old letter.")
	json.Unmarshal([]byte(r.ok("--db", db, "ingest", "--json", "--pages", "1-2", three)), &rep)
	if rep.Files[0].Pages != 2 {
		t.Fatalf("--pages 1-2 stored %d pages", rep.Files[0].Pages)
	}
	if out := r.ok("--db", db, "ask", "Which letter is reprinted?"); strings.Contains(out, "reprints") {
		t.Errorf("a trimmed page is searchable:\n%s", out)
	}
}

func TestUserMistakesAreClearErrors(t *testing.T) {
	r := newRunner(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "coll")
	r.ok("--db", db, "ingest", testsupport.PDF(t, tmp, "a.pdf", "", "Some text about herons."))
	badConfig := testsupport.Write(t, tmp, "bad.yaml", []byte("techniques:\n  mine:\n    retriever: {type: bm25, split: chunks, kk: 3}\n"))
	foreign := testsupport.Write(t, tmp, "foreign/notes.txt", []byte("not a collection"))

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing db", []string{"--db", filepath.Join(tmp, "nope"), "ask", "herons?"}, []string{filepath.Join(tmp, "nope"), "does not exist"}},
		{"foreign db", []string{"--db", filepath.Dir(foreign), "ls"}, []string{filepath.Dir(foreign), "not a distill collection"}},
		{"unknown technique", []string{"--db", db, "ask", "-t", "magic", "herons?"}, []string{`"magic"`, "regular", "parent"}},
		{"malformed config", []string{"--db", db, "--config", badConfig, "ask", "herons?"}, []string{"bad.yaml:3", "kk", "unknown key"}},
		{"bad page range", []string{"--db", db, "ingest", "--pages", "3-1", tmp}, []string{"--pages"}},
		{"unsupported file", []string{"--db", db, "ingest", testsupport.Write(t, tmp, "x.key", []byte("PK"))}, []string{"x.key", "unsupported"}},
		{"empty question", []string{"--db", db, "ask", "  "}, []string{"empty"}},
		{"unknown model scheme", []string{"--db", db, "--llm", "nosuch:m", "ask", "herons?"}, []string{"nosuch"}},
		{"unknown flag", []string{"--db", db, "ask", "--bogus", "herons?"}, []string{"ask: unknown flag: --bogus", "distill ask --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := r.run(tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
			if strings.Count(errOut, "distill:") > 1 && tt.name != "unsupported file" {
				t.Errorf("error printed with a stack of prefixes: %q", errOut)
			}
		})
	}
	// Nothing stored was lost on the way.
	if out := r.ok("--db", db, "ask", "What is the text about?"); !strings.Contains(out, "herons") {
		t.Errorf("collection lost its document:\n%s", out)
	}
}
