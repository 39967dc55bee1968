package distill_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
)

// recordSpans installs an SDK provider with an in-memory exporter for the
// test and puts the previous provider back after it.
func recordSpans(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		tp.Shutdown(context.Background())
	})
	return exp
}

// spanTree renders the spans of one trace as indented names, children in
// start order, with the attributes named in show.
func spanTree(spans tracetest.SpanStubs, root trace.SpanID, show ...attribute.Key) string {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	for _, s := range spans {
		children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
	}
	var b strings.Builder
	var walk func(id trace.SpanID, depth int)
	walk = func(id trace.SpanID, depth int) {
		kids := children[id]
		for i := 1; i < len(kids); i++ { // insertion sort by start time
			for j := i; j > 0 && kids[j].StartTime.Before(kids[j-1].StartTime); j-- {
				kids[j], kids[j-1] = kids[j-1], kids[j]
			}
		}
		for _, s := range kids {
			b.WriteString(strings.Repeat("  ", depth) + s.Name)
			for _, kv := range s.Attributes {
				for _, k := range show {
					if kv.Key == k {
						b.WriteString(" " + string(kv.Key) + "=" + kv.Value.Emit())
					}
				}
			}
			b.WriteString("\n")
			walk(s.SpanContext.SpanID(), depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

func TestAskSpanTree(t *testing.T) {
	t.Setenv("DISTILL_EMBED_CACHE", "off")
	t.Setenv("DISTILL_EMBED", "")
	srv := fakemodel.OpenAI(t, fakemodel.ReplyFunc(func(prompt string) string {
		if strings.Contains(prompt, "YES") {
			return "YES"
		}
		return "Revenue grew 12% in 2021 [1]."
	}), fakemodel.Usage(400, 11))
	dir := t.TempDir()
	testsupport.Write(t, dir, "docs/alpha-2021.md", []byte("# Alpha 2021\n\nRevenue grew 12% to $40 million in 2021.\n"))
	cfg := testsupport.Write(t, dir, "config.yaml", []byte(`techniques:
  one-filter:
    retriever: {type: bm25, split: chunks, k: 1}
    compressors:
      - type: filter
`))
	eng, err := distill.Open(context.Background(), distill.Options{DB: filepath.Join(dir, "db"), Create: true, ConfigFile: cfg,
		CacheDir: filepath.Join(dir, "llmcache"), Models: distill.Models{LLM: srv.URI("gpt-4o-mini")}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Ingest(context.Background(), []string{filepath.Join(dir, "docs")}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}

	exp := recordSpans(t)
	show := []attribute.Key{"distill.technique", "distill.compressor", "gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "distill.cache.hit", "distill.attempts"}
	tests := []struct {
		name string
		want string
	}{
		{"first ask", `distill.ask distill.technique=one-filter
  retrieve
  compress:filter distill.compressor=filter
    llm.generate gen_ai.request.model=openai:gpt-4o-mini distill.cache.hit=false gen_ai.usage.input_tokens=400 gen_ai.usage.output_tokens=11
      model.request distill.attempts=1
  answer
    llm.generate gen_ai.request.model=openai:gpt-4o-mini distill.cache.hit=false gen_ai.usage.input_tokens=400 gen_ai.usage.output_tokens=11
      model.request distill.attempts=1
`},
		// The filter's call is answered from the LLM cache: no request.
		{"second ask", `distill.ask distill.technique=one-filter
  retrieve
  compress:filter distill.compressor=filter
    llm.generate gen_ai.request.model=openai:gpt-4o-mini distill.cache.hit=true
  answer
    llm.generate gen_ai.request.model=openai:gpt-4o-mini distill.cache.hit=false gen_ai.usage.input_tokens=400 gen_ai.usage.output_tokens=11
      model.request distill.attempts=1
`},
	}
	for _, tt := range tests {
		exp.Reset()
		if _, err := eng.Ask(context.Background(), "How much did revenue grow in 2021?", "one-filter"); err != nil {
			t.Fatal(err)
		}
		spans := exp.GetSpans()
		var roots int
		for _, s := range spans {
			if !s.Parent.IsValid() {
				roots++
			}
		}
		if roots != 1 {
			t.Errorf("%s: %d root spans, want 1", tt.name, roots)
		}
		if got := spanTree(spans, trace.SpanID{}, show...); got != tt.want {
			t.Errorf("%s: span tree\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
