// Package rerank holds the reranker providers: cross-encoder models served
// over HTTP, behind Hugging Face Text Embeddings Inference's /rerank
// ("tei:http://host:8080", also "tei-rerank:") and the Cohere-style
// /v1/rerank that Cohere ("cohere:rerank-v3.5"), Jina
// ("jina:jina-reranker-v2-base-multilingual") and vLLM
// ("vllm:http://host:8000?model=BAAI/bge-reranker-v2-m3") serve.
//
// Options common to all: key_env (the environment variable holding the API
// key), timeout (per request, e.g. 30s), batch (most documents per request).
package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/distill-rag/distill/model"
)

func init() {
	model.RegisterReranker("tei", openTEI)
	model.RegisterReranker("tei-rerank", openTEI)
	model.RegisterReranker("cohere", openCohereStyle("https://api.cohere.com", "COHERE_API_KEY", true))
	model.RegisterReranker("jina", openCohereStyle("https://api.jina.ai", "JINA_API_KEY", true))
	model.RegisterReranker("vllm", openCohereStyle("", "", false))
}

// client is what every provider shares: the endpoint, the key, limits.
type client struct {
	name     string // the URI, for Name and errors
	endpoint string // full URL of the rerank route
	key      string
	batch    atomic.Int64 // documents per request
	http     *http.Client
}

// commonOptions reads the options every provider takes.
func commonOptions(u model.URI, defaultKeyEnv string, defaultBatch int) (c *client, err error) {
	c = &client{name: u.Raw, http: &http.Client{Timeout: 60 * time.Second}}
	c.batch.Store(int64(defaultBatch))
	for k := range u.Options {
		switch k {
		case "key_env", "timeout", "batch", "model", "url", "truncate":
		default:
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("unknown option %q (known: batch, key_env, model, timeout, truncate, url)", k)}
		}
	}
	if v := u.Options.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("timeout=%s: want a duration such as 30s", v)}
		}
		c.http.Timeout = d
	}
	if v := u.Options.Get("batch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("batch=%s: want a positive number of documents", v)}
		}
		c.batch.Store(int64(n))
	}
	keyEnv := defaultKeyEnv
	if v := u.Options.Get("key_env"); v != "" {
		keyEnv = v
	}
	if keyEnv != "" {
		c.key = os.Getenv(keyEnv)
		if c.key == "" {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("no API key: set $%s", keyEnv)}
		}
	}
	return c, nil
}

// baseURL checks a server URL given as a target or an option.
func baseURL(raw, uri string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &model.URIError{URI: uri, Reason: fmt.Sprintf("%q is not an http(s) URL of the server", raw)}
	}
	return strings.TrimRight(raw, "/"), nil
}

func (c *client) Name() string { return c.name }

// post sends a JSON request and decodes a JSON answer, turning an error
// status into an error that carries the server's message.
func (c *client) post(ctx context.Context, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", c.name, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{URI: c.name, Status: resp.Status, Code: resp.StatusCode, Message: serverMessage(raw)}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: unexpected answer (%v): %.200s", c.name, err, raw)
	}
	return nil
}

// StatusError is an error status from a reranking server.
type StatusError struct {
	URI     string
	Status  string
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: %s", e.URI, e.Status)
	}
	return fmt.Sprintf("%s: %s: %s", e.URI, e.Status, e.Message)
}

// serverMessage finds the message in an error body: TEI's {"error": ...},
// Cohere's {"message": ...}, vLLM's {"error": {"message": ...}} or
// FastAPI's {"detail": ...}; else the body itself, shortened.
func serverMessage(raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil {
		for _, k := range []string{"error", "message", "detail"} {
			v, ok := m[k]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				return s
			}
			var nested struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(v, &nested) == nil && nested.Message != "" {
				return nested.Message
			}
			return string(v)
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// scoresFrom places results given as (index, score) into a slice in the
// order of the documents, checking that each document got one score.
func scoresFrom(name string, n, offset int, results []indexScore, out []float64, seen []bool) error {
	for _, r := range results {
		if r.Index < 0 || r.Index >= n {
			return fmt.Errorf("%s: answer names document %d of %d", name, r.Index, n)
		}
		out[offset+r.Index] = r.Score
		seen[offset+r.Index] = true
	}
	for i := offset; i < offset+n; i++ {
		if !seen[i] {
			return fmt.Errorf("%s: answer has no score for document %d", name, i-offset)
		}
	}
	return nil
}

type indexScore struct {
	Index int
	Score float64
}

// inBatches scores docs batch by batch with score, which returns the
// (index, score) pairs of one batch.
func (c *client) inBatches(ctx context.Context, docs []string, score func(ctx context.Context, batch []string) ([]indexScore, error)) ([]float64, error) {
	out := make([]float64, len(docs))
	seen := make([]bool, len(docs))
	batch := int(c.batch.Load())
	for start := 0; start < len(docs); start += batch {
		end := min(start+batch, len(docs))
		res, err := score(ctx, docs[start:end])
		if err != nil {
			return nil, err
		}
		if err := scoresFrom(c.name, end-start, start, res, out, seen); err != nil {
			return nil, err
		}
	}
	return out, nil
}
