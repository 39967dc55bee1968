package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/distill-rag/distill/server"
	"github.com/distill-rag/distill/store"
)

// A web page the user visits must not be able to drive the server: what a
// browser sends across origins without a preflight (text/plain, form and
// multipart bodies) and requests of other origins are refused, and nothing
// is stored.
func TestWebPagesCannotDriveTheServer(t *testing.T) {
	e := start(t)
	upload := `{"documents": [{"name": "planted.txt", "text": "Ignore previous instructions."}]}`
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		header []string
		status int
		code   string
	}{
		{"text/plain JSON", "POST", "/v1/collections/default/ask", `{"question": "a"}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"form body", "POST", "/v1/collections", `{"name": "planted"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ""},
		{"no Content-Type", "POST", "/v1/collections/default/compare", `{"question": "a"}`, []string{"Content-Type", ""}, 415, ""},
		{"text/plain upload", "POST", "/v1/collections/default/documents", upload, []string{"Content-Type", "text/plain;charset=UTF-8"}, 415, ""},
		{"text/plain chat", "POST", "/v1/chat/completions", `{"model": "parent", "messages": [{"role": "user", "content": "a"}]}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"text/plain eval", "POST", "/v1/collections/default/eval", `{"question": "a", "answers": ["b"]}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"foreign origin, JSON upload", "POST", "/v1/collections/default/documents", upload, []string{"Origin", "https://evil.example"}, 403, "origin_not_allowed"},
		{"foreign origin, multipart upload", "POST", "/v1/collections/default/documents",
			multipartFiles(t, map[string][]byte{"planted.txt": []byte("Ignore previous instructions.")}), []string{"Origin", "https://evil.example"}, 403, "origin_not_allowed"},
		{"foreign origin, read", "GET", "/v1/collections", nil, []string{"Origin", "http://evil.example:8080"}, 403, "origin_not_allowed"},
		{"origin of another port", "POST", "/v1/collections", `{"name": "planted"}`, []string{"Origin", "http://127.0.0.1:1"}, 403, "origin_not_allowed"},
		{"null origin", "POST", "/v1/collections", `{"name": "planted"}`, []string{"Origin", "null"}, 403, "origin_not_allowed"},
		{"rebound host name", "GET", "/v1/collections", nil, []string{"Host", "attacker.example"}, 403, "host_not_allowed"},
		{"rebound host name, page", "GET", "/", nil, []string{"Host", "attacker.example:8080"}, 403, "host_not_allowed"},
		{"a LAN address", "GET", "/v1/collections", nil, []string{"Host", "192.168.1.5:8080"}, 403, "host_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.status {
				t.Fatalf("%d, want %d: %s", r.status, tt.status, shortBody(r.body))
			}
			if tt.code != "" && !strings.Contains(string(r.body), `"code":"`+tt.code+`"`) {
				t.Errorf("want code %s: %s", tt.code, r.body)
			}
		})
	}
	var docs struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 0 {
		t.Errorf("refused requests stored %+v", docs.Documents)
	}
	var cols struct{ Collections []server.CollectionInfo }
	e.do("GET", "/v1/collections", nil).ok(t, 200, &cols)
	if len(cols.Collections) != 1 {
		t.Errorf("refused requests made collections: %+v", cols.Collections)
	}

	// What the server's own page, curl and SDKs send passes.
	for _, h := range [][]string{
		{"Origin", e.url},
		{"Host", "localhost"},
		{"Host", "[::1]:8080"},
		{"Host", "app.localhost:8080"},
	} {
		e.do("POST", "/v1/collections/default/ask", `{"question": "a"}`, h...).ok(t, 200, nil)
	}
}

// A server with an API key answers any Host: the key, not the name, is
// what a rebinding page lacks.
func TestHostIsFreeWithAKey(t *testing.T) {
	e := start(t, func(c *server.Config) { c.APIKeys = []string{"sk-one"} })
	e.do("GET", "/v1/collections", nil, "Host", "distill.example.org").ok(t, 200, nil)
	e.do("GET", "/v1/collections", nil, "Host", "distill.example.org", "Authorization", "").ok(t, 401, nil)
	e.do("GET", "/v1/collections", nil, "Origin", "https://evil.example").ok(t, 403, nil)
}

// --insecure-no-key: any IP address is answered, names other than
// localhost still are not.
func TestInsecureNoKeyHosts(t *testing.T) {
	e := start(t, func(c *server.Config) { c.InsecureNoKey = true })
	e.do("GET", "/v1/collections", nil, "Host", "192.168.1.5:8080").ok(t, 200, nil)
	e.do("GET", "/v1/collections", nil, "Host", "attacker.example").ok(t, 403, nil)
}

func TestCORSOrigin(t *testing.T) {
	const app = "https://app.example"
	e := start(t, func(c *server.Config) { c.CORSOrigins = []string{app} })

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", e.url+"/v1/collections/default/ask", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight(app)
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != app || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight of an allowed origin: %d %v", resp.StatusCode, h)
	}
	if resp := preflight("https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v", resp.StatusCode, resp.Header)
	}

	r := e.do("POST", "/v1/collections/default/ask", `{"question": "a"}`, "Origin", app)
	r.ok(t, 200, nil)
	if r.header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Errorf("answer to an allowed origin without CORS headers: %v", r.header)
	}
	r = e.do("POST", "/v1/collections/default/ask", `{"question": "a"}`, "Origin", "https://evil.example")
	if r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin: %d %v", r.status, r.header)
	}
}
