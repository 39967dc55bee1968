package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/server"
)

// fuzzRoutes are the routes that decode a JSON body.
var fuzzRoutes = []string{
	"/v1/collections/default/ask",
	"/v1/collections/default/compare",
	"/v1/collections/default/eval",
	"/v1/chat/completions",
	"/v1/collections",
	"/v1/collections/default/documents?async=false",
}

// FuzzDecodeRequest sends any body to the routes that decode JSON: the
// server must not panic, must not fail with a 5xx, and must answer every
// mistake with the JSON error shape {"error": {"message", "type"}}.
// A longer run: go test -fuzz FuzzDecodeRequest -fuzztime 10m ./server
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"question": "What did Alpha Widgets acquire?", "technique": "regular"}`,
		`{"question": "x", "stream": true}`,
		`{"question": "x", "techniques": ["regular", "parent"]}`,
		`{"model": "regular", "stream": true, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}`,
		`{"question": "q", "answers": ["a"]}` + "\n" + `{"question": "r", "reference": "b"}`,
		`[{"question": "q", "answers": ["a"]}]`,
		`{"documents": [{"name": "a.md", "text": "# A\n\nSome text."}], "meta": {"k": "v"}}`,
		`{"name": "letters"}`,
		`{"question": 3}`, `{`, `[]`, `null`, ``, `{"a":1}{"b":2}`,
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	dir := f.TempDir()
	srv, err := server.New(context.Background(), server.Config{DataDir: filepath.Join(dir, "data"), NoCache: true, MaxBody: 64 << 10, MaxUpload: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close(context.Background()) })
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if path == "/v1/collections" {
			// Make no collection per input: the name comes from the body,
			// and a valid one would fill the disk over a long run.
			var req struct{ Name string }
			if json.Unmarshal(body, &req) == nil && req.Name != "" {
				return
			}
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		ct := res.Header.Get("Content-Type")
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("%s %q: %d %s", path, body, res.StatusCode, rec.Body.Bytes())
		case res.StatusCode >= 400:
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if ct != "application/json" || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("%s %q: %d without the JSON error shape: %s %s", path, body, res.StatusCode, ct, rec.Body.Bytes())
			}
		case ct == "text/event-stream":
			if !strings.HasPrefix(rec.Body.String(), "data: ") && !strings.HasPrefix(rec.Body.String(), "event: ") {
				t.Fatalf("%s %q: a stream that is not server-sent events: %s", path, body, rec.Body.Bytes())
			}
		case !json.Valid(rec.Body.Bytes()):
			t.Fatalf("%s %q: %d with a body that is not JSON: %s", path, body, res.StatusCode, rec.Body.Bytes())
		}
	})
}
