//go:build unix

package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport"
)

var vocabulary = strings.Fields(`revenue grew lanterns solar warehouse customer satisfaction survey buyers
acquired optics lenses recall batteries delivery repair services landfills invest products widgets kestrel
harbour ledger quarterly dividend factory shipping rainfall orchard copper tariff glacier violin meadow
turbine lantern compass saffron marble canal beacon thimble quarry lighthouse cobalt nectar`)

// prose is a deterministic paragraph stream for one file, page and version.
func prose(file, page, version, words int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "File %d page %d version %d. ", file, page, version)
	for i := 0; i < words; i++ {
		b.WriteString(vocabulary[(file*131+page*37+version*7+i*i*3+i)%len(vocabulary)])
		switch {
		case i%40 == 39:
			b.WriteString(".\n\n")
		case i%9 == 8:
			b.WriteString(". ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// writeCorpus writes n documents into dir: text files with form-feed pages,
// Markdown, HTML and a few PDFs. Version 2 changes every third file, so
// switching versions makes an ingest replace documents.
func writeCorpus(t testing.TB, dir string, n, version int) {
	t.Helper()
	for i := 0; i < n; i++ {
		v := 1
		if version == 2 && i%3 == 0 && i%50 != 7 {
			v = 2
		}
		pages := 1 + i%4
		var texts []string
		for p := 1; p <= pages; p++ {
			texts = append(texts, prose(i, p, v, 150+(i*p)%200))
		}
		switch {
		case i%50 == 7:
			// PDFs are slow to generate and never change between versions.
			name := fmt.Sprintf("pdf/doc-%03d.pdf", i)
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				testsupport.PDF(t, dir, name, fmt.Sprintf("Document %d", i), texts...)
			}
		case i%10 == 3:
			testsupport.Write(t, dir, fmt.Sprintf("md/doc-%03d.md", i), []byte("# Document "+fmt.Sprint(i)+"\n\n"+strings.Join(texts, "\n\n## Part\n\n")))
		case i%10 == 5:
			html := "<!doctype html><html><head><title>Document " + fmt.Sprint(i) + "</title></head><body><p>" + strings.Join(texts, "</p><p>") + "</p></body></html>"
			testsupport.Write(t, dir, fmt.Sprintf("html/doc-%03d.html", i), []byte(html))
		default:
			testsupport.Write(t, dir, fmt.Sprintf("txt/doc-%03d.txt", i), []byte(strings.Join(texts, "\f")))
		}
	}
}

// env isolates the distill child processes from the user's configuration
// and models; cache is shared so PDFium compiles once.
func env(t testing.TB, cache string) []string {
	home := t.TempDir()
	return []string{"DISTILL_CONFIG=", "XDG_CONFIG_HOME=" + home, "HOME=" + home, "DISTILL_CACHE_DIR=" + cache,
		"DISTILL_LLM=", "DISTILL_EMBED=", "DISTILL_RERANK=", "DISTILL_DB="}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the distill binary and returns its exit code and output.
func run(t testing.TB, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(testsupport.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else {
			t.Fatal(err)
		}
	}
	return r
}

// must runs distill and fails the test unless it succeeds.
func must(t testing.TB, env []string, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("distill %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

type docInfo struct {
	ID     string `json:"doc_id"`
	Source string `json:"source"`
	Hash   string `json:"hash"`
	Pages  int    `json:"pages"`
	Chunks int    `json:"chunks"`
}

// list returns the collection's documents by source.
func list(t testing.TB, env []string, db string) map[string]docInfo {
	t.Helper()
	r := must(t, env, "--db", db, "ls", "--json")
	var out struct {
		Documents []docInfo `json:"documents"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, r.stdout)
	}
	m := map[string]docInfo{}
	for _, d := range out.Documents {
		if _, dup := m[d.Source]; dup {
			t.Fatalf("%s is listed twice", d.Source)
		}
		m[d.Source] = d
	}
	return m
}

// version is one stored version of a document, as a complete ingest
// stores it.
type version struct{ source, hash string }

// expect records what complete ingests store for every version.
func expect(into map[version]docInfo, docs map[string]docInfo) {
	for _, d := range docs {
		into[version{d.Source, d.Hash}] = d
	}
}

// sameDocuments reports how got differs from want.
func sameDocuments(got, want map[string]docInfo) []string {
	var diffs []string
	for src, w := range want {
		g, ok := got[src]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+src)
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: %+v, want %+v", src, g, w))
		}
	}
	for src := range got {
		if _, ok := want[src]; !ok {
			diffs = append(diffs, "unexpected "+src)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func minDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Min(ds).Round(time.Millisecond)
}

func maxDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds).Round(time.Millisecond)
}
