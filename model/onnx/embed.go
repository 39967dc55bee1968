package onnx

import (
	"context"
	"fmt"
	"net/url"

	"github.com/distill-rag/distill/model"
)

// Embedder computes sentence embeddings in-process. It is safe for
// concurrent use.
type Embedder struct {
	name        string
	m           *loaded
	pooling     Pooling
	normalize   bool
	queryPrefix string
	docPrefix   string
	batch       int
}

var _ model.Embedder = (*Embedder)(nil)

// OpenEmbedder loads the embedding model in dir. name is what Name
// reports (the URI the user gave); opts are the URI's options: file,
// output, pooling, normalize, query_prefix, doc_prefix, max_tokens, batch.
func OpenEmbedder(ctx context.Context, name, dir string, opts url.Values) (*Embedder, error) {
	s, err := parseSettings(name, opts, embedderOptions)
	if err != nil {
		return nil, err
	}
	// Token vectors are pooled here; a graph that also outputs a pooled
	// vector is still read at the token level, so pooling follows the
	// folder's configuration.
	m, err := open(dir, s, "last_hidden_state", "token_embeddings")
	if err != nil {
		return nil, err
	}
	e := &Embedder{name: name, m: m, batch: s.batch,
		queryPrefix: m.folder.queryPrompt, docPrefix: m.folder.docPrompt,
		pooling: m.folder.pooling, normalize: m.folder.normalize}
	if !m.folder.hasPooling {
		// Without sentence-transformers configuration, mean pooling is
		// what most embedding models are trained with.
		e.pooling = Pooling{Mean: true}
	}
	if s.pooling != nil {
		e.pooling = *s.pooling
	}
	if s.normalize != nil {
		e.normalize = *s.normalize
	}
	if s.queryPrefix != nil {
		e.queryPrefix = *s.queryPrefix
	}
	if s.docPrefix != nil {
		e.docPrefix = *s.docPrefix
	}
	if out := m.net.model.OutputsMeta[m.net.output].Name; out == "logits" {
		m.net.close()
		return nil, &FolderError{Dir: dir, File: m.folder.onnx, Msg: "the graph outputs logits: it is a classifier or cross-encoder; use it as a reranker (--rerank)"}
	}
	switch m.net.outputRank() {
	case 2, 3:
	default:
		m.net.close()
		return nil, &FolderError{Dir: dir, File: m.folder.onnx, Msg: fmt.Sprintf("output %q has %d dimensions; want token vectors [batch, tokens, dim] or sentence vectors [batch, dim]",
			m.net.model.OutputsMeta[m.net.output].Name, m.net.outputRank())}
	}
	return e, nil
}

// Name is the URI the model was opened with.
func (e *Embedder) Name() string { return e.name }

// Pooling is how token vectors become one vector.
func (e *Embedder) Pooling() Pooling { return e.pooling }

// Normalized says whether vectors are scaled to unit length.
func (e *Embedder) Normalized() bool { return e.normalize }

// MaxTokens is how many tokens of a text are read; the rest is cut.
func (e *Embedder) MaxTokens() int { return e.m.tok.maxLen }

// Embed returns one vector per text. Queries get the model's query
// prompt (config_sentence_transformers.json or ?query_prefix=).
func (e *Embedder) Embed(ctx context.Context, texts []string, purpose model.Purpose) ([][]float32, error) {
	prefix := e.docPrefix
	if purpose == model.ForQuery {
		prefix = e.queryPrefix
	}
	inputs := make([]tokens, len(texts))
	for i, t := range texts {
		var err error
		if inputs[i], err = e.m.tok.encode(prefix + t); err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
	}
	vecs := make([][]float32, len(texts))
	err := e.m.runSorted(ctx, inputs, e.batch, func(i int, out any) error {
		switch o := out.(type) {
		case [][]float32: // token vectors
			vecs[i] = pool(e.pooling, o)
		case []float32: // a sentence vector from the graph
			vecs[i] = append([]float32(nil), o...)
		}
		if len(vecs[i]) == 0 {
			return fmt.Errorf("%s: empty output for text %d", e.name, i)
		}
		if e.normalize {
			normalize(vecs[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return vecs, nil
}

// Close frees the model.
func (e *Embedder) Close() error { return e.m.net.close() }

// PrefixesTexts tells model.OpenEmbedder that this embedder puts its query
// and document prefixes on texts itself.
func (e *Embedder) PrefixesTexts() {}
