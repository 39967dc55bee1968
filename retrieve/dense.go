package retrieve

import (
	"context"
	"fmt"
	"strings"

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

// exactFilterSearcher is an exactSearcher that can also filter.
type exactFilterSearcher interface {
	SearchVectorExactFiltered(ctx context.Context, split string, vec []float32, k int, f *store.Filter) ([]document.Passage, error)
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
	if f := store.FilterFrom(ctx); !f.Empty() {
		if es, ok := r.Store.(exactFilterSearcher); ok && r.Exact {
			return es.SearchVectorExactFiltered(ctx, r.Split, vecs[0], r.K, f)
		}
		fs, ok := r.Store.(store.FilterSearcher)
		if !ok {
			return nil, &store.NoFilterError{Store: fmt.Sprintf("%T", r.Store)}
		}
		return fs.SearchVectorFiltered(ctx, r.Split, vecs[0], r.K, f)
	}
	if es, ok := r.Store.(exactSearcher); ok && r.Exact {
		return es.SearchVectorExact(ctx, r.Split, vecs[0], r.K)
	}
	return r.Store.SearchVector(ctx, r.Split, vecs[0], r.K)
}

// MissingModelError says that a retriever needs an embedding model that
// is not configured. Techniques with such a retriever still load, so that
// the offline default keeps working: they are listed as unavailable, left
// out of compare, and fail with this error when asked.
type MissingModelError struct {
	Stage config.Stage
}

func (e *MissingModelError) Error() string {
	subject := e.Stage.Path
	if rest, ok := strings.CutPrefix(e.Stage.Path, "techniques."); ok {
		name, _, _ := strings.Cut(rest, ".")
		subject = fmt.Sprintf("technique %q", name)
	}
	return fmt.Sprintf("%s needs an embedding model for its %s retriever: give one with --embed URI or $DISTILL_EMBED (e.g. --embed ollama:bge-m3, or the toy --embed hash:256)", subject, e.Stage.Type)
}

// UserError marks the error as the user's to fix.
func (e *MissingModelError) UserError() {}

// Unavailable stands for a retriever whose model is not configured.
type Unavailable struct{ Err error }

// Retrieve fails with the reason the retriever is unavailable.
func (u *Unavailable) Retrieve(context.Context, string) ([]document.Passage, error) {
	return nil, u.Err
}

// Unavailable returns why the retriever cannot run.
func (u *Unavailable) Unavailable() error { return u.Err }

// Unavailable returns why the parent retriever's child search cannot run.
func (r *Parent) Unavailable() error {
	if u, ok := r.Children.(interface{ Unavailable() error }); ok {
		return u.Unavailable()
	}
	return nil
}

type denseParams struct {
	splitK `yaml:",inline"`
	Exact  bool `yaml:"exact"`
}

// vectorEnv checks what dense retrieval needs from env: without an
// embedding model, the retriever is an Unavailable stand-in.
func vectorEnv(env Env, stage config.Stage) (VectorSearcher, Retriever, error) {
	if env.Embedder == nil {
		return nil, &Unavailable{Err: &MissingModelError{Stage: stage}}, nil
	}
	vs, ok := env.Store.(VectorSearcher)
	if !ok {
		return nil, nil, stage.ParamError("type", "this store does not keep vectors, so it cannot serve %s retrieval", stage.Type)
	}
	return vs, nil, nil
}

func buildDense(env Env, stage config.Stage) (Retriever, error) {
	p := denseParams{splitK: splitK{K: 4}}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.check(stage); err != nil {
		return nil, err
	}
	vs, stand, err := vectorEnv(env, stage)
	if stand != nil || err != nil {
		return stand, err
	}
	return &Dense{Store: vs, Embedder: env.Embedder, Split: p.Split, K: p.K, Exact: p.Exact}, nil
}
