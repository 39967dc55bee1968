package distill

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the engine's spans. The
// engine uses only the OpenTelemetry API: a program that installs no
// tracer provider (the CLI installs one only when an OTLP endpoint is
// set) pays for no-op spans.
const TracerName = "github.com/distill-rag/distill"

// Span attribute keys of the engine's spans.
const (
	attrTechnique = attribute.Key("distill.technique")
	attrQuestion  = attribute.Key("distill.question.chars")
	attrContexts  = attribute.Key("distill.contexts")
	attrMode      = attribute.Key("distill.answer.mode")
)

func startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(TracerName).Start(ctx, name, trace.WithAttributes(attrs...))
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
