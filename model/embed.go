package model

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"
)

// EmbedCache keeps vectors by model, purpose and text so that re-ingesting
// or re-indexing never pays for the same embedding twice (see package
// model/embedcache). A cache that fails is skipped, never fatal.
type EmbedCache interface {
	// Get returns one vector per text, nil where none is cached.
	Get(ctx context.Context, model string, purpose Purpose, texts []string) ([][]float32, error)
	Put(ctx context.Context, model string, purpose Purpose, texts []string, vecs [][]float32) error
}

// OpenOption changes how a model is opened.
type OpenOption func(*openOptions)

type openOptions struct {
	cache EmbedCache
}

// WithEmbedCache makes an opened embedder look texts up in c first.
func WithEmbedCache(c EmbedCache) OpenOption {
	return func(o *openOptions) { o.cache = c }
}

// SelfPrefixing is implemented by embedders that put query and document
// prefixes on texts themselves (in-process models that read them from the
// model's files); OpenEmbedder then adds none of its own.
type SelfPrefixing interface {
	PrefixesTexts()
}

// BatchLimiter is implemented by embedders whose API takes at most a given
// number of texts per request (Bedrock's Titan takes one, Cohere 96).
type BatchLimiter interface {
	MaxBatch() int
}

// Batched splits large Embed calls into batches of at most size texts and
// keeps up to concurrency of them in flight, so that ingest is bound by
// the server's throughput rather than its latency. Vectors come back in
// order; the first failing batch cancels the others.
func Batched(e Embedder, size, concurrency int) Embedder {
	if lim, ok := e.(BatchLimiter); ok && lim.MaxBatch() > 0 && lim.MaxBatch() < size {
		size = lim.MaxBatch()
	}
	return &batched{inner: e, size: max(size, 1), concurrency: max(concurrency, 1)}
}

type batched struct {
	inner             Embedder
	size, concurrency int
}

func (b *batched) Name() string { return b.inner.Name() }

func (b *batched) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.concurrency)
	for start := 0; start < len(texts); start += b.size {
		end := min(start+b.size, len(texts))
		if gctx.Err() != nil {
			break // a batch failed: start no more
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil // another batch failed while this one waited
			}
			vecs, err := b.inner.Embed(gctx, texts[start:end], purpose)
			if err != nil {
				return err
			}
			if len(vecs) != end-start {
				return fmt.Errorf("embedding model %s returned %d vectors for %d texts", b.inner.Name(), len(vecs), end-start)
			}
			copy(out[start:end], vecs)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, checkDims(b.inner.Name(), out)
}

// checkDims makes sure every vector has the same, non-zero dimension.
func checkDims(name string, vecs [][]float32) error {
	for i, v := range vecs {
		if len(v) == 0 {
			return fmt.Errorf("embedding model %s returned an empty vector for text %d", name, i+1)
		}
		if len(v) != len(vecs[0]) {
			return fmt.Errorf("embedding model %s returned vectors of %d and %d dimensions in one call", name, len(vecs[0]), len(v))
		}
	}
	return nil
}

// Cached looks texts up in c and embeds only the ones it misses.
func Cached(e Embedder, c EmbedCache) Embedder {
	return &cached{inner: e, cache: c}
}

type cached struct {
	inner Embedder
	cache EmbedCache
}

func (c *cached) Name() string { return c.inner.Name() }

func (c *cached) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	name := c.inner.Name()
	out, err := c.cache.Get(ctx, name, purpose, texts)
	if err != nil || len(out) != len(texts) {
		out = make([][]float32, len(texts)) // a broken cache costs time, not answers
	}
	var missing []string
	var at []int
	for i, v := range out {
		if v == nil {
			missing = append(missing, texts[i])
			at = append(at, i)
		}
	}
	trace.SpanFromContext(ctx).SetAttributes(AttrCacheHits.Int(len(texts) - len(missing)))
	if len(missing) == 0 {
		return out, nil
	}
	vecs, err := c.inner.Embed(ctx, missing, purpose)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(missing) {
		return nil, fmt.Errorf("embedding model %s returned %d vectors for %d texts", name, len(vecs), len(missing))
	}
	for j, i := range at {
		out[i] = vecs[j]
	}
	_ = c.cache.Put(ctx, name, purpose, missing, vecs)
	return out, checkDims(name, out)
}

// Prefixed puts query before texts embedded for a query and doc before
// texts embedded for a document.
func Prefixed(e Embedder, query, doc string) Embedder {
	if query == "" && doc == "" {
		return e
	}
	return &prefixed{inner: e, query: query, doc: doc}
}

type prefixed struct {
	inner      Embedder
	query, doc string
}

func (p *prefixed) Name() string { return p.inner.Name() }

func (p *prefixed) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	prefix := p.doc
	if purpose == ForQuery {
		prefix = p.query
	}
	if prefix == "" {
		return p.inner.Embed(ctx, texts, purpose)
	}
	in := make([]string, len(texts))
	for i, t := range texts {
		in[i] = prefix + t
	}
	return p.inner.Embed(ctx, in, purpose)
}

// closeInner closes e when it holds resources (an in-process model).
func closeInner(e Embedder) error {
	if c, ok := e.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// Close releases what the wrapped embedder holds.
func (b *batched) Close() error { return closeInner(b.inner) }

// Close releases what the wrapped embedder holds.
func (c *cached) Close() error { return closeInner(c.inner) }

// Close releases what the wrapped embedder holds.
func (p *prefixed) Close() error { return closeInner(p.inner) }
