// Package fakererank serves reranking over HTTP the way the real servers
// do, for tests: Hugging Face TEI's POST /rerank and the Cohere-style POST
// /v1/rerank of Cohere, Jina and vLLM. It checks what those servers check
// (method, path, content type, key, fields, batch size), answers with the
// share of the query's words each document holds, best first as the real
// ones do, and counts requests. Scripted failures test the clients' errors.
package fakererank

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// Options shape a fake server.
type Options struct {
	Key      string // required as "Authorization: Bearer KEY" when set
	MaxBatch int    // most documents per request; 0 for TEI's 32 / Cohere's 1000
	// Fail makes the next Fail requests fail with FailStatus (default 503).
	Fail       int
	FailStatus int
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	requests []map[string]any
	fail     int
}

// Requests returns the bodies received, decoded.
func (s *Server) Requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.requests...)
}

// Calls is how many requests were answered or refused.
func (s *Server) Calls() int { return len(s.Requests()) }

// Score is what the fakes answer: the share of the query's distinct words
// (lower case, letters and digits) that doc holds.
func Score(query, doc string) float64 {
	q := wordSet(query)
	if len(q) == 0 {
		return 0
	}
	d := wordSet(doc)
	n := 0
	for w := range q {
		if d[w] {
			n++
		}
	}
	return float64(n) / float64(len(q))
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		m[w] = true
	}
	return m
}

// TEI starts a fake Text Embeddings Inference reranker.
func TEI(t testing.TB, opts Options) *Server {
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 32
	}
	s := &Server{opts: opts, fail: opts.Fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.accept(w, r, "/rerank", teiError)
		if !ok {
			return
		}
		query, ok1 := body["query"].(string)
		texts, ok2 := stringList(body["texts"])
		if !ok1 || !ok2 {
			teiError(w, http.StatusUnprocessableEntity, "Json deserialize error: missing field `query` or `texts`", "validation")
			return
		}
		for k := range body {
			if k != "query" && k != "texts" && k != "truncate" && k != "raw_scores" && k != "return_text" && k != "truncation_direction" {
				teiError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Json deserialize error: unknown field `%s`", k), "validation")
				return
			}
		}
		if len(texts) == 0 {
			teiError(w, http.StatusUnprocessableEntity, "`texts` cannot be empty", "empty")
			return
		}
		if len(texts) > s.opts.MaxBatch {
			teiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("batch size %d > maximum allowed batch size %d", len(texts), s.opts.MaxBatch), "validation")
			return
		}
		type result struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
		}
		var out []result
		for i, tx := range texts {
			out = append(out, result{i, Score(query, tx)})
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].Score > out[b].Score })
		writeJSON(w, http.StatusOK, out)
	}))
	t.Cleanup(s.Close)
	return s
}

// Cohere starts a fake Cohere-style /v1/rerank server. requireModel makes
// it refuse a request without a model, as Cohere and Jina do (vLLM serves
// its one model without).
func Cohere(t testing.TB, opts Options, requireModel bool) *Server {
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 1000
	}
	s := &Server{opts: opts, fail: opts.Fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.accept(w, r, "/v1/rerank", cohereError)
		if !ok {
			return
		}
		query, ok1 := body["query"].(string)
		docs, ok2 := stringList(body["documents"])
		if !ok1 || !ok2 || query == "" {
			cohereError(w, http.StatusBadRequest, "invalid request: query and documents (a list of strings) are required", "")
			return
		}
		modelName, _ := body["model"].(string)
		if requireModel && modelName == "" {
			cohereError(w, http.StatusBadRequest, "invalid request: model is required", "")
			return
		}
		if len(docs) > s.opts.MaxBatch {
			cohereError(w, http.StatusBadRequest, fmt.Sprintf("invalid request: too many documents, got %d, max %d", len(docs), s.opts.MaxBatch), "")
			return
		}
		topN := len(docs)
		if v, ok := body["top_n"].(float64); ok {
			if v < 1 {
				cohereError(w, http.StatusBadRequest, "invalid request: top_n must be at least 1", "")
				return
			}
			topN = min(topN, int(v))
		}
		type result struct {
			Index          int               `json:"index"`
			RelevanceScore float64           `json:"relevance_score"`
			Document       map[string]string `json:"document,omitempty"`
		}
		var out []result
		for i, d := range docs {
			res := result{Index: i, RelevanceScore: Score(query, d)}
			if rd, _ := body["return_documents"].(bool); rd {
				res.Document = map[string]string{"text": d}
			}
			out = append(out, res)
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].RelevanceScore > out[b].RelevanceScore })
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "fake-rerank", "results": out[:topN],
			"meta": map[string]any{"billed_units": map[string]int{"search_units": 1}},
		})
	}))
	t.Cleanup(s.Close)
	return s
}

// accept checks what every request must be and decodes its body.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, path string, fail func(http.ResponseWriter, int, string, string)) (map[string]any, bool) {
	if r.URL.Path != path {
		fail(w, http.StatusNotFound, "no route "+r.URL.Path, "")
		return nil, false
	}
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "method not allowed", "")
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got "+ct, "")
		return nil, false
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fail(w, http.StatusBadRequest, "invalid JSON: "+err.Error(), "")
		return nil, false
	}
	s.mu.Lock()
	s.requests = append(s.requests, body)
	failNow := s.fail > 0
	if failNow {
		s.fail--
	}
	s.mu.Unlock()
	if s.opts.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Key {
		fail(w, http.StatusUnauthorized, "invalid api token", "")
		return nil, false
	}
	if failNow {
		status := s.opts.FailStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		fail(w, status, "model is overloaded", "overloaded")
		return nil, false
	}
	return body, true
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, x := range list {
		if out[i], ok = x.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

func teiError(w http.ResponseWriter, status int, msg, typ string) {
	if typ == "" {
		typ = "validation"
	}
	writeJSON(w, status, map[string]string{"error": msg, "error_type": typ})
}

func cohereError(w http.ResponseWriter, status int, msg, _ string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
