package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/distill-rag/distill/server"
)

// bearer adds an API key to every request.
type bearer struct {
	key  string
	base http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.base.RoundTrip(r)
}

// mcpSession connects the Go SDK's streamable HTTP client to path.
func (e *env) mcpSession(path string) (*mcp.ClientSession, error) {
	tr := &mcp.StreamableClientTransport{Endpoint: e.url + path, HTTPClient: &http.Client{Transport: bearer{e.key, http.DefaultTransport}}}
	return mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(context.Background(), tr, nil)
}

func TestMCPOverHTTP(t *testing.T) {
	e := start(t, func(c *server.Config) { c.APIKeys = []string{"sk-test"} }).withLetters()
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	accept := []string{"Accept", "application/json, text/event-stream"}

	// The API keys guard /mcp as every other route.
	if r := e.do("POST", "/mcp", initialize, append(accept, "Authorization", "")...); r.status != http.StatusUnauthorized {
		t.Errorf("without a key: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/mcp", initialize, append(accept, "Authorization", "Bearer wrong")...); r.status != http.StatusUnauthorized {
		t.Errorf("with a wrong key: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/mcp?collection=nope", initialize, accept...); r.status != http.StatusNotFound || r.errorType() != "not_found_error" {
		t.Errorf("unknown collection: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/mcp", nil, accept...); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d %s", r.status, r.body)
	}
	r := e.do("POST", "/mcp", initialize, accept...)
	var init struct {
		Result struct {
			ServerInfo struct{ Name string }
		}
	}
	r.ok(t, 200, &init)
	if init.Result.ServerInfo.Name != "distill" {
		t.Errorf("initialize: %s", r.body)
	}

	cs, err := e.mcpSession("/mcp")
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == "ingest_text" || tool.Name == "remove_document" {
			t.Errorf("%s offered without --mcp-allow-writes", tool.Name)
		}
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"question": "Borealis Optics acquisition", "technique": "regular"}})
	if err != nil || res.IsError {
		t.Fatalf("search: %v %+v", err, res)
	}
	var found struct {
		Contexts []struct{ Source, Text string }
	}
	data, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(data, &found)
	if len(found.Contexts) == 0 || found.Contexts[0].Source != "alpha-2022.pdf" || !strings.Contains(found.Contexts[0].Text, "Borealis") {
		t.Errorf("search: %s", data)
	}
}

func TestMCPWritesOverHTTP(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MCPAllowWrites = true })
	e.do("POST", "/v1/collections", map[string]string{"name": "notes"}).ok(t, 201, nil)
	cs, err := e.mcpSession("/mcp?collection=notes")
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ingest_text", Arguments: map[string]any{"name": "quokka.md", "text": "The quokka census counted 412 animals."}})
	if err != nil || res.IsError {
		t.Fatalf("ingest_text: %v %+v", err, res)
	}
	// It went into the collection named, not the default one.
	var docs struct{ Documents []struct{ Source string } }
	e.do("GET", "/v1/collections/notes/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 1 || docs.Documents[0].Source != "quokka.md" {
		t.Errorf("notes: %+v", docs)
	}
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 0 {
		t.Errorf("default: %+v", docs)
	}
}
