package server_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestRequestSpans: each request is a server span named by its route that
// continues the client's traceparent, and the engine's spans of an ask are
// its children.
func TestRequestSpans(t *testing.T) {
	e := start(t).withLetters()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
		tp.Shutdown(context.Background())
	})

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	e.do("POST", "/v1/collections/default/ask", map[string]string{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular"},
		"traceparent", "00-"+traceID+"-"+parentID+"-01").ok(t, 200, nil)
	e.do("GET", "/v1/collections/default/nope", nil)

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	req, ok := byName["POST /v1/collections/{collection}/ask"]
	if !ok {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("no request span for the ask among %q", names)
	}
	if req.SpanKind != trace.SpanKindServer || req.SpanContext.TraceID().String() != traceID || req.Parent.SpanID().String() != parentID {
		t.Errorf("request span: kind %v, trace %s, parent %s; want a server span continuing %s/%s", req.SpanKind, req.SpanContext.TraceID(), req.Parent.SpanID(), traceID, parentID)
	}
	var status int64
	for _, kv := range req.Attributes {
		if kv.Key == "http.response.status_code" {
			status = kv.Value.AsInt64()
		}
	}
	if status != 200 {
		t.Errorf("request span status attribute %d, want 200", status)
	}
	ask, ok := byName["distill.ask"]
	if !ok || ask.Parent.SpanID() != req.SpanContext.SpanID() {
		t.Errorf("distill.ask span %v, want a child of the request span", ok)
	}
	for _, stage := range []string{"retrieve", "answer"} {
		if s, ok := byName[stage]; !ok || s.Parent.SpanID() != ask.SpanContext.SpanID() {
			t.Errorf("%s span found %v, want a child of distill.ask", stage, ok)
		}
	}
	if _, ok := byName["unmatched"]; !ok {
		t.Errorf("an unmatched path has no request span")
	}
}
