package mcpserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport"
)

// clientRun is what mcpserver/testdata/client/client.mjs prints.
type clientRun struct {
	ConnectError *struct {
		Message string
		Code    float64
	}
	Error  string
	Server struct{ Name string }
	Tools  []struct {
		Name            string
		Description     string
		HasOutputSchema bool
		InputSchema     struct {
			Required   []string
			Properties map[string]struct{ Type, Description string }
		}
	}
	Techniques, Documents, Search, Ask, Page   toolOutcome
	UnknownTechnique, NoPage                   toolOutcome
	WriteWithoutWrites                         toolOutcome
	Ingest, SearchAdded, Remove, SearchRemoved toolOutcome
	Resource                                   []struct{ URI, MimeType, Text string }
}

type toolOutcome struct {
	IsError    bool
	Text       string
	Thrown     string
	Structured json.RawMessage
}

func (o toolOutcome) decode(t *testing.T, name string, v any) {
	t.Helper()
	if o.IsError || o.Thrown != "" {
		t.Fatalf("%s failed: %s%s", name, o.Text, o.Thrown)
	}
	if err := json.Unmarshal(o.Structured, v); err != nil {
		t.Fatalf("%s: %v: %s", name, err, o.Structured)
	}
}

// isolated is an environment for the distill binary that reads no user
// configuration or collection.
func isolated(t *testing.T) []string {
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"DISTILL_DB=", "DISTILL_CONFIG=", "DISTILL_LLM=", "DISTILL_EMBED=", "DISTILL_RERANK=", "DISTILL_STORE=")
}

// lettersCollection ingests testsupport.Letters into a new collection
// DIR/letters with the distill binary and returns DIR.
func lettersCollection(t *testing.T, bin string, env []string) string {
	t.Helper()
	data := t.TempDir()
	src := t.TempDir()
	var files []string
	for name, pages := range testsupport.Letters {
		files = append(files, testsupport.PDF(t, src, name, name, pages...))
	}
	cmd := exec.Command(bin, append([]string{"--db", filepath.Join(data, "letters"), "ingest"}, files...)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	return data
}

// runClient runs the TypeScript client with args and decodes its report.
func runClient(t *testing.T, node, script string, env []string, args ...string) clientRun {
	t.Helper()
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	var run clientRun
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("client output %q: %v\nstderr:\n%s", out, err, stderr.String())
	}
	if run.Error != "" {
		t.Fatalf("client %v: %s\nstderr:\n%s", args, run.Error, stderr.String())
	}
	return run
}

// serve starts `distill serve` and returns its address.
func serve(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--quiet", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rd := bufio.NewReader(stderr)
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("distill serve ended: %v; stderr:\n%s", err, strings.Join(lines, ""))
		}
		lines = append(lines, line)
		if m := regexp.MustCompile(`serving \S+ on http://(\S+) `).FindStringSubmatch(line); m != nil {
			go io.Copy(io.Discard, rd)
			return m[1]
		}
	}
}

// checkReadOnly holds a read-only session's report to what the letters
// collection holds.
func checkReadOnly(t *testing.T, run clientRun) {
	t.Helper()
	if run.Server.Name != "distill" {
		t.Errorf("server %+v", run.Server)
	}
	var names []string
	for _, tool := range run.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || !tool.HasOutputSchema {
			t.Errorf("tool %s: description %q, output schema %v", tool.Name, tool.Description, tool.HasOutputSchema)
		}
		for arg, p := range tool.InputSchema.Properties {
			if p.Description == "" || p.Type == "" {
				t.Errorf("tool %s: argument %s: %+v", tool.Name, arg, p)
			}
		}
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "ask,list_documents,list_techniques,read_page,search" {
		t.Errorf("tools %v", names)
	}

	var docs struct {
		Documents []struct{ DocID, Source string }
	}
	run.Documents.decode(t, "list_documents", &docs)
	if len(docs.Documents) != len(testsupport.Letters) {
		t.Errorf("documents %+v", docs)
	}
	var techs struct {
		Default    string
		Techniques []struct{ Name string }
	}
	run.Techniques.decode(t, "list_techniques", &techs)
	if techs.Default != "parent" || len(techs.Techniques) < 4 {
		t.Errorf("techniques %+v", techs)
	}

	var found struct {
		Technique string
		Contexts  []struct {
			Rank              int
			Text, Source, URI string
			DocID             string `json:"doc_id"`
			ChunkID           string `json:"chunk_id"`
			Page, Start, End  int
			Score             float64
		}
	}
	run.Search.decode(t, "search", &found)
	if len(found.Contexts) == 0 || len(found.Contexts) > 2 {
		t.Fatalf("search with k=2: %s", run.Search.Structured)
	}
	top := found.Contexts[0]
	if top.Rank != 1 || !strings.HasSuffix(top.Source, "alpha-2022.pdf") || top.Page != 1 || !strings.Contains(top.Text, "Borealis") || top.Score <= 0 || top.DocID == "" || top.ChunkID == "" {
		t.Errorf("top passage %+v", top)
	}

	var ans struct {
		Mode, Answer string
		Citations    []struct{ Rank int }
		Contexts     []struct{ Text string }
	}
	run.Ask.decode(t, "ask", &ans)
	if ans.Mode != "extractive" || !strings.Contains(ans.Answer, "Borealis") || len(ans.Citations) == 0 || len(ans.Contexts) == 0 {
		t.Errorf("ask %s", run.Ask.Structured)
	}

	var page struct {
		Text string
		Page int
	}
	run.Page.decode(t, "read_page", &page)
	if page.Page != 1 || len(page.Text) < top.End || page.Text[top.Start:top.End] != top.Text {
		t.Errorf("read_page %q does not hold the passage %q at %d:%d", page.Text, top.Text, top.Start, top.End)
	}
	if len(run.Resource) != 1 || run.Resource[0].URI != top.URI || run.Resource[0].Text != page.Text || run.Resource[0].MimeType != "text/plain" {
		t.Errorf("resource %s: %+v", top.URI, run.Resource)
	}

	if !run.UnknownTechnique.IsError || !strings.HasPrefix(run.UnknownTechnique.Text, `unknown technique "nope" (configured: regular, parent,`) {
		t.Errorf("unknown technique: %+v", run.UnknownTechnique)
	}
	if !run.NoPage.IsError || run.NoPage.Text != `no document "nope" in the collection (list them with distill ls)` {
		t.Errorf("read_page of no document: %+v", run.NoPage)
	}
	if w := run.WriteWithoutWrites; !w.IsError && w.Thrown == "" {
		t.Errorf("ingest_text ran without writes allowed: %+v", w)
	}
}

func TestTypeScriptClientOverStdio(t *testing.T) {
	node, script := testsupport.MCPClient(t)
	bin := testsupport.Binary(t)
	env := isolated(t)
	data := lettersCollection(t, bin, env)
	db := filepath.Join(data, "letters")

	checkReadOnly(t, runClient(t, node, script, env, "stdio", bin, "--db", db, "mcp"))

	// With --allow-writes a document added is found, and once removed it
	// is not.
	run := runClient(t, node, script, append(env, "DISTILL_MCP_WRITE=1"), "stdio", bin, "--db", db, "mcp", "--allow-writes")
	var added struct {
		DocID  string `json:"doc_id"`
		Status string
	}
	run.Ingest.decode(t, "ingest_text", &added)
	if added.Status != "added" || added.DocID == "" {
		t.Errorf("ingest_text: %s", run.Ingest.Structured)
	}
	var found struct {
		Contexts []struct {
			DocID string `json:"doc_id"`
		}
	}
	run.SearchAdded.decode(t, "search", &found)
	if len(found.Contexts) == 0 || found.Contexts[0].DocID != added.DocID {
		t.Errorf("search after ingest_text: %s", run.SearchAdded.Structured)
	}
	run.Remove.decode(t, "remove_document", &struct{}{})
	run.SearchRemoved.decode(t, "search", &found)
	for _, c := range found.Contexts {
		if c.DocID == added.DocID {
			t.Errorf("search finds the removed document: %s", run.SearchRemoved.Structured)
		}
	}
}

func TestTypeScriptClientOverHTTP(t *testing.T) {
	node, script := testsupport.MCPClient(t)
	bin := testsupport.Binary(t)
	env := isolated(t)
	data := lettersCollection(t, bin, env)
	addr := serve(t, bin, env, "--data", data, "--collection", "letters", "--api-key", "sk-mcp")
	url := "http://" + addr + "/mcp"

	checkReadOnly(t, runClient(t, node, script, env, "http", url, "sk-mcp"))

	for _, key := range []string{"", "sk-wrong"} {
		run := runClient(t, node, script, env, "http", url, key)
		if run.ConnectError == nil || run.ConnectError.Code != 401 || !strings.Contains(run.ConnectError.Message, "missing or wrong API key") {
			t.Errorf("key %q: connected, or failed other than with 401: %+v", key, run.ConnectError)
		}
	}
}
