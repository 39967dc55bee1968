package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/server"
	"github.com/distill-rag/distill/store"
)

func TestRoutesMatchOpenAPI(t *testing.T) {
	e := start(t)
	var documented []string
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(documented)
	served := e.srv.Routes()
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("openapi.json documents\n  %s\nbut the server serves\n  %s", strings.Join(documented, "\n  "), strings.Join(served, "\n  "))
	}
	// The server serves the document it is checked against.
	var doc map[string]any
	e.do("GET", "/openapi.json", nil).ok(t, 200, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
}

func TestHealth(t *testing.T) {
	e := start(t)
	tests := []struct {
		path, want string
	}{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
	}
	for _, tt := range tests {
		var h struct{ Status string }
		e.do("GET", tt.path, nil).ok(t, 200, &h)
		if h.Status != tt.want {
			t.Errorf("%s: status %q, want %q", tt.path, h.Status, tt.want)
		}
	}
	// A stopping server is alive but not ready.
	e.srv.Close(context.Background())
	var h struct{ Status string }
	e.do("GET", "/readyz", nil).ok(t, 503, &h)
	if h.Status != "stopping" {
		t.Errorf("readyz while stopping: %q", h.Status)
	}
}

func TestCollections(t *testing.T) {
	e := start(t)
	type coll struct {
		Name                     string
		Default                  bool
		Documents, Pages, Chunks int
	}
	var list struct{ Collections []coll }
	e.do("GET", "/v1/collections", nil).ok(t, 200, &list)
	if len(list.Collections) != 1 || list.Collections[0].Name != "default" || !list.Collections[0].Default {
		t.Fatalf("collections at start: %+v", list)
	}
	var c coll
	r := e.do("POST", "/v1/collections", map[string]string{"name": "letters"})
	r.ok(t, 201, &c)
	if c.Name != "letters" || c.Default || c.Documents != 0 || r.header.Get("Location") != "/v1/collections/letters" {
		t.Errorf("created %+v, location %q", c, r.header.Get("Location"))
	}
	if _, err := os.Stat(filepath.Join(e.cfg.DataDir, "letters", "collection.db")); err != nil {
		t.Errorf("the collection is not a directory of the data directory: %v", err)
	}
	e.do("POST", "/v1/collections/letters/documents?async=false", multipartFiles(t, letterFiles(t))).ok(t, 200, nil)
	e.do("GET", "/v1/collections/letters", nil).ok(t, 200, &c)
	if c.Documents != 2 || c.Pages != 5 || c.Chunks == 0 {
		t.Errorf("after upload: %+v", c)
	}
	e.do("GET", "/v1/collections", nil).ok(t, 200, &list)
	if len(list.Collections) != 2 || list.Collections[1].Name != "letters" {
		t.Errorf("collections: %+v", list)
	}
	// A directory that is not a collection is neither listed nor taken over.
	os.MkdirAll(filepath.Join(e.cfg.DataDir, "notes"), 0o755)
	os.WriteFile(filepath.Join(e.cfg.DataDir, "notes", "todo.txt"), []byte("keep me"), 0o644)

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		status  int
		errType string
	}{
		{"create twice", "POST", "/v1/collections", map[string]string{"name": "letters"}, 409, "conflict_error"},
		{"create over a foreign directory", "POST", "/v1/collections", map[string]string{"name": "notes"}, 409, "conflict_error"},
		{"bad name", "POST", "/v1/collections", map[string]string{"name": "../etc"}, 400, "invalid_request_error"},
		{"dot name", "POST", "/v1/collections", map[string]string{"name": ".uploads"}, 400, "invalid_request_error"},
		{"empty name", "POST", "/v1/collections", map[string]string{"name": ""}, 400, "invalid_request_error"},
		{"unknown", "GET", "/v1/collections/nope", nil, 404, "not_found_error"},
		{"foreign directory", "GET", "/v1/collections/notes", nil, 404, "not_found_error"},
		{"delete unknown", "DELETE", "/v1/collections/nope", nil, 404, "not_found_error"},
		{"delete default", "DELETE", "/v1/collections/default", nil, 409, "conflict_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != tt.status || r.errorType() != tt.errType {
				t.Errorf("%d %s, want %d %s: %s", r.status, r.errorType(), tt.status, tt.errType, r.body)
			}
		})
	}
	// The vector index files go with the collection (an index of a
	// collection that had vectors; its contents do not matter here).
	index := filepath.Join(e.cfg.DataDir, "letters", "index")
	os.MkdirAll(index, 0o755)
	os.WriteFile(filepath.Join(index, "1-6368756e6b73.hnsw"), []byte("index"), 0o644)
	var del map[string]string
	e.do("DELETE", "/v1/collections/letters", nil).ok(t, 200, &del)
	if del["deleted"] != "letters" {
		t.Errorf("delete: %v", del)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.DataDir, "letters")); !os.IsNotExist(err) {
		t.Errorf("the collection directory remains: %v", err)
	}
	e.do("GET", "/v1/collections/letters", nil).ok(t, 404, nil)
	// The name can be created again, empty.
	e.do("POST", "/v1/collections", map[string]string{"name": "letters"}).ok(t, 201, &c)
	if c.Documents != 0 {
		t.Errorf("created again: %+v", c)
	}
	if data, err := os.ReadFile(filepath.Join(e.cfg.DataDir, "notes", "todo.txt")); err != nil || string(data) != "keep me" {
		t.Errorf("a foreign file was touched: %q %v", data, err)
	}
}

func TestDocuments(t *testing.T) {
	e := start(t).withLetters()
	var docs struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 2 {
		t.Fatalf("documents: %+v", docs)
	}
	d := docs.Documents[1]
	if d.Source != "alpha-2022.pdf" || d.Type != "pdf" || d.Pages != 3 {
		t.Errorf("document named by its upload name: %+v", d)
	}
	var got store.DocumentInfo
	e.do("GET", "/v1/collections/default/documents/"+d.ID, nil).ok(t, 200, &got)
	if got.ID != d.ID || got.Hash != d.Hash {
		t.Errorf("get: %+v", got)
	}
	var page server.PageText
	e.do("GET", "/v1/collections/default/documents/"+d.ID+"/pages/2", nil).ok(t, 200, &page)
	if page.Page != 2 || !strings.Contains(page.Text, "recall of 3,000 lanterns") {
		t.Errorf("page 2: %+v", page)
	}
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/v1/collections/default/documents/" + d.ID + "/pages/9", 404},
		{"/v1/collections/default/documents/" + d.ID + "/pages/0", 400},
		{"/v1/collections/default/documents/" + d.ID + "/pages/x", 400},
		{"/v1/collections/default/documents/nope", 404},
		{"/v1/collections/default/documents/nope/pages/1", 404},
	} {
		if r := e.do("GET", tt.path, nil); r.status != tt.status {
			t.Errorf("GET %s: %d, want %d", tt.path, r.status, tt.status)
		}
	}
	// Uploading the same file again changes nothing.
	var rep struct{ Files []struct{ Status string } }
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, letterFiles(t))).ok(t, 200, &rep)
	if len(rep.Files) != 2 || rep.Files[0].Status != "unchanged" {
		t.Errorf("re-upload: %+v", rep)
	}
	var removed struct{ Removed []store.DocumentInfo }
	e.do("DELETE", "/v1/collections/default/documents/"+d.ID, nil).ok(t, 200, &removed)
	if len(removed.Removed) != 1 || removed.Removed[0].ID != d.ID {
		t.Errorf("removed: %+v", removed)
	}
	e.do("DELETE", "/v1/collections/default/documents/"+d.ID, nil).ok(t, 404, nil)
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 1 {
		t.Errorf("after delete: %+v", docs)
	}
}

func TestUploadJSONWithPagesAndMeta(t *testing.T) {
	e := start(t)
	body := map[string]any{
		"documents": []map[string]string{
			{"name": "log.md", "text": "# Harbor log\n\nThe lighthouse keeper logged 41 ships in May.\n\fPage two: the fog horn sounded 12 times."},
			{"name": "notes", "text": "Nameless text is read as plain text."},
		},
		"pages": "1",
		"meta":  map[string]string{"year": "1911"},
	}
	var rep struct {
		Files []struct {
			Source, Status string
			Pages          int
		}
	}
	e.do("POST", "/v1/collections/default/documents", body).ok(t, 200, &rep)
	if len(rep.Files) != 2 || rep.Files[0].Source != "log.md" || rep.Files[0].Status != "added" || rep.Files[1].Source != "notes" {
		t.Fatalf("report: %+v", rep)
	}
	var docs struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	for _, d := range docs.Documents {
		if d.Meta["year"] != "1911" || d.Meta["pages"] != "1" {
			t.Errorf("%s: meta %v", d.Source, d.Meta)
		}
	}
	var res distill.Result
	e.do("POST", "/v1/collections/default/ask", map[string]string{"question": "How many ships did the keeper log?", "technique": "regular"}).ok(t, 200, &res)
	if !strings.Contains(res.Answer, "41 ships") || res.Contexts[0].Source != "log.md" {
		t.Errorf("answer from the JSON upload: %+v", res)
	}
}

func TestUploadJob(t *testing.T) {
	e := start(t, func(c *server.Config) { c.SyncUpload = 1 }) // any upload is large
	r := e.do("POST", "/v1/collections/default/documents", multipartFiles(t, letterFiles(t), "meta", "kind=letter"))
	var job server.Job
	r.ok(t, 202, &job)
	if job.ID == "" || r.header.Get("Location") != "/v1/jobs/"+job.ID || job.Files != 2 || job.Bytes == 0 {
		t.Fatalf("job: %+v, location %q", job, r.header.Get("Location"))
	}
	job = waitJob(t, e, job.ID)
	if job.Status != "done" || job.Done != 2 || job.Progress != 1 || job.DoneBytes != job.Bytes || job.Finished == nil || len(job.Report.Files) != 2 {
		t.Errorf("finished job: %+v", job)
	}
	for _, f := range job.Report.Files {
		if f.Status != "added" {
			t.Errorf("file %+v", f)
		}
	}
	// ?async=false ingests in the request however large.
	var rep struct{ Files []struct{ Status string } }
	e.do("POST", "/v1/collections/default/documents?async=false", map[string]any{"documents": []map[string]string{{"name": "a.txt", "text": "Alpha."}}}).ok(t, 200, &rep)
	if len(rep.Files) != 1 || rep.Files[0].Status != "added" {
		t.Errorf("sync: %+v", rep)
	}
	// The staging area is empty once jobs are over.
	entries, _ := os.ReadDir(filepath.Join(e.cfg.DataDir, ".uploads"))
	if len(entries) != 0 {
		t.Errorf("staged uploads left behind: %v", entries)
	}
}

func waitJob(t *testing.T, e *env, id string) server.Job {
	t.Helper()
	for i := 0; ; i++ {
		var job server.Job
		e.do("GET", "/v1/jobs/"+id, nil).ok(t, 200, &job)
		if job.Status != "running" {
			return job
		}
		if i > 3000 {
			t.Fatalf("job still running: %+v", job)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAllowPaths(t *testing.T) {
	allowed := t.TempDir()
	outside := t.TempDir()
	for name, data := range letterFiles(t) {
		os.WriteFile(filepath.Join(allowed, name), data, 0o644)
	}
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("The password is swordfish."), 0o644)
	os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(allowed, "link.txt"))

	closed := start(t)
	r := closed.do("POST", "/v1/collections/default/documents", map[string]any{"paths": []string{allowed}})
	if r.status != 403 || r.errorType() != "permission_error" {
		t.Errorf("paths without an allow-list: %d %s", r.status, r.body)
	}

	e := start(t, func(c *server.Config) { c.AllowPaths = []string{allowed} })
	for _, p := range []string{
		filepath.Join(outside, "secret.txt"),
		filepath.Join(allowed, "link.txt"), // a link out of the allowed directory
		filepath.Join(allowed, "..", filepath.Base(outside), "secret.txt"),
		"relative/path.pdf",
		filepath.Join(allowed, "missing.pdf"),
	} {
		r := e.do("POST", "/v1/collections/default/documents", map[string]any{"paths": []string{p}})
		if r.status != 403 || r.errorType() != "permission_error" {
			t.Errorf("path %s: %d %s", p, r.status, r.body)
		}
	}
	var job server.Job
	e.do("POST", "/v1/collections/default/documents", map[string]any{"paths": []string{filepath.Join(allowed, "alpha-2021.pdf")}}).ok(t, 202, &job)
	job = waitJob(t, e, job.ID)
	if job.Status != "done" || len(job.Report.Files) != 1 || job.Report.Files[0].Status != "added" {
		t.Errorf("job: %+v", job)
	}
}

func TestAsk(t *testing.T) {
	e := start(t).withLetters()
	var res distill.Result
	e.do("POST", "/v1/collections/default/ask", map[string]string{"question": "What did Alpha Widgets acquire in 2022?"}).ok(t, 200, &res)
	if res.Technique != "parent" || res.Mode != "extractive" || !strings.Contains(res.Answer, "Borealis Optics") {
		t.Errorf("ask: %+v", res)
	}
	if len(res.Contexts) == 0 || res.Contexts[0].Source != "alpha-2022.pdf" || res.Contexts[0].Page != 1 || len(res.Stats.Stages) == 0 {
		t.Errorf("contexts and stats: %+v", res)
	}
	var cmp distill.Comparison
	e.do("POST", "/v1/collections/default/compare", map[string]any{"question": "What did Alpha Widgets acquire in 2022?", "techniques": []string{"regular", "extract"}}).ok(t, 200, &cmp)
	if len(cmp.Results) != 2 || cmp.Results[0].Technique != "regular" || cmp.Results[1].Technique != "extract" {
		t.Errorf("compare: %+v", cmp)
	}
	e.do("POST", "/v1/collections/default/compare", map[string]any{"question": "What did Alpha Widgets acquire in 2022?"}).ok(t, 200, &cmp)
	var techniques struct{ Techniques []distill.TechniqueInfo }
	e.do("GET", "/v1/techniques", nil).ok(t, 200, &techniques)
	available := 0
	for _, tq := range techniques.Techniques {
		if tq.Unavailable == "" {
			available++
		}
	}
	if len(cmp.Results) != available || available < 4 {
		t.Errorf("compare all: %d results, %d techniques available: %+v", len(cmp.Results), available, techniques)
	}
	// A technique whose model is not configured says so.
	for _, tq := range techniques.Techniques {
		if tq.Unavailable == "" {
			continue
		}
		r := e.do("POST", "/v1/collections/default/ask", map[string]any{"question": "What did Alpha Widgets acquire in 2022?", "technique": tq.Name, "stream": true})
		if r.status != 400 || !strings.Contains(string(r.body), "technique_unavailable") {
			t.Errorf("unavailable %s: %d %s", tq.Name, r.status, r.body)
		}
		r = e.do("POST", "/v1/chat/completions", map[string]any{"model": tq.Name, "messages": []map[string]string{{"role": "user", "content": "What did Alpha Widgets acquire?"}}})
		if r.status != 400 || !strings.Contains(string(r.body), "technique_unavailable") {
			t.Errorf("unavailable %s by chat: %d %s", tq.Name, r.status, r.body)
		}
		// Without streaming, and in compare, the same 400 (it was 500).
		r = e.do("POST", "/v1/collections/default/ask", map[string]any{"question": "What did Alpha Widgets acquire in 2022?", "technique": tq.Name})
		if r.status != 400 || !strings.Contains(string(r.body), "technique_unavailable") {
			t.Errorf("unavailable %s without stream: %d %s", tq.Name, r.status, r.body)
		}
		r = e.do("POST", "/v1/collections/default/compare", map[string]any{"question": "What did Alpha Widgets acquire in 2022?", "techniques": []string{"regular", tq.Name}})
		if r.status != 400 || !strings.Contains(string(r.body), "technique_unavailable") {
			t.Errorf("unavailable %s in compare: %d %s", tq.Name, r.status, r.body)
		}
	}
}

func TestAskStream(t *testing.T) {
	e := start(t).withLetters()
	req, _ := http.NewRequest("POST", e.url+"/v1/collections/default/ask",
		strings.NewReader(`{"question": "What happened to the Zephyr line?", "technique": "regular", "stream": true}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := readEvents(t, resp.Body)
	var names []string
	var answer strings.Builder
	for _, ev := range events {
		if len(names) == 0 || names[len(names)-1] != ev.name {
			names = append(names, ev.name)
		}
		if ev.name == "token" {
			var tok struct{ Text string }
			json.Unmarshal([]byte(ev.data), &tok)
			answer.WriteString(tok.Text)
		}
	}
	if strings.Join(names, ",") != "token,contexts,stats,done" {
		t.Fatalf("events %v", names)
	}
	var done distill.Result
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &done); err != nil {
		t.Fatal(err)
	}
	if answer.String() != done.Answer || !strings.Contains(done.Answer, "recall") {
		t.Errorf("tokens %q do not make the answer %q", answer.String(), done.Answer)
	}
	var ctxs struct{ Contexts []distill.Context }
	json.Unmarshal([]byte(events[len(events)-3].data), &ctxs)
	if len(ctxs.Contexts) != len(done.Contexts) || ctxs.Contexts[0].ChunkID != done.Contexts[0].ChunkID {
		t.Errorf("contexts event %+v", ctxs)
	}
}

func TestBadInput(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxBody = 4096; c.MaxUpload = 64 << 10 })
	big := bytes.Repeat([]byte("a"), 5000)
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		header  []string
		status  int
		errType string
	}{
		{"malformed JSON", "POST", "/v1/collections/default/ask", `{"question": `, nil, 400, "invalid_request_error"},
		{"not an object", "POST", "/v1/collections/default/ask", `["a"]`, nil, 400, "invalid_request_error"},
		{"two values", "POST", "/v1/collections/default/ask", `{"question": "a"} {}`, nil, 400, "invalid_request_error"},
		{"empty body", "POST", "/v1/collections/default/ask", ``, nil, 400, "invalid_request_error"},
		{"unknown field", "POST", "/v1/collections/default/ask", `{"question": "a", "tecnique": "parent"}`, nil, 400, "invalid_request_error"},
		{"wrong type", "POST", "/v1/collections/default/ask", `{"question": 42}`, nil, 400, "invalid_request_error"},
		{"empty question", "POST", "/v1/collections/default/ask", `{"question": "  "}`, nil, 400, "invalid_request_error"},
		{"empty question, streaming", "POST", "/v1/collections/default/ask", `{"question": "", "stream": true}`, nil, 400, "invalid_request_error"},
		{"unknown technique", "POST", "/v1/collections/default/ask", `{"question": "a", "technique": "magic"}`, nil, 400, "invalid_request_error"},
		{"unknown technique, streaming", "POST", "/v1/collections/default/ask", `{"question": "a", "technique": "magic", "stream": true}`, nil, 400, "invalid_request_error"},
		{"unknown technique in compare", "POST", "/v1/collections/default/compare", `{"question": "a", "techniques": ["regular", "magic"]}`, nil, 400, "invalid_request_error"},
		{"unknown collection", "POST", "/v1/collections/nope/ask", `{"question": "a"}`, nil, 404, "not_found_error"},
		{"oversized body", "POST", "/v1/collections/default/ask", append(append([]byte(`{"question": "`), big...), '"', '}'), nil, 413, "request_too_large"},
		{"XML body", "POST", "/v1/collections/default/ask", `<q/>`, []string{"Content-Type", "application/xml"}, 415, "unsupported_media_type"},
		{"wrong method", "PUT", "/v1/collections/default/ask", nil, nil, 405, "invalid_request_error"},
		{"unknown route", "GET", "/v2/everything", nil, nil, 404, "not_found_error"},
		{"unknown job", "GET", "/v1/jobs/job_nope", nil, nil, 404, "not_found_error"},
		{"unsupported file type", "POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"slides.key": []byte("PK\x03\x04")}), nil, 415, "unsupported_media_type"},
		{"binary without extension", "POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"blob": {0, 1, 2, 0}}), nil, 415, "unsupported_media_type"},
		{"oversized upload", "POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"big.txt": bytes.Repeat([]byte("word "), 20000)}), nil, 413, "request_too_large"},
		{"no files", "POST", "/v1/collections/default/documents", multipartFiles(t, nil, "pages", "1"), nil, 400, "invalid_request_error"},
		{"unknown part", "POST", "/v1/collections/default/documents", multipartFiles(t, nil, "folder", "x"), nil, 400, "invalid_request_error"},
		{"bad pages", "POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"a.txt": []byte("Alpha.")}, "pages", "3-1"), nil, 400, "invalid_request_error"},
		{"bad meta", "POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"a.txt": []byte("Alpha.")}, "meta", "novalue"), nil, 400, "invalid_request_error"},
		{"bad async", "POST", "/v1/collections/default/documents?async=maybe", `{"documents": [{"name": "a.txt", "text": "Alpha."}]}`, nil, 400, "invalid_request_error"},
		{"nameless text", "POST", "/v1/collections/default/documents", `{"documents": [{"text": "Alpha."}]}`, nil, 400, "invalid_request_error"},
		{"empty text", "POST", "/v1/collections/default/documents", `{"documents": [{"name": "a.txt", "text": " "}]}`, nil, 400, "invalid_request_error"},
		{"same name twice", "POST", "/v1/collections/default/documents", `{"documents": [{"name": "a.txt", "text": "A."}, {"name": "dir/a.txt", "text": "B."}]}`, nil, 400, "invalid_request_error"},
		{"unsupported text name", "POST", "/v1/collections/default/documents", `{"documents": [{"name": "a.key", "text": "A."}]}`, nil, 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.status || r.errorType() != tt.errType {
				t.Errorf("%d %s, want %d %s: %s", r.status, r.errorType(), tt.status, tt.errType, shortBody(r.body))
			}
		})
	}
	// Nothing was stored, nothing staged, and the server still serves.
	var docs struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 0 {
		t.Errorf("bad requests stored %+v", docs.Documents)
	}
	entries, _ := os.ReadDir(filepath.Join(e.cfg.DataDir, ".uploads"))
	if len(entries) != 0 {
		t.Errorf("staged uploads left behind: %v", entries)
	}
}

func TestCorruptFileIsReportedNotStored(t *testing.T) {
	e := start(t)
	files := map[string][]byte{"broken.pdf": []byte("%PDF-1.4\nnot really"), "ok.txt": []byte("A fine text about lanterns.")}
	var rep struct {
		Files []struct{ Source, Status, Error string }
	}
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, files)).ok(t, 200, &rep)
	if len(rep.Files) != 2 || rep.Files[0].Status != "failed" || !strings.HasPrefix(rep.Files[0].Error, "broken.pdf: ") || rep.Files[1].Status != "added" {
		t.Errorf("report: %+v", rep)
	}
}
