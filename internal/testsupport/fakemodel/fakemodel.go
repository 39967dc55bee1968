// Package fakemodel runs in-process fakes of the model servers distill
// talks to: OpenAI-compatible, Ollama, TEI, SageMaker (whose Hugging Face
// containers speak TGI's protocol, reproduced here) and Bedrock.
// Each speaks its real wire protocol and checks what the real server
// would: paths, JSON bodies (unknown or missing fields are refused),
// headers, keys, and for SageMaker and Bedrock a valid SigV4 signature
// with the right service and region in its scope. Faults (401, 429 with
// Retry-After, 500, hangs, malformed or truncated JSON) can be scripted per
// request, and every request is recorded.
//
//	srv := fakemodel.OpenAI(t, fakemodel.Reply("Paris [1]."), fakemodel.Faults(fakemodel.Status(429, "1")))
//	llm, _ := model.OpenLLM(ctx, srv.URI("gpt-4o-mini"))
//	... srv.Calls(), srv.Prompts(), srv.Requests()
package fakemodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Server is a running fake.
type Server struct {
	URL string
	cfg config
	uri func(target string) string

	mu          sync.Mutex
	requests    []Request
	prompts     []string
	llmCalls    int
	inFlight    int
	maxInFlight int
	embedCalls  int
	canceled    int
}

// Request is a request the fake received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// JSON decodes the request's body.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

type config struct {
	replies          []string
	replyFunc        func(prompt string) string
	dim              int
	promptTokens     int
	completionTokens int
	faults           []Fault
	latency          time.Duration
	apiKey           string
	models           []string
	maxBatch         int
	onRequest        func(Request)
}

// Option configures a fake.
type Option func(*config)

// Reply scripts the answers: the first call gets the first text, and so
// on; the last one repeats.
func Reply(texts ...string) Option { return func(c *config) { c.replies = texts } }

// ReplyFunc answers each prompt (all message texts joined) with f's result.
func ReplyFunc(f func(prompt string) string) Option { return func(c *config) { c.replyFunc = f } }

// Dim sets the embedding dimension (default 8).
func Dim(n int) Option { return func(c *config) { c.dim = n } }

// Usage sets the token counts a generation reports (default 100 and 20).
func Usage(prompt, completion int) Option {
	return func(c *config) { c.promptTokens, c.completionTokens = prompt, completion }
}

// Latency delays every answer.
func Latency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// APIKey makes the fake refuse requests without "Authorization: Bearer key".
func APIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// Models makes the fake know only these models (or endpoints); others get
// the server's "not found" answer.
func Models(names ...string) Option { return func(c *config) { c.models = names } }

// MaxBatch makes the fake refuse requests with more texts than n, as
// TEI does beyond its --max-client-batch-size.
func MaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// OnRequest calls f with every request before it is answered (f may block,
// e.g. to hold requests until several are in flight).
func OnRequest(f func(Request)) Option { return func(c *config) { c.onRequest = f } }

// Fault is what the fake does instead of answering one request.
type Fault struct {
	Status     int    // answer with this status and an error body
	RetryAfter string // Retry-After header value
	Message    string
	Hang       bool // never answer; the client must give up
	BadJSON    bool // answer 200 with a body that is not JSON
	Truncate   bool // answer 200 with the first half of the right body
}

// Status is a fault answering status, with a Retry-After when given.
func Status(status int, retryAfter string) Fault {
	return Fault{Status: status, RetryAfter: retryAfter}
}

// Faults scripts faults for the first requests, in order; a zero Fault
// lets that request through.
func Faults(f ...Fault) Option { return func(c *config) { c.faults = f } }

// Hang is a fault that never answers.
var Hang = Fault{Hang: true}

// BadJSON is a fault answering with a body that is not JSON.
var BadJSON = Fault{BadJSON: true}

// Truncated is a fault answering with half of the right body.
var Truncated = Fault{Truncate: true}

func newServer(t testing.TB, opts []Option, handler func(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault)) *Server {
	t.Helper()
	s := &Server{cfg: config{dim: 8, promptTokens: 100, completionTokens: 20}}
	for _, o := range opts {
		o(&s.cfg)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, req)
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if s.cfg.onRequest != nil {
			s.cfg.onRequest(req)
		}
		var fault Fault
		if n < len(s.cfg.faults) {
			fault = s.cfg.faults[n]
		}
		if fault.Hang {
			<-r.Context().Done()
			s.countCanceled()
			return
		}
		if s.cfg.latency > 0 {
			select {
			case <-time.After(s.cfg.latency):
			case <-r.Context().Done():
				s.countCanceled()
				return
			}
		}
		handler(s, w, r, req, fault)
	}))
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	s.URL = ts.URL
	return s
}

// URI returns the model URI that reaches the fake for target (a model,
// endpoint or model ID), e.g. "openai:gpt-4o-mini?base_url=http://...".
func (s *Server) URI(target string) string { return s.uri(target) }

// Calls is the number of requests received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns the requests received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Last returns the last request received.
func (s *Server) Last() Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}
	}
	return s.requests[len(s.requests)-1]
}

// Prompts returns the prompts of the generations answered.
func (s *Server) Prompts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.prompts...)
}

// Canceled is the number of requests whose client went away (the request's
// context ended) while the fake hung or waited out its latency.
func (s *Server) Canceled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.canceled
}

func (s *Server) countCanceled() {
	s.mu.Lock()
	s.canceled++
	s.mu.Unlock()
}

// EmbedCalls is the number of embedding requests answered.
func (s *Server) EmbedCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.embedCalls
}

// MaxInFlight is the most requests the fake held at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// reply is the answer to a generation's prompt.
func (s *Server) reply(prompt string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prompts = append(s.prompts, prompt)
	k := s.llmCalls
	s.llmCalls++
	if s.cfg.replyFunc != nil {
		return s.cfg.replyFunc(prompt)
	}
	if len(s.cfg.replies) == 0 {
		return "This is the fake model's answer [1]."
	}
	return s.cfg.replies[min(k, len(s.cfg.replies)-1)]
}

func (s *Server) countEmbed() {
	s.mu.Lock()
	s.embedCalls++
	s.mu.Unlock()
}

func (s *Server) knows(name string) bool {
	if len(s.cfg.models) == 0 {
		return true
	}
	for _, m := range s.cfg.models {
		if m == name {
			return true
		}
	}
	return false
}

// Tokens splits a reply into the pieces a server would stream: words with
// their leading space.
func Tokens(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if i > start && r == ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// Vector is the fake's embedding of text: words hashed into dim buckets
// with a sign, normalized, so texts that share words are close and the
// same text always gets the same vector.
func Vector(text string, dim int) []float32 {
	v := make([]float32, dim)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		h := fnv.New64a()
		h.Write([]byte(w))
		x := h.Sum64()
		sign := float32(1)
		if x>>63 == 1 {
			sign = -1
		}
		v[int(x%uint64(dim))] += sign
	}
	var norm float64
	for _, x := range v {
		norm += float64(x * x)
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}

// writeJSON answers v, or the fault's broken version of it.
func writeJSON(w http.ResponseWriter, status int, v any, fault Fault) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case fault.BadJSON:
		data = []byte("<html>502 Bad Gateway</html>")
	case fault.Truncate:
		data = data[:len(data)/2]
	}
	w.WriteHeader(status)
	w.Write(data)
}

// decodeStrict decodes a JSON body into v, refusing unknown fields, as
// strict servers (TGI, TEI, Bedrock) do.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid request body: %v", err)
	}
	return nil
}

func sseWrite(w http.ResponseWriter, data string) {
	fmt.Fprintf(w, "data: %s\n\n", data)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
