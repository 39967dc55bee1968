// Package rerank holds the reranker providers: cross-encoder models served
// over HTTP, behind Hugging Face Text Embeddings Inference's /rerank
// ("tei:http://host:8080", also "tei-rerank:") and the Cohere-style
// /v1/rerank that Cohere ("cohere:rerank-v3.5"), Jina
// ("jina:jina-reranker-v2-base-multilingual") and vLLM
// ("vllm:http://host:8000?model=BAAI/bge-reranker-v2-m3") serve.
//
// Options common to all: key_env (the environment variable holding the API
// key), timeout (per attempt, e.g. 30s), retries and backoff (as for every
// model provider), batch (most documents per request).
package rerank

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/remote"
)

func init() {
	model.RegisterReranker("tei", openTEI)
	model.RegisterReranker("tei-rerank", openTEI)
	model.RegisterReranker("cohere", openCohereStyle("https://api.cohere.com", "COHERE_API_KEY", true))
	model.RegisterReranker("jina", openCohereStyle("https://api.jina.ai", "JINA_API_KEY", true))
	model.RegisterReranker("vllm", openCohereStyle("", "", false))
}

// client is what every provider shares: the endpoint, the key, limits,
// and the retrying JSON client every model provider uses.
type client struct {
	name     string       // the URI, for Name and errors
	endpoint string       // full URL of the rerank route
	batch    atomic.Int64 // documents per request
	remote   *remote.Client
}

// Defaults of the options every reranker takes.
const (
	defaultTimeout = 60 * time.Second
	defaultRetries = model.DefaultAttempts - 1
)

// commonOptions reads the options every provider takes.
func commonOptions(u model.URI, defaultKeyEnv string, defaultBatch int) (c *client, err error) {
	policy := remote.Policy{Attempts: defaultRetries + 1, Timeout: defaultTimeout, Base: model.DefaultBackoff, Max: 30 * time.Second}
	c = &client{name: u.Raw, remote: &remote.Client{Provider: u.Scheme, HTTP: &http.Client{}, Header: http.Header{}}}
	c.batch.Store(int64(defaultBatch))
	for k := range u.Options {
		switch k {
		case "key_env", "timeout", "retries", "backoff", "batch", "model", "url", "truncate":
		default:
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("unknown option %q (known: backoff, batch, key_env, model, retries, timeout, truncate, url)", k)}
		}
	}
	if v := u.Options.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("timeout=%s: want a duration such as 30s", v)}
		}
		policy.Timeout = d
	}
	if v := u.Options.Get("backoff"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("backoff=%s: want a duration such as 500ms", v)}
		}
		policy.Base = d
	}
	if v := u.Options.Get("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 20 {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("retries=%s: want a whole number from 0 to 20", v)}
		}
		policy.Attempts = n + 1
	}
	c.remote.Policy = policy
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
		key := os.Getenv(keyEnv)
		if key == "" {
			return c, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("no API key: set $%s", keyEnv)}
		}
		c.remote.Header.Set("Authorization", "Bearer "+key)
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

// post sends a JSON request and decodes a JSON answer, retrying as every
// model provider does (429, 5xx, timeouts, cut connections; Retry-After
// honoured). Failures are model.Errors naming the scheme, the endpoint's
// URL and the status, with the server's message.
func (c *client) post(ctx context.Context, body, out any) error {
	return c.remote.PostJSON(ctx, c.endpoint, body, out)
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
