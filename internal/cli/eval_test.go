package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// runEval runs the command line in-process with a private environment.
func runEval(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data"),
		"XDG_CACHE_HOME": filepath.Join(home, "cache"), "DISTILL_CONFIG": "", "DISTILL_DB": "", "DISTILL_EVAL_CACHE": "",
		"DISTILL_LLM": "", "DISTILL_EMBED": "", "DISTILL_RERANK": "",
	} {
		t.Setenv(k, v)
	}
	return home
}

func TestEvalBEIRCommand(t *testing.T) {
	home := isolate(t)
	dir := testsupport.TinyBEIR(t, filepath.Join(t.TempDir(), "tiny"))
	htmlFile := filepath.Join(t.TempDir(), "r.html")
	code, out, errs := runEval(t, "eval", "--beir", dir, "--techniques", "regular,bm25-doc", "--json", "--html", htmlFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Dataset string           `json:"dataset"`
		Queries int              `json:"queries"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Dataset != "tiny" || got.Queries != 3 || len(got.Results) != 2 || got.Results[1]["technique"] != "bm25-doc" || got.Results[1]["ndcg@10"] != 1.0 {
		t.Errorf("json %s", out)
	}
	if !strings.Contains(errs, "ingested 6 documents of tiny into "+filepath.Join(home, "cache", "distill", "eval", "tiny-")) {
		t.Errorf("stderr %q", errs)
	}
	if fi, err := os.Stat(htmlFile); err != nil || fi.Size() == 0 {
		t.Errorf("html report: %v", err)
	}
	// The second run reuses the collection and prints the table.
	code, out, errs = runEval(t, "eval", "--beir", dir)
	if code != 0 || strings.Contains(errs, "ingested") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"tiny: 3 questions", "ndcg@10", "bm25-doc    1.0000", "chars/q"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestEvalBadInput(t *testing.T) {
	isolate(t)
	dir := testsupport.TinyBEIR(t, filepath.Join(t.TempDir(), "tiny"))
	f, _ := os.OpenFile(filepath.Join(dir, "qrels", "test.tsv"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("q1\tnope\t1\n")
	f.Close()
	qa := testsupport.Write(t, t.TempDir(), "qa.jsonl", []byte(`{"question": "x", "answer": "y"}`+"\n"))
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "--beir", dir, "--strict"}, 1, "distill: " + filepath.Join(dir, "qrels", "test.tsv") + `:6: document "nope" is not in corpus.jsonl` + "\n"},
		{[]string{"eval", "--beir", dir, "--json"}, 0, `distill: warning: skipped 1 bad lines`},
		{[]string{"eval"}, 1, "nothing to evaluate"},
		{[]string{"eval", "--beir", dir, "--qa", qa}, 1, "give one"},
		{[]string{"eval", "--beir", dir, "--judge", "none"}, 1, "--judge rates answers"},
		{[]string{"eval", "--beir", dir, "--techniques", "nope"}, 1, `unknown technique "nope"`},
		{[]string{"eval", "--qa", qa, "--strict"}, 1, `qa.jsonl:1: not a question object: json: unknown field "answer"`},
		{[]string{"eval", "--qa", qa, "--judge", "none"}, 1, "a judge needs a language model"},
	}
	for _, tc := range tests {
		code, _, errs := runEval(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

func TestEvalQACommand(t *testing.T) {
	isolate(t)
	db := filepath.Join(t.TempDir(), "db")
	docs := t.TempDir()
	testsupport.Write(t, docs, "rail.txt", []byte("The railway moved 512 million tons of freight in 2022.\n\nLocomotives ran on diesel."))
	testsupport.Write(t, docs, "volcano.txt", []byte("Basalt lava erupts from fissures in Iceland.\n\nThe rift widens every year."))
	if code, _, errs := runEval(t, "--db", db, "ingest", docs); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	qa := testsupport.Write(t, t.TempDir(), "qa.jsonl", []byte(
		`{"question": "How much freight did the railway move?", "answers": ["512 million tons"], "reference": "512 million tons of freight."}`+"\n"+
			`{"question": "Where does lava erupt?", "answers": ["Iceland"]}`+"\n"))
	htmlFile := filepath.Join(t.TempDir(), "qa.html")
	code, out, errs := runEval(t, "--db", db, "eval", "--qa", qa, "--techniques", "regular,parent", "--json", "--html", htmlFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Questions int `json:"questions"`
		Results   []struct {
			Technique    string   `json:"technique"`
			HitRate      *float64 `json:"hit_rate"`
			FirstHitRank *float64 `json:"first_hit_rank"`
			Containment  *float64 `json:"containment"`
			F1           *float64 `json:"f1"`
			ContextChars float64  `json:"context_chars"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Questions != 2 || len(got.Results) != 2 {
		t.Fatalf("json %s", out)
	}
	for _, r := range got.Results {
		// each answer is in its own small document, found first
		if r.HitRate == nil || *r.HitRate != 1 || *r.FirstHitRank != 1 || r.Containment == nil || *r.Containment != 1 || r.F1 == nil || *r.F1 <= 0 || r.ContextChars <= 0 {
			t.Errorf("%s: %s", r.Technique, out)
		}
	}
	html, _ := os.ReadFile(htmlFile)
	if !strings.Contains(string(html), "holds an expected answer") {
		t.Error("the HTML report does not mark the contexts that hold an answer")
	}
	// --where limits every question's retrieval: with only the railway
	// document allowed, the lava question finds nothing that answers it.
	code, out, errs = runEval(t, "--db", db, "eval", "--qa", qa, "--techniques", "regular", "--json", "--where", "source~*/rail.txt")
	if code != 0 {
		t.Fatalf("eval --where: exit %d: %s", code, errs)
	}
	got.Results = nil
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Results) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if r := got.Results[0]; r.HitRate == nil || *r.HitRate != 0.5 {
		t.Errorf("eval --where source~*/rail.txt: hit rate %v, want 0.5: %s", r.HitRate, out)
	}
	if code, _, errs := runEval(t, "--db", db, "eval", "--qa", qa, "--where", "decade=1990"); code == 0 || !strings.Contains(errs, "decade") {
		t.Errorf("eval --where with a key no document has: exit %d: %s", code, errs)
	}
}
