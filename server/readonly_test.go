package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/server"
)

// TestReadOnlyServer: serve --read-only answers questions from existing
// collections and refuses every request that would change one with 403
// read_only, leaving the collection as it was.
func TestReadOnlyServer(t *testing.T) {
	e := start(t)
	body := map[string]any{"documents": []map[string]string{{"name": "log.md", "text": "The lighthouse keeper logged 41 ships in May."}}}
	e.do("POST", "/v1/collections/default/documents", body).ok(t, 200, nil)
	dataDir := e.cfg.DataDir
	e.srv.Close(context.Background())

	ro := start(t, func(c *server.Config) { c.DataDir = dataDir; c.ReadOnly = true })
	var res distill.Result
	ro.do("POST", "/v1/collections/default/ask", map[string]string{"question": "How many ships did the keeper log?", "technique": "regular"}).ok(t, 200, &res)
	if !strings.Contains(res.Answer, "41 ships") {
		t.Fatalf("read-only answer: %+v", res)
	}
	for _, w := range []struct{ method, path string }{
		{"POST", "/v1/collections/default/documents"},
		{"DELETE", "/v1/collections/default/documents/" + res.Contexts[0].DocID},
		{"DELETE", "/v1/collections/default"},
		{"POST", "/v1/collections"},
	} {
		var b any
		if w.method == "POST" {
			b = body
			if w.path == "/v1/collections" {
				b = map[string]string{"name": "other"}
			}
		}
		r := ro.do(w.method, w.path, b)
		if r.status != 403 || !strings.Contains(string(r.body), `"read_only"`) {
			t.Errorf("%s %s on a read-only server: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	var docs struct{ Documents []any }
	ro.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 1 {
		t.Fatalf("%d documents after refused writes, want 1", len(docs.Documents))
	}
	if _, err := server.New(context.Background(), server.Config{DataDir: dataDir, ReadOnly: true, MCPAllowWrites: true}); err == nil {
		t.Fatal("a read-only server with MCP writes allowed started")
	}
}
