package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/goleak"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/server"
)

var (
	spec    *openapi3.T
	router  routers.Router
	covered = struct {
		sync.Mutex
		ops map[string]bool // "METHOD /path" answered with a 2xx
	}{ops: map[string]bool{}}
)

func TestMain(m *testing.M) {
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	var err error
	spec, err = openapi3.NewLoader().LoadFromData(server.OpenAPI())
	if err == nil {
		err = spec.Validate(context.Background())
	}
	if err == nil {
		router, err = legacy.NewRouter(spec)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi.json:", err)
		os.Exit(1)
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	// No goroutine outlives the tests: servers, streams, jobs and model
	// calls all end. Idle keep-alive connections of the clients are not
	// the server's; close them first.
	if code == 0 {
		if err := findLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	// With every test run, every route must have answered successfully at
	// least once: each route has a test.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		var missing []string
		for path, item := range spec.Paths.Map() {
			for method := range item.Operations() {
				if !covered.ops[method+" "+path] {
					missing = append(missing, method+" "+path)
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "routes no test called successfully: %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// validating checks every response the tests receive against the OpenAPI
// document: its route, status and body shape.
type validating struct {
	t    testing.TB
	base http.RoundTripper
}

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := v.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	check(v.t, req, reqBody, resp, body)
	return resp, nil
}

func check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	t.Helper()
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		// Only unknown routes and methods may miss the document, and they
		// still answer with the JSON error.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s: not in openapi.json (%v) but answered %d", req.Method, req.URL.Path, err, resp.StatusCode)
		}
		checkErrorBody(t, req, resp, body)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: false},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, not as openapi.json says: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, shortBody(body))
	}
	// Errors answer with the default response, the Error schema, unless
	// the document says otherwise (as /readyz does for 503).
	if resp.StatusCode < 300 {
		covered.Lock()
		covered.ops[req.Method+" "+route.Path] = true
		covered.Unlock()
	}
}

func checkErrorBody(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	var e struct {
		Error struct{ Message, Type string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s answered %d without a JSON error body: %s", req.Method, req.URL.Path, resp.StatusCode, shortBody(body))
	}
}

func shortBody(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// env is a running test server.
type env struct {
	t      *testing.T
	srv    *server.Server
	url    string
	key    string
	client *http.Client
	cfg    server.Config
}

// start serves a new data directory; opts adjust the configuration.
func start(t *testing.T, opts ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{DataDir: filepath.Join(t.TempDir(), "data"), NoCache: true}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background())
	})
	e := &env{t: t, srv: srv, url: ts.URL, cfg: cfg, client: &http.Client{Transport: validating{t, http.DefaultTransport}}}
	if len(cfg.APIKeys) > 0 {
		e.key = cfg.APIKeys[0]
	}
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; a body that is not []byte or a reader is sent as JSON.
func (e *env) do(method, path string, body any, header ...string) *response {
	e.t.Helper()
	var r io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	case *multipartBody:
		r, ct = bytes.NewReader(b.buf.Bytes()), b.contentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// ok requires status want and decodes the body into v (when not nil).
func (r *response) ok(t *testing.T, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, shortBody(r.body))
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", shortBody(r.body), err)
		}
	}
}

func (r *response) errorType() string {
	var e struct{ Error struct{ Type string } }
	json.Unmarshal(r.body, &e)
	return e.Error.Type
}

type multipartBody struct {
	buf         bytes.Buffer
	contentType string
}

// multipartFiles builds a multipart upload of files (name, content) and
// fields (name, value) pairs.
func multipartFiles(t testing.TB, files map[string][]byte, fields ...string) *multipartBody {
	t.Helper()
	mb := &multipartBody{}
	w := multipart.NewWriter(&mb.buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fw, err := w.CreateFormFile("file", n)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(files[n])
	}
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	w.Close()
	mb.contentType = w.FormDataContentType()
	return mb
}

var (
	lettersOnce sync.Once
	letters     map[string][]byte
)

// letterFiles are testsupport.Letters as PDF bytes.
func letterFiles(t testing.TB) map[string][]byte {
	lettersOnce.Do(func() {
		dir, err := os.MkdirTemp("", "distill-server-letters-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		letters = map[string][]byte{}
		for name, pages := range testsupport.Letters {
			data, err := os.ReadFile(testsupport.PDF(t, dir, name, name, pages...))
			if err != nil {
				t.Fatal(err)
			}
			letters[name] = data
		}
	})
	return letters
}

// withLetters uploads the letters to the default collection.
func (e *env) withLetters() *env {
	e.t.Helper()
	var rep struct{ Files []struct{ Status string } }
	e.do("POST", "/v1/collections/default/documents?async=false", multipartFiles(e.t, letterFiles(e.t))).ok(e.t, 200, &rep)
	for _, f := range rep.Files {
		if f.Status != "added" {
			e.t.Fatalf("upload: %+v", rep)
		}
	}
	return e
}

// event is one server-sent event.
type event struct {
	name string
	data string
}

// readEvents reads server-sent events until the stream ends.
func readEvents(t testing.TB, r io.Reader) []event {
	t.Helper()
	var out []event
	var cur event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" || cur.name != "" {
				out = append(out, cur)
			}
			cur = event{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data += strings.TrimPrefix(line, "data: ")
		default:
			t.Errorf("unexpected line in event stream: %q", line)
		}
	}
	return out
}

// findLeaks reports goroutines that outlive the tests. Idle keep-alive
// connections of the test clients are not the server's: a connection whose
// response body was closed just before the last test ended can reach the
// idle pool after a first CloseIdleConnections, so close them again on
// every attempt rather than once.
func findLeaks() error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		if err = goleak.Find(); err == nil { // Find itself retries for a while
			return nil
		}
	}
	return err
}
