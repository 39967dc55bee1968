//go:build !lite

package cli_test

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/distill-rag/distill/internal/testsupport"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string]string // span id -> name
	paren map[string]string // span id -> parent span id
	svc   []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				o.svc = append(o.svc, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				id := hex.EncodeToString(s.SpanId)
				o.spans[id] = s.Name
				o.paren[id] = hex.EncodeToString(s.ParentSpanId)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(out)
}

func TestAskExportsTracesOverOTLP(t *testing.T) {
	rcv := &otlpReceiver{spans: map[string]string{}, paren: map[string]string{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	r := newRunner(t)
	dir := t.TempDir()
	testsupport.Write(t, dir, "docs/a.txt", []byte("The lighthouse keeper counted 41 seagulls in May."))
	db := filepath.Join(dir, "db")
	r.ok("--db", db, "ingest", filepath.Join(dir, "docs"))
	rcv.mu.Lock()
	exported := len(rcv.spans)
	rcv.mu.Unlock()
	if exported != 0 {
		t.Fatalf("%d spans exported with no endpoint set", exported)
	}
	r.env = append(r.env, "OTEL_EXPORTER_OTLP_ENDPOINT="+srv.URL)
	r.ok("--db", db, "ask", "-t", "extract", "How many seagulls?")

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	byName := map[string]string{}
	for id, name := range rcv.spans {
		byName[name] = id
	}
	for _, want := range []struct{ span, parent string }{
		{"distill.ask", ""},
		{"retrieve", "distill.ask"},
		{"compress:extract", "distill.ask"},
		{"answer", "distill.ask"},
	} {
		id, ok := byName[want.span]
		if !ok {
			t.Errorf("no %s span among %v", want.span, rcv.spans)
			continue
		}
		parent := rcv.spans[rcv.paren[id]]
		if parent != want.parent {
			t.Errorf("%s's parent is %q, want %q", want.span, parent, want.parent)
		}
	}
	if len(rcv.svc) == 0 || rcv.svc[0] != "distill" {
		t.Errorf("service.name %v, want distill", rcv.svc)
	}
}
