package retrieve

import (
	"context"
	"errors"
	"fmt"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

func init() { Register("dense", buildDense) }

// VectorSearcher ranks the chunks of a split by similarity to a vector.
type VectorSearcher interface {
	Embedding(ctx context.Context) (store.Embedding, error)
	SearchVector(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error)
}

// exactSearcher is a VectorSearcher that can also compare with every vector.
type exactSearcher interface {
	SearchVectorExact(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error)
}

// Dense embeds the query and ranks the chunks of one split by cosine
// similarity, as the study's retrievers did.
type Dense struct {
	Store    VectorSearcher
	Embedder model.Embedder
	Split    string
	K        int
	Exact    bool // compare with every vector instead of using the index
}

// Retrieve returns the top K chunks.
func (r *Dense) Retrieve(ctx context.Context, query string) ([]document.Passage, error) {
	emb, err := r.Store.Embedding(ctx)
	if err != nil {
		return nil, err
	}
	if emb.Model != r.Embedder.Name() {
		reason := fmt.Sprintf("query with --embed %s, or re-embed the collection with distill reindex --embed %s", emb.Model, r.Embedder.Name())
		if emb.Model == "" {
			reason = fmt.Sprintf("ingest with --embed, or run distill reindex --embed %s", r.Embedder.Name())
		}
		return nil, &store.EmbeddingMismatchError{Collection: emb, Got: store.Embedding{Model: r.Embedder.Name()}, Reason: reason}
	}
	vecs, err := r.Embedder.Embed(ctx, []string{query}, model.ForQuery)
	if err != nil {
		return nil, fmt.Errorf("embed the question with %s: %w", r.Embedder.Name(), err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("embed the question with %s: got %d vectors for 1 text", r.Embedder.Name(), len(vecs))
	}
	if es, ok := r.Store.(exactSearcher); ok && r.Exact {
		return es.SearchVectorExact(ctx, r.Split, vecs[0], r.K)
	}
	return r.Store.SearchVector(ctx, r.Split, vecs[0], r.K)
}

// UnavailableError is a retriever that cannot be built in this setting,
// such as dense retrieval without an embedding model. The engine leaves
// techniques that need one out instead of failing.
type UnavailableError struct {
	Stage  config.Stage
	Reason string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s: %s", e.Stage.Path, e.Reason)
}

// UserError marks the error as the user's to fix.
func (e *UnavailableError) UserError() {}

// IsUnavailable reports whether err is an UnavailableError.
func IsUnavailable(err error) bool {
	var ue *UnavailableError
	return errors.As(err, &ue)
}

type denseParams struct {
	splitK `yaml:",inline"`
	Exact  bool `yaml:"exact"`
}

// vectorEnv checks what dense retrieval needs from env.
func vectorEnv(env Env, stage config.Stage) (VectorSearcher, error) {
	if env.Embedder == nil {
		return nil, &UnavailableError{Stage: stage, Reason: fmt.Sprintf("retriever %s needs an embedding model: pass --embed URI or set DISTILL_EMBED", stage.Type)}
	}
	vs, ok := env.Store.(VectorSearcher)
	if !ok {
		return nil, &UnavailableError{Stage: stage, Reason: "this store does not keep vectors"}
	}
	return vs, nil
}

func buildDense(env Env, stage config.Stage) (Retriever, error) {
	p := denseParams{splitK: splitK{K: 4}}
	if err := Decode(stage, &p); err != nil {
		return nil, err
	}
	if err := p.check(stage); err != nil {
		return nil, err
	}
	vs, err := vectorEnv(env, stage)
	if err != nil {
		return nil, err
	}
	return &Dense{Store: vs, Embedder: env.Embedder, Split: p.Split, K: p.K, Exact: p.Exact}, nil
}
