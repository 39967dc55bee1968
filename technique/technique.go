// Package technique owns running a technique: the retriever and the
// compressors a configuration names, applied in order, with what each
// stage cost.
package technique

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/retrieve"
)

// Technique is a built pipeline.
type Technique struct {
	Name        string
	Description string
	Retriever   retrieve.Retriever
	Compressors []Compressor
	Spec        config.Technique
}

// Compressor is a built compressor and the type it was configured as.
type Compressor struct {
	Type string
	compress.Compressor
}

// Build makes the technique a configuration describes.
func Build(spec config.Technique, renv retrieve.Env, cenv compress.Env) (*Technique, error) {
	r, err := retrieve.Build(renv, spec.Retriever)
	if err != nil {
		return nil, err
	}
	t := &Technique{Name: spec.Name, Description: spec.Description, Retriever: r, Spec: spec}
	for _, cs := range spec.Compressors {
		c, err := compress.Build(cenv, cs)
		if err != nil {
			return nil, err
		}
		t.Compressors = append(t.Compressors, Compressor{Type: cs.Type, Compressor: c})
	}
	return t, nil
}

// Run is the outcome of running a technique's stages.
type Run struct {
	Retrieved int // passages the retriever returned
	Contexts  []document.Passage
	Stages    []cost.Stage
}

// Run retrieves and compresses the context for question.
func (t *Technique) Run(ctx context.Context, question string) (*Run, error) {
	start := time.Now()
	rctx, span := tracer().Start(ctx, "retrieve", trace.WithAttributes(attribute.String("distill.retriever", t.Spec.Retriever.Type)))
	passages, err := t.Retriever.Retrieve(rctx, question)
	span.SetAttributes(attribute.Int("distill.passages.out", len(passages)))
	endSpan(span, err)
	if err != nil {
		return nil, fmt.Errorf("technique %s: retrieve: %w", t.Name, err)
	}
	run := &Run{Retrieved: len(passages)}
	run.Stages = append(run.Stages, cost.Stage{
		Name: "retrieve", Out: len(passages), CharsOut: Chars(passages), LatencyMS: cost.Since(start),
	})
	for _, c := range t.Compressors {
		start := time.Now()
		in := passages
		cctx, span := tracer().Start(ctx, "compress:"+c.Type, trace.WithAttributes(
			attribute.String("distill.compressor", c.Type), attribute.Int("distill.passages.in", len(in))))
		out, rep, err := c.Compress(cctx, question, in)
		span.SetAttributes(attribute.Int("distill.passages.out", len(out)), attribute.Int("distill.llm.calls", rep.Usage.Calls),
			attribute.Int("distill.llm.cached", rep.Usage.Cached))
		endSpan(span, err)
		if err != nil {
			return nil, fmt.Errorf("technique %s: compress (%s): %w", t.Name, c.Type, err)
		}
		passages = out
		run.Stages = append(run.Stages, cost.Stage{
			Name: "compress:" + c.Type, Usage: rep.Usage, In: len(in), Out: len(out),
			CharsIn: Chars(in), CharsOut: Chars(out), LatencyMS: cost.Since(start), Notes: rep.Notes,
			Uncompressed: rep.Uncompressed, InventedChars: rep.InventedChars,
		})
	}
	run.Contexts = passages
	return run, nil
}

// tracer is looked up on every run, so that the provider installed when
// the run starts is the one used (a no-op when none is).
func tracer() trace.Tracer { return otel.Tracer("github.com/distill-rag/distill/technique") }

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Chars is the total length of the passages' text in characters.
func Chars(ps []document.Passage) int {
	n := 0
	for _, p := range ps {
		n += utf8.RuneCountInString(p.Text)
	}
	return n
}
