package onnx

import (
	"context"
	"fmt"
	"math"
	"net/url"

	"github.com/distill-rag/distill/model"
)

// Reranker scores query–document pairs with a cross-encoder in-process.
// It is safe for concurrent use.
type Reranker struct {
	name       string
	m          *loaded
	batch      int
	activation string
}

var _ model.Reranker = (*Reranker)(nil)

// OpenReranker loads the cross-encoder in dir. opts are the URI's
// options: file, output, activation (sigmoid, the default, or none for
// raw logits), max_tokens, batch.
func OpenReranker(ctx context.Context, name, dir string, opts url.Values) (*Reranker, error) {
	s, err := parseSettings(name, opts, rerankerOptions)
	if err != nil {
		return nil, err
	}
	m, err := open(dir, s, "logits")
	if err != nil {
		return nil, err
	}
	meta := m.net.model.OutputsMeta[m.net.output]
	if len(meta.Dimensions) != 2 || (meta.Dimensions[1] != 1 && meta.Dimensions[1] != 2) {
		m.net.close()
		return nil, &FolderError{Dir: dir, File: m.folder.onnx, Msg: fmt.Sprintf("output %q is shaped %v; a cross-encoder gives [batch, 1] logits (or [batch, 2])", meta.Name, meta.Dimensions)}
	}
	return &Reranker{name: name, m: m, batch: s.batch, activation: s.activation}, nil
}

// Name is the URI the model was opened with.
func (r *Reranker) Name() string { return r.name }

// Rerank scores each document against the query, higher meaning more
// relevant: the sigmoid of the cross-encoder's logit (as
// sentence-transformers' CrossEncoder.predict gives), or with two labels
// the probability of the second.
func (r *Reranker) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	inputs := make([]tokens, len(docs))
	for i, d := range docs {
		var err error
		if inputs[i], err = r.m.tok.encodePair(query, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
	}
	scores := make([]float64, len(docs))
	err := r.m.runSorted(ctx, inputs, r.batch, func(i int, out any) error {
		logits, ok := out.([]float32)
		if !ok || len(logits) == 0 {
			return fmt.Errorf("%s: unexpected output %T", r.name, out)
		}
		var logit float64
		if len(logits) == 2 {
			// Two classes: the margin of "relevant" over "not relevant".
			logit = float64(logits[1]) - float64(logits[0])
		} else {
			logit = float64(logits[0])
		}
		if r.activation == "sigmoid" {
			scores[i] = sigmoid(logit)
		} else {
			scores[i] = logit
		}
		if math.IsNaN(scores[i]) {
			return fmt.Errorf("%s: the model gave NaN for document %d", r.name, i)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return scores, nil
}

// Close frees the model.
func (r *Reranker) Close() error { return r.m.net.close() }
