package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/cli"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
)

// run runs the command line in-process and returns stdout, stderr and the
// exit code.
func wvRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func wvRunJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, errs, code := wvRun(t, args...)
	if code != 0 {
		t.Fatalf("distill %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("distill %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// writeCorpus writes text documents, each about its own subject.
func writeCorpus(t *testing.T, dir string) {
	subjects := []struct{ name, words string }{
		{"airships", "zeppelin hydrogen airship gondola envelope mooring"},
		{"glaciers", "glacier moraine crevasse icefall firn meltwater"},
		{"reeds", "saxophone clarinet oboe bassoon reed embouchure"},
		{"volcanoes", "volcano magma caldera lava eruption vent"},
	}
	common := strings.Fields("the team reviewed the results of the season and wrote down what they learned about the work ahead")
	for i, s := range subjects {
		r := rand.New(rand.NewPCG(uint64(i), 3))
		words := strings.Fields(s.words)
		var b strings.Builder
		fmt.Fprintf(&b, "# Notes on %s\n\n", s.name)
		for p := 0; p < 12; p++ {
			for sent := 0; sent < 5; sent++ {
				for w := 0; w < 12; w++ {
					if w > 0 {
						b.WriteByte(' ')
					}
					if r.IntN(4) == 0 {
						b.WriteString(words[r.IntN(len(words))])
					} else {
						b.WriteString(common[r.IntN(len(common))])
					}
				}
				b.WriteString(". ")
			}
			b.WriteString("\n\n")
		}
		testsupport.Write(t, dir, s.name+".md", []byte(b.String()))
	}
}

type askResult struct {
	Answer   string `json:"answer"`
	Contexts []struct {
		ChunkID string `json:"chunk_id"`
		Source  string `json:"source"`
		Text    string `json:"text"`
	} `json:"contexts"`
}

func (r askResult) key() string {
	var b strings.Builder
	b.WriteString(r.Answer)
	for _, c := range r.Contexts {
		b.WriteString("|" + c.ChunkID + "|" + c.Text)
	}
	return b.String()
}

// TestWeaviateStore runs the command line against a real Weaviate:
// ingest, every technique, ls, rm, and migrate there and back, comparing
// with the embedded store.
func TestWeaviateStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Weaviate server")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("DISTILL_CONFIG", "")
	t.Setenv("DISTILL_STORE", "")
	for _, env := range []string{"DISTILL_LLM", "DISTILL_EMBED", "DISTILL_RERANK", "DISTILL_DB"} {
		t.Setenv(env, "")
	}
	node := weaviatetest.StartCluster(t, 1)[0]
	tmp := t.TempDir()
	corpus := filepath.Join(tmp, "corpus")
	writeCorpus(t, corpus)
	wv := node.URI("Notes")
	embedded := filepath.Join(tmp, "embedded")

	var ing struct {
		Files []struct{ Status string } `json:"files"`
	}
	wvRunJSON(t, &ing, "--store", wv, "ingest", "--json", corpus)
	if len(ing.Files) != 4 || ing.Files[0].Status != "added" {
		t.Fatalf("ingest into weaviate: %+v", ing)
	}
	wvRunJSON(t, &ing, "--db", embedded, "ingest", "--json", corpus)
	wvRunJSON(t, &ing, "--store", wv, "ingest", "--json", corpus)
	for _, f := range ing.Files {
		if f.Status != "unchanged" {
			t.Fatalf("second ingest into weaviate was not a no-op: %+v", ing)
		}
	}

	question := "What did they learn about the crevasse and the icefall?"
	asks := map[string]askResult{}
	for _, tech := range []string{"regular", "parent", "extract", "filter"} {
		var w, e askResult
		wvRunJSON(t, &w, "--store", wv, "ask", "--json", "-t", tech, question)
		wvRunJSON(t, &e, "--db", embedded, "ask", "--json", "-t", tech, question)
		if len(w.Contexts) == 0 || w.Answer == "" {
			t.Fatalf("%s on weaviate: no answer: %+v", tech, w)
		}
		if !strings.HasSuffix(w.Contexts[0].Source, "glaciers.md") || w.Contexts[0].ChunkID != e.Contexts[0].ChunkID {
			t.Errorf("%s: weaviate's first context %s (%s), embedded's %s", tech, w.Contexts[0].ChunkID, w.Contexts[0].Source, e.Contexts[0].ChunkID)
		}
		asks[tech] = w
	}

	// DISTILL_STORE names the store when no flag does.
	t.Setenv("DISTILL_STORE", wv)
	var ls struct {
		Documents []struct {
			DocID string `json:"doc_id"`
		} `json:"documents"`
	}
	wvRunJSON(t, &ls, "ls", "--json")
	if len(ls.Documents) != 4 {
		t.Fatalf("ls via DISTILL_STORE: %+v", ls)
	}
	t.Setenv("DISTILL_STORE", "")

	// Weaviate → embedded → Weaviate: every copy answers as its source did.
	copyDir := filepath.Join(tmp, "copy")
	out, errs, code := wvRun(t, "--store", wv, "migrate", "--to", copyDir)
	if code != 0 || !strings.Contains(out, "copied 4 documents") {
		t.Fatalf("migrate to embedded: %d %s %s", code, out, errs)
	}
	wv2 := node.URI("NotesBack")
	out, errs, code = wvRun(t, "--db", copyDir, "migrate", "--to", wv2)
	if code != 0 || !strings.Contains(out, "copied 4 documents") {
		t.Fatalf("migrate back to weaviate: %d %s %s", code, out, errs)
	}
	for tech, want := range asks {
		var back askResult
		wvRunJSON(t, &back, "--store", wv2, "ask", "--json", "-t", tech, question)
		if back.key() != want.key() {
			t.Errorf("%s after the round trip answers differently:\n%+v\n%+v", tech, back, want)
		}
		var e, c askResult
		wvRunJSON(t, &e, "--db", embedded, "ask", "--json", "-t", tech, question)
		wvRunJSON(t, &c, "--db", copyDir, "ask", "--json", "-t", tech, question)
		if c.Answer != e.Answer || len(c.Contexts) != len(e.Contexts) || c.Contexts[0].Text != e.Contexts[0].Text {
			t.Errorf("%s: the embedded copy of the weaviate collection answers unlike the embedded original", tech)
		}
	}

	var rm struct {
		Removed []struct{ Source string } `json:"removed"`
	}
	wvRunJSON(t, &rm, "--store", wv, "rm", "--json", filepath.Join(corpus, "reeds.md"))
	wvRunJSON(t, &ls, "--store", wv, "ls", "--json")
	if len(rm.Removed) != 1 || len(ls.Documents) != 3 {
		t.Fatalf("rm: %+v, then %d documents", rm, len(ls.Documents))
	}

	out, errs, code = wvRun(t, "--store", wv, "check")
	if code != 0 || !strings.Contains(out, "links") {
		t.Fatalf("check: exit %d: %s %s", code, out, errs)
	}

	t.Run("errors name the store", func(t *testing.T) {
		_, errs, code := wvRun(t, "--store", "weaviate:http://127.0.0.1:1?collection=Gone&retries=0", "ls")
		if code != 1 || !strings.Contains(errs, "weaviate:http://127.0.0.1:1?collection=Gone") || !strings.Contains(errs, "cannot connect") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		_, errs, code = wvRun(t, "--store", node.URI("Missing"), "ls")
		if code != 1 || !strings.Contains(errs, "does not exist") {
			t.Fatalf("missing collection: exit %d: %s", code, errs)
		}
		_, errs, code = wvRun(t, "--store", "weaviate:http://h?colection=x", "ls")
		if code != 1 || !strings.Contains(errs, `unknown option "colection"`) {
			t.Fatalf("bad URI: exit %d: %s", code, errs)
		}
		_, errs, code = wvRun(t, "migrate")
		if code != 1 || !strings.Contains(errs, "--to is required") {
			t.Fatalf("migrate without --to: exit %d: %s", code, errs)
		}
	})
}
