package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// route is one operation of the API. The table is the one source of truth
// for what is served, and a test holds the OpenAPI document to it.
type route struct {
	Method  string
	Path    string // a net/http pattern path, e.g. /v1/collections/{collection}
	handler http.HandlerFunc
	public  bool // served without an API key
	upload  bool // a document upload: MaxUpload and UploadTimeout apply
	openai  bool // errors in OpenAI's shape (the same JSON, with param and code)
	writes  bool // changes collections: refused by a read-only server
}

func (s *Server) routeTable() []route {
	return []route{
		{Method: "GET", Path: "/", handler: s.page, public: true},
		{Method: "GET", Path: "/healthz", handler: s.healthz, public: true},
		{Method: "GET", Path: "/readyz", handler: s.readyz, public: true},
		{Method: "GET", Path: "/metrics", handler: s.metrics.serve},
		{Method: "GET", Path: "/openapi.json", handler: s.openAPI},

		{Method: "GET", Path: "/v1/techniques", handler: s.listTechniques},
		{Method: "GET", Path: "/v1/collections", handler: s.listCollections},
		{Method: "POST", Path: "/v1/collections", handler: s.createCollection, writes: true},
		{Method: "GET", Path: "/v1/collections/{collection}", handler: s.getCollection},
		{Method: "DELETE", Path: "/v1/collections/{collection}", handler: s.deleteCollection, writes: true},
		{Method: "GET", Path: "/v1/collections/{collection}/documents", handler: s.listDocuments},
		{Method: "POST", Path: "/v1/collections/{collection}/documents", handler: s.addDocuments, upload: true, writes: true},
		{Method: "GET", Path: "/v1/collections/{collection}/documents/{doc_id}", handler: s.getDocument},
		{Method: "DELETE", Path: "/v1/collections/{collection}/documents/{doc_id}", handler: s.deleteDocument, writes: true},
		{Method: "GET", Path: "/v1/collections/{collection}/documents/{doc_id}/pages/{page}", handler: s.getPage},
		{Method: "POST", Path: "/v1/collections/{collection}/ask", handler: s.ask},
		{Method: "POST", Path: "/v1/collections/{collection}/compare", handler: s.compare},
		{Method: "POST", Path: "/v1/collections/{collection}/eval", handler: s.evalQA},
		{Method: "GET", Path: "/v1/jobs/{job_id}", handler: s.getJob},

		{Method: "POST", Path: "/v1/chat/completions", handler: s.chatCompletions, openai: true},
		{Method: "GET", Path: "/v1/models", handler: s.listModels, openai: true},

		{Method: "POST", Path: "/mcp", handler: s.mcpHandler()},
	}
}

// buildHandler registers the routes, each wrapped in what every request
// goes through: metrics, authentication, body limit and timeout. Paths
// answer other methods with 405 and unknown paths with 404, in JSON.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range s.routes {
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	allowed := func(path string) string { return strings.Join(append(methods[path], "HEAD"), ", ") }
	for _, rt := range s.routes {
		pattern := rt.Method + " " + rt.Path
		if rt.Path == "/" {
			pattern = rt.Method + " /{$}"
		}
		mux.Handle(pattern, s.wrap(rt, pattern, allowed(rt.Path)))
	}
	for path := range methods {
		allow := allowed(path)
		p := path
		if p == "/" {
			p = "/{$}"
		}
		mux.Handle(p, s.wrap(route{Path: path, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, &apiError{Status: http.StatusMethodNotAllowed, Type: typeInvalidRequest,
				Message: r.Method + " is not allowed on " + path + " (allowed: " + allow + ")"})
		}}, p, allow))
	}
	mux.Handle("/", s.wrap(route{Path: "unmatched", public: false, handler: func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, notFound("no route %s %s; see /openapi.json", r.Method, r.URL.Path))
	}}, "unmatched", ""))
	return mux
}

func (s *Server) wrap(rt route, label, allow string) http.Handler {
	limit, timeout := s.cfg.MaxBody, s.cfg.RequestTimeout
	if rt.upload {
		limit, timeout = s.cfg.MaxUpload, s.cfg.UploadTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		var span trace.Span
		r, span = startRequestSpan(r, label)
		defer func() { endRequestSpan(span, rec.status) }()
		s.metrics.inflight.Inc()
		defer func() {
			s.metrics.inflight.Dec()
			s.metrics.requests.WithLabelValues(label, strconv.Itoa(rec.status)).Inc()
			s.metrics.latency.WithLabelValues(label).Observe(time.Since(start).Seconds())
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", time.Since(start).Milliseconds())
		}()
		if !s.guard(rec, r, allow) {
			return
		}
		if !rt.public && !s.authorized(r) {
			s.writeError(rec, r, &apiError{Status: http.StatusUnauthorized, Type: typeAuthentication,
				Message: "missing or wrong API key: send it as Authorization: Bearer KEY", Code: "invalid_api_key"})
			return
		}
		if rt.writes && s.cfg.ReadOnly {
			s.writeError(rec, r, &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "read_only",
				Message: "the server is read-only (serve --read-only): collections can be searched but not changed"})
			return
		}
		limit := limit
		if rt.upload && !isMultipart(r) {
			limit = min(limit, s.cfg.MaxInFlight) // JSON is decoded in memory
		}
		if r.ContentLength > limit {
			s.writeError(rec, r, tooLarge(limit, rt.upload))
			return
		}
		if mem := memoryBody(r, limit); mem > 0 {
			if !s.inflight.take(mem) {
				s.writeError(rec, r, busy(time.Second, "the server holds as many request bodies in memory as it may (%d bytes, --max-inflight); try again shortly", s.cfg.MaxInFlight))
				return
			}
			defer s.inflight.give(mem)
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(rec, &slowBody{body: r.Body, rc: http.NewResponseController(rec), start: time.Now(),
				timeout: s.cfg.BodyTimeout, minRate: s.cfg.BodyMinRate}, limit)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rt.handler(rec, r.WithContext(ctx))
	})
}

// recorder notes the status a handler wrote, for metrics and logs. It
// unwraps for http.ResponseController, which streaming uses to flush.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// hashKey hashes an API key so that comparisons take the same time
// whatever the length of the key tried.
func hashKey(k string) [32]byte { return sha256.Sum256([]byte(k)) }

func (s *Server) authorized(r *http.Request) bool {
	if len(s.keys) == 0 {
		return true
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := hashKey(strings.TrimSpace(token))
	match := 0
	for _, k := range s.keys {
		match |= subtle.ConstantTimeCompare(got[:], k[:])
	}
	return match == 1
}

// Routes lists the served operations as "METHOD /path", sorted.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routes {
		out = append(out, rt.Method+" "+rt.Path)
	}
	sort.Strings(out)
	return out
}

func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// tooLarge is the answer to a body over its limit.
func tooLarge(limit int64, upload bool) *apiError {
	msg := fmt.Sprintf("the request body is over the limit of %d bytes", limit)
	if upload {
		msg += "; send large documents as multipart/form-data, which the server streams to disk (up to --max-upload)"
	}
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge, Message: msg}
}
