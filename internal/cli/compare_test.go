package cli

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakererank"
)

// run runs the command line in-process with a collection of the test
// letters and no model unless the arguments name one.
func run(t *testing.T, db string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	base := []string{"--db", db, "--config", testsupport.Write(t, t.TempDir(), "config.yaml", []byte("# defaults\n")), "--llm", "none", "--embed", "none"}
	code = Main(append(base, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func letters(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, pages := range testsupport.Letters {
		testsupport.Write(t, dir, "files/"+strings.TrimSuffix(name, ".pdf")+".md", []byte(strings.Join(pages, "\n\n")))
	}
	db := filepath.Join(dir, "db")
	if _, stderr, code := run(t, db, "--rerank", "none", "ingest", filepath.Join(dir, "files")); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	return db
}

func TestCompareCosts(t *testing.T) {
	db := letters(t)
	srv := fakererank.TEI(t, fakererank.Options{})
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string // in stdout, or stderr when code != 0
		wantNone []string
	}{
		{"markdown table", []string{"--rerank", "none", "compare", "--markdown", "--techniques", "regular,extract", "How much did revenue grow?", "Where is the warehouse?"},
			0, []string{"| Question | regular | extract |\n| --- | --- | --- |\n| How much did revenue grow? | ", "\n| Where is the warehouse? | ", "**Cost over 2 questions**", "| context chars answered from | "}, nil},
		{"stage table", []string{"--rerank", "tei:" + srv.URL, "compare", "How much did revenue grow in 2022?"},
			0, []string{"technique passages chars LLM calls tokens time", "rerank rerank ", "1 rerank", "rerank extract ", "── rerank "}, []string{"── local "}},
		{"offline compare leaves out what cannot run", []string{"--rerank", "none", "compare", "How much did revenue grow?"},
			0, []string{"── regular ", "── filter "}, []string{"── rerank ", "── local "}},
		{"asking an unavailable technique says what to give", []string{"--rerank", "none", "ask", "-t", "rerank", "How much did revenue grow?"},
			1, []string{`distill: technique "rerank" needs a reranker for its rerank stage: give one with --rerank URI or $DISTILL_RERANK`}, nil},
		{"json and markdown", []string{"--rerank", "none", "compare", "--json", "--markdown", "q"},
			1, []string{"--json and --markdown cannot be used together"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			got := stdout
			if code != 0 {
				got = stderr
			}
			// Column widths depend on the figures: compare with single spaces.
			squeeze := func(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ") }
			for _, w := range tt.want {
				if !strings.Contains(squeeze(got), squeeze(w)) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
		})
	}
}
