package model

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the model spans.
const TracerName = "github.com/distill-rag/distill/model"

// Span attribute keys of model calls. The token counts and the model use
// the OpenTelemetry GenAI names.
const (
	AttrModel        = attribute.Key("gen_ai.request.model")
	AttrInputTokens  = attribute.Key("gen_ai.usage.input_tokens")
	AttrOutputTokens = attribute.Key("gen_ai.usage.output_tokens")
	AttrEstimated    = attribute.Key("distill.tokens.estimated")
	AttrCacheHit     = attribute.Key("distill.cache.hit")
	AttrCacheHits    = attribute.Key("distill.cache.hits")
	AttrTexts        = attribute.Key("distill.texts")
	AttrStream       = attribute.Key("distill.stream")
)

// StartSpan starts a span of the model scope. The tracer is looked up on
// every call, so a provider installed after the model was opened (or
// replaced in a test) is the one used; with none installed it is a no-op.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(TracerName).Start(ctx, name, trace.WithAttributes(attrs...), trace.WithSpanKind(trace.SpanKindClient))
}

// EndSpan records err on span, if any, and ends it.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// TraceLLM wraps llm so that every call is a span "llm.generate" (with
// distill.stream=true when streamed) with the model, the tokens in and out, and whether the LLM
// cache answered it (wrap the cached model to see hits).
func TraceLLM(llm LLM) LLM {
	if llm == nil {
		return nil
	}
	return &tracedLLM{llm}
}

type tracedLLM struct{ LLM }

func (t *tracedLLM) Generate(ctx context.Context, req Request) (Response, error) {
	ctx, span := StartSpan(ctx, "llm.generate", AttrModel.String(t.LLM.Name()))
	resp, err := t.LLM.Generate(ctx, req)
	endLLM(span, resp, err)
	return resp, err
}

func (t *tracedLLM) Stream(ctx context.Context, req Request, onToken func(string) error) (Response, error) {
	ctx, span := StartSpan(ctx, "llm.generate", AttrModel.String(t.LLM.Name()), AttrStream.Bool(true))
	resp, err := t.LLM.Stream(ctx, req, onToken)
	endLLM(span, resp, err)
	return resp, err
}

func endLLM(span trace.Span, resp Response, err error) {
	u := resp.Usage
	span.SetAttributes(AttrCacheHit.Bool(u.Cached > 0))
	if u.PromptTokens > 0 || u.CompletionTokens > 0 {
		span.SetAttributes(AttrInputTokens.Int(u.PromptTokens), AttrOutputTokens.Int(u.CompletionTokens), AttrEstimated.Bool(u.Estimated))
	}
	EndSpan(span, err)
}

// tracedEmbedder makes every Embed a span "embed" with the model, the
// number of texts and how many the embedding cache answered.
type tracedEmbedder struct{ inner Embedder }

func (t *tracedEmbedder) Name() string { return t.inner.Name() }

func (t *tracedEmbedder) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	ctx, span := StartSpan(ctx, "embed", AttrModel.String(t.inner.Name()), AttrTexts.Int(len(texts)))
	vecs, err := t.inner.Embed(ctx, texts, purpose)
	EndSpan(span, err)
	return vecs, err
}

// Close releases what the wrapped embedder holds.
func (t *tracedEmbedder) Close() error { return closeInner(t.inner) }

type tracedReranker struct{ inner Reranker }

func (t *tracedReranker) Name() string { return t.inner.Name() }

func (t *tracedReranker) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	ctx, span := StartSpan(ctx, "rerank", AttrModel.String(t.inner.Name()), AttrTexts.Int(len(docs)))
	scores, err := t.inner.Rerank(ctx, query, docs)
	EndSpan(span, err)
	return scores, err
}
