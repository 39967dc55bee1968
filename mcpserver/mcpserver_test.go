package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/distill-rag/distill"
	_ "github.com/distill-rag/distill/all"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/mcpserver"
	"github.com/distill-rag/distill/model"
)

// texts are the documents of the test collection, one fact each.
var texts = map[string]string{
	"zephyr.md":  "# Zephyr lanterns\n\nThe Zephyr line of solar lanterns launched in March 2021 and sold 90,000 units.\n",
	"krakow.txt": "Our warehouse in Kraków opened in June. Customer satisfaction reached 91 percent in the quarterly survey.\n",
}

// openEngine opens a new offline collection holding texts.
func openEngine(t *testing.T) *distill.Engine { return openEngineWith(t, "none") }

// openEngineWith opens a new collection holding texts, answering with llm.
func openEngineWith(t *testing.T, llm string) *distill.Engine {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse("<built-in>", config.DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := distill.Open(ctx, distill.Options{DB: filepath.Join(t.TempDir(), "db"), Create: true, Config: cfg,
		Models: distill.Models{LLM: llm, Embed: "none", Rerank: "none"}, NoCache: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	for name, text := range texts {
		if _, err := eng.IngestText(ctx, name, text, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return eng
}

// connect serves eng over an in-memory transport and returns a client
// session on it.
func connect(t *testing.T, eng *distill.Engine, allowWrites bool) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	srv := mcpserver.New(mcpserver.Options{AllowWrites: allowWrites, Version: "test",
		Acquire: func(context.Context) (*distill.Engine, func(), error) { return eng, func() {}, nil }})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	return cs
}

// call calls a tool and decodes its structured result into out (when the
// call succeeds); it returns the error text of an IsError result.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, out any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		if len(res.Content) != 1 {
			t.Fatalf("%s: error result with %d contents", tool, len(res.Content))
		}
		return res.Content[0].(*mcp.TextContent).Text
	}
	data, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: decode %s: %v", tool, data, err)
		}
	}
	// The text content is the same JSON, for clients that read only text.
	if len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != string(data) {
		t.Errorf("%s: text content does not repeat the structured result", tool)
	}
	return ""
}

func TestToolsAndSchemas(t *testing.T) {
	eng := openEngine(t)
	readOnly := []string{"ask", "list_documents", "list_techniques", "read_page", "search"}
	tests := []struct {
		allowWrites bool
		want        []string
	}{
		{false, readOnly},
		{true, append(slices.Clone(readOnly), "ingest_text", "remove_document")},
	}
	required := map[string][]string{
		"search":          {"question"},
		"ask":             {"question"},
		"read_page":       {"doc_id", "page"},
		"ingest_text":     {"name", "text"},
		"remove_document": {"doc_id"},
	}
	for _, tt := range tests {
		cs := connect(t, eng, tt.allowWrites)
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
			if len(tool.Description) < 40 {
				t.Errorf("%s: description %q is too short to act on", tool.Name, tool.Description)
			}
			if tool.Annotations == nil || tool.Annotations.ReadOnlyHint != slices.Contains(readOnly, tool.Name) {
				t.Errorf("%s: read-only hint %+v", tool.Name, tool.Annotations)
			}
			var schema struct {
				Type       string
				Required   []string
				Properties map[string]struct {
					Type        any // a name, or names (["null", "array"] for a slice)
					Description string
				}
			}
			data, _ := json.Marshal(tool.InputSchema)
			if err := json.Unmarshal(data, &schema); err != nil {
				t.Fatal(err)
			}
			if schema.Type != "object" {
				t.Errorf("%s: input schema type %q", tool.Name, schema.Type)
			}
			if got, want := strings.Join(schema.Required, ","), strings.Join(required[tool.Name], ","); got != want {
				t.Errorf("%s: required %q, want %q", tool.Name, got, want)
			}
			for name, p := range schema.Properties {
				if p.Description == "" {
					t.Errorf("%s: argument %s has no description", tool.Name, name)
				}
			}
			if tool.OutputSchema == nil {
				t.Errorf("%s: no output schema", tool.Name)
			}
		}
		slices.Sort(names)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("allow writes %v: tools %v, want %v", tt.allowWrites, names, want)
		}
	}
	// The search schema offers the arguments the issue names.
	cs := connect(t, eng, false)
	res, _ := cs.ListTools(context.Background(), nil)
	for _, tool := range res.Tools {
		if tool.Name != "search" {
			continue
		}
		data, _ := json.Marshal(tool.InputSchema)
		for _, arg := range []string{`"question"`, `"technique"`, `"k"`, `"where"`} {
			if !strings.Contains(string(data), arg) {
				t.Errorf("search schema lacks %s: %s", arg, data)
			}
		}
	}
}

func TestSearchAskAndPages(t *testing.T) {
	eng := openEngine(t)
	cs := connect(t, eng, false)

	var found mcpserver.SearchResult
	if msg := call(t, cs, "search", map[string]any{"question": "How many Zephyr lanterns were sold?", "technique": "regular"}, &found); msg != "" {
		t.Fatal(msg)
	}
	if found.Technique != "regular" || len(found.Contexts) == 0 {
		t.Fatalf("search: %+v", found)
	}
	top := found.Contexts[0]
	if top.Rank != 1 || top.Source != "zephyr.md" || top.Page != 1 || top.DocID == "" || top.ChunkID == "" || top.Score <= 0 || !strings.Contains(top.Text, "90,000") {
		t.Errorf("top passage: %+v", top)
	}
	if top.URI != "distill://documents/"+top.DocID+"/pages/1" {
		t.Errorf("uri %q", top.URI)
	}

	// k caps the passages; the default technique is parent.
	var one mcpserver.SearchResult
	call(t, cs, "search", map[string]any{"question": "lanterns warehouse survey", "k": 1}, &one)
	if one.Technique != "parent" || len(one.Contexts) != 1 {
		t.Errorf("k=1: technique %q, %d contexts", one.Technique, len(one.Contexts))
	}

	var ans mcpserver.AskResult
	if msg := call(t, cs, "ask", map[string]any{"question": "When did the warehouse in Kraków open?", "technique": "regular"}, &ans); msg != "" {
		t.Fatal(msg)
	}
	if ans.Mode != "extractive" || !strings.Contains(ans.Answer, "June") || len(ans.Contexts) == 0 || len(ans.Citations) == 0 || ans.Stats.LatencyMS <= 0 || ans.Stats.LLMCalls != 0 {
		t.Fatalf("ask: %+v", ans)
	}
	for _, c := range ans.Citations {
		if !strings.Contains(ans.Answer, "["+strconv.Itoa(c.Rank)+"]") {
			t.Errorf("citation %d is not cited in %q", c.Rank, ans.Answer)
		}
		ctx := ans.Contexts[c.Rank-1]
		if c.Source != ctx.Source || c.Page != ctx.Page || c.DocID != ctx.DocID || c.URI != ctx.URI {
			t.Errorf("citation %+v does not match context %+v", c, ctx)
		}
	}

	// read_page and the page resource give the page a passage is in, at
	// the passage's offsets.
	var page mcpserver.Page
	if msg := call(t, cs, "read_page", map[string]any{"doc_id": top.DocID, "page": top.Page}, &page); msg != "" {
		t.Fatal(msg)
	}
	if page.Source != "zephyr.md" || page.Pages != 1 || page.Text[top.Start:top.End] != top.Text {
		t.Errorf("page %+v does not hold the passage %q at %d:%d", page, top.Text, top.Start, top.End)
	}
	rr, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: top.URI})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].Text != page.Text || rr.Contents[0].MIMEType != "text/plain" {
		t.Errorf("resource %s: %+v", top.URI, rr.Contents)
	}
	for _, uri := range []string{"distill://documents/nope/pages/1", "distill://documents/" + top.DocID + "/pages/7"} {
		if _, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri}); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("resource %s: %v, want not found", uri, err)
		}
	}
	templates, err := cs.ListResourceTemplates(context.Background(), nil)
	if err != nil || len(templates.ResourceTemplates) != 1 || templates.ResourceTemplates[0].URITemplate != "distill://documents/{doc_id}/pages/{page}" {
		t.Errorf("templates: %+v, %v", templates, err)
	}

	var docs mcpserver.DocumentList
	call(t, cs, "list_documents", nil, &docs)
	var sources []string
	for _, d := range docs.Documents {
		sources = append(sources, d.Source)
		if d.DocID == "" || d.Pages != 1 || d.Chunks == 0 || d.Ingested == "" {
			t.Errorf("document %+v", d)
		}
	}
	if strings.Join(sources, ",") != "krakow.txt,zephyr.md" {
		t.Errorf("documents %v", sources)
	}

	var techs mcpserver.TechniqueList
	call(t, cs, "list_techniques", nil, &techs)
	avail := map[string]bool{}
	for _, tq := range techs.Techniques {
		avail[tq.Name] = tq.Available
		if tq.Available != (tq.Unavailable == "") {
			t.Errorf("technique %+v", tq)
		}
	}
	if techs.Default != "parent" || !avail["parent"] || !avail["regular"] || avail["hybrid"] {
		t.Errorf("techniques offline: default %q, %v", techs.Default, avail)
	}
}

// TestErrors holds tool errors to the CLI's messages: the engine's user
// errors, unwrapped.
func TestErrors(t *testing.T) {
	eng := openEngine(t)
	ctx := context.Background()
	cs := connect(t, eng, false)
	cliMessage := func(err error) string {
		if err == nil {
			t.Fatal("the engine took what the tool should refuse")
		}
		return err.Error()
	}
	_, unknown := eng.Ask(ctx, "q", "nope")
	_, empty := eng.Ask(ctx, "  ", "regular")
	_, offline := eng.Ask(ctx, "q", "hybrid")
	_, noDoc := eng.Page(ctx, "nope", 1)
	docs, _ := eng.Documents(ctx)
	_, noPage := eng.Page(ctx, docs[0].ID, 9)
	tests := []struct {
		tool string
		args map[string]any
		want string // the whole message, or with want prefix "~" a part of it
	}{
		{"search", map[string]any{"question": "q", "technique": "nope"}, cliMessage(unknown)},
		{"ask", map[string]any{"question": "q", "technique": "nope"}, cliMessage(unknown)},
		{"ask", map[string]any{"question": "  "}, cliMessage(empty)},
		{"search", map[string]any{"question": "q", "technique": "hybrid"}, cliMessage(offline)},
		{"ask", map[string]any{"question": "q", "technique": "hybrid"}, cliMessage(offline)},
		{"read_page", map[string]any{"doc_id": "nope", "page": 1}, cliMessage(noDoc)},
		{"read_page", map[string]any{"doc_id": docs[0].ID, "page": 9}, cliMessage(noPage)},
		{"read_page", map[string]any{"doc_id": docs[0].ID, "page": 0}, "~pages are numbered from 1"},
		{"read_page", map[string]any{"doc_id": "", "page": 1}, "~doc_id: give the id of a document"},
		{"search", map[string]any{"question": "q", "k": -1}, "k: want a positive number of passages, got -1"},
		{"search", map[string]any{"technique": "regular"}, "~question"},
		{"search", map[string]any{"question": 3}, "~question"},
		{"read_page", map[string]any{"doc_id": docs[0].ID, "page": "one"}, "~page"},
	}
	for _, tt := range tests {
		got := call(t, cs, tt.tool, tt.args, nil)
		if part, ok := strings.CutPrefix(tt.want, "~"); ok {
			if !strings.Contains(got, part) {
				t.Errorf("%s %v: error %q, want it to contain %q", tt.tool, tt.args, got, part)
			}
		} else if got != tt.want {
			t.Errorf("%s %v: error %q, want %q", tt.tool, tt.args, got, tt.want)
		}
	}
	if !strings.Contains(cliMessage(offline), "--embed") {
		t.Errorf("the unavailable technique's message does not name the flag: %q", cliMessage(offline))
	}
	// Without --allow-writes the writing tools do not exist.
	for _, tool := range []string{"ingest_text", "remove_document"} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"name": "x.md", "text": "x", "doc_id": docs[0].ID}})
		if err == nil && !res.IsError {
			t.Errorf("%s ran without writes allowed", tool)
		}
	}
	if after, _ := eng.Documents(ctx); len(after) != len(docs) {
		t.Errorf("documents changed without writes allowed: %d, then %d", len(docs), len(after))
	}
}

func TestWrites(t *testing.T) {
	eng := openEngine(t)
	cs := connect(t, eng, true)
	search := func(q string) []mcpserver.Passage {
		t.Helper()
		var res mcpserver.SearchResult
		if msg := call(t, cs, "search", map[string]any{"question": q, "technique": "regular"}, &res); msg != "" {
			t.Fatal(msg)
		}
		return res.Contexts
	}

	var added mcpserver.Ingested
	if msg := call(t, cs, "ingest_text", map[string]any{"name": "notes.md", "text": "# Notes\n\nThe quokka census counted 412 animals.", "meta": map[string]any{"year": "2024"}}, &added); msg != "" {
		t.Fatal(msg)
	}
	if added.Status != "added" || added.Source != "notes.md" || added.DocID == "" || added.Pages != 1 || added.Chunks == 0 {
		t.Errorf("added %+v", added)
	}
	if got := search("quokka census"); len(got) == 0 || got[0].DocID != added.DocID || !strings.Contains(got[0].Text, "412") {
		t.Errorf("search after ingest_text: %+v", got)
	}
	var docs mcpserver.DocumentList
	call(t, cs, "list_documents", nil, &docs)
	for _, d := range docs.Documents {
		if d.DocID == added.DocID && (d.Meta["year"] != "2024" || d.Type != "markdown") {
			t.Errorf("notes.md stored as %+v", d)
		}
	}

	// The same name replaces the document.
	var updated mcpserver.Ingested
	call(t, cs, "ingest_text", map[string]any{"name": "notes.md", "text": "The quokka census counted 977 animals."}, &updated)
	if updated.Status != "updated" || updated.DocID != added.DocID {
		t.Errorf("updated %+v", updated)
	}
	if got := search("quokka census"); len(got) == 0 || !strings.Contains(got[0].Text, "977") || strings.Contains(got[0].Text, "412") {
		t.Errorf("search after replacing: %+v", got)
	}

	for _, tt := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "a/b.md", "text": "x"}, `document "a/b.md": give a file name such as notes.md, not a path`},
		{map[string]any{"name": "", "text": "x"}, `document "": a document needs a name, such as notes.md`},
		{map[string]any{"name": "e.md", "text": "  \n"}, `document "e.md": the text is empty`},
		{map[string]any{"name": "x.exe", "text": "x"}, "x.exe: unsupported file type .exe"},
		{map[string]any{"name": "m.md", "text": "x", "meta": map[string]any{"pages": "1"}}, "meta: the key pages is reserved (it records a page range)"},
		{map[string]any{"name": "big.txt", "text": strings.Repeat("a", mcpserver.MaxTextBytes+1)}, "~more than ingest_text takes"},
	} {
		got := call(t, cs, "ingest_text", tt.args, nil)
		if part, ok := strings.CutPrefix(tt.want, "~"); ok && !strings.Contains(got, part) || !ok && !strings.HasPrefix(got, tt.want) {
			t.Errorf("ingest_text %.60v: error %q, want %q", tt.args, got, tt.want)
		}
	}

	var removed mcpserver.Removed
	if msg := call(t, cs, "remove_document", map[string]any{"doc_id": added.DocID}, &removed); msg != "" {
		t.Fatal(msg)
	}
	if removed.Removed.DocID != added.DocID || removed.Removed.Source != "notes.md" {
		t.Errorf("removed %+v", removed)
	}
	for _, p := range search("quokka census") {
		if p.DocID == added.DocID {
			t.Errorf("search finds the removed document: %+v", p)
		}
	}
	if got := call(t, cs, "remove_document", map[string]any{"doc_id": added.DocID}, nil); !strings.Contains(got, "no document") {
		t.Errorf("removing twice: %q", got)
	}
	// A path is not a document id: nothing else goes.
	if got := call(t, cs, "remove_document", map[string]any{"doc_id": "/"}, nil); !strings.Contains(got, `no document "/"`) {
		t.Errorf("remove /: %q", got)
	}
	call(t, cs, "list_documents", nil, &docs)
	if len(docs.Documents) != len(texts) {
		t.Errorf("%d documents left, want %d", len(docs.Documents), len(texts))
	}
}

var fakes sync.Map // test name -> *fakellm.LLM

func init() {
	// "fake-mcp:NAME" opens the fake a test registered as NAME.
	model.RegisterLLM("fake-mcp", func(_ context.Context, u model.URI) (model.LLM, error) {
		f, ok := fakes.Load(u.Target)
		if !ok {
			return nil, &model.URIError{URI: u.Raw, Reason: "no such fake"}
		}
		return f.(*fakellm.LLM), nil
	})
}

func TestAskWithLLM(t *testing.T) {
	fake := fakellm.New(func(prompt string) fakellm.Reply {
		if strings.Contains(prompt, "fail") {
			return fakellm.Reply{Err: errors.New("the model server is down")}
		}
		return fakellm.Reply{Text: "It opened in June [1]; see also [1] and [9].", Usage: cost.Usage{Calls: 1, PromptTokens: 120, CompletionTokens: 12}}
	})
	fakes.Store(t.Name(), fake)
	eng := openEngineWith(t, "fake-mcp:"+t.Name())
	cs := connect(t, eng, false)

	var ans mcpserver.AskResult
	if msg := call(t, cs, "ask", map[string]any{"question": "When did the warehouse in Kraków open?", "technique": "regular"}, &ans); msg != "" {
		t.Fatal(msg)
	}
	if ans.Mode != "llm" || ans.Answer != "It opened in June [1]; see also [1] and [9]." || ans.Stats.LLMCalls != 1 || ans.Stats.PromptTokens != 120 {
		t.Errorf("ask: %+v", ans)
	}
	// [1] once; [9] names no context.
	if len(ans.Citations) != 1 || ans.Citations[0].Rank != 1 || ans.Citations[0].Source != ans.Contexts[0].Source {
		t.Errorf("citations %+v of contexts %d", ans.Citations, len(ans.Contexts))
	}
	_, want := eng.Ask(context.Background(), "why did it fail?", "regular")
	if want == nil {
		t.Fatal("the failing model answered")
	}
	if got := call(t, cs, "ask", map[string]any{"question": "why did it fail?", "technique": "regular"}, nil); got != want.Error() || !strings.Contains(got, "the model server is down") {
		t.Errorf("model failure: %q, want %q", got, want.Error())
	}
}
