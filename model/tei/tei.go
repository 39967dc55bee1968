// Package tei is the "tei:URL" provider: Hugging Face's
// text-embeddings-inference server, whose POST /embed takes
// {"inputs": [...]} and answers with one vector per input.
package tei

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/remote"
)

// DefaultMaxBatch is TEI's default --max-client-batch-size.
const DefaultMaxBatch = 32

func init() {
	model.RegisterEmbedder("tei", func(ctx context.Context, u model.URI) (model.Embedder, error) { return open(u) })
}

// Embedder embeds texts on a TEI server.
type Embedder struct {
	name, url string
	normalize bool
	client    *remote.Client
}

func open(u model.URI) (*Embedder, error) {
	base := strings.TrimRight(u.Target, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, &model.URIError{URI: u.Raw, Reason: "want the server's URL, e.g. tei:http://127.0.0.1:8080"}
	}
	s, err := u.Settings("normalize")
	if err != nil {
		return nil, err
	}
	e := &Embedder{name: u.Name("normalize"), url: base + "/embed", normalize: true,
		client: &remote.Client{Provider: "tei", HTTP: &http.Client{}, Policy: remote.DefaultPolicy(s)}}
	if v := u.Options.Get("normalize"); v != "" {
		if e.normalize, err = strconv.ParseBool(v); err != nil {
			return nil, &model.URIError{URI: u.Raw, Reason: "option normalize: want true or false, got " + v}
		}
	}
	return e, nil
}

func (e *Embedder) Name() string { return e.name }

// MaxBatch keeps batches within TEI's default client batch size.
func (e *Embedder) MaxBatch() int { return DefaultMaxBatch }

// Embed posts the texts to /embed; TEI truncates what is longer than the
// model's window when asked to.
func (e *Embedder) Embed(ctx context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	req := struct {
		Inputs    []string `json:"inputs"`
		Truncate  bool     `json:"truncate"`
		Normalize bool     `json:"normalize"`
	}{texts, true, e.normalize}
	var out [][]float32
	if err := e.client.PostJSON(ctx, e.url, req, &out); err != nil {
		return nil, err
	}
	if len(out) != len(texts) {
		return nil, &model.Error{Provider: "tei", Endpoint: e.url, Status: 200, Permanent: true,
			Message: "malformed answer: " + strconv.Itoa(len(out)) + " embeddings for " + strconv.Itoa(len(texts)) + " texts"}
	}
	return out, nil
}
