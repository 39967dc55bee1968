package ollama_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/ollama"
)

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "http://127.0.0.1:11434",
		"0.0.0.0":               "http://127.0.0.1:11434",
		":8080":                 "http://127.0.0.1:8080",
		"gpu-box:11434":         "http://gpu-box:11434",
		"https://ollama.local":  "https://ollama.local:443",
		"http://10.0.0.5:11434": "http://10.0.0.5:11434",
	} {
		if got := ollama.Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChatAndEmbed(t *testing.T) {
	srv := fakemodel.Ollama(t, fakemodel.Reply("Twelve percent [2]."), fakemodel.Usage(70, 6), fakemodel.Dim(10))
	t.Setenv("OLLAMA_HOST", srv.URL) // the host option below wins over it
	llm, err := model.OpenLLM(context.Background(), "ollama:mixtral?top_p=0.5")
	if err != nil {
		t.Fatal(err)
	}
	msgs := []model.Message{{Role: "user", Content: "How much?"}}
	resp, err := llm.Generate(context.Background(), model.Request{Messages: msgs})
	if err != nil || resp.Text != "Twelve percent [2]." || resp.Usage.PromptTokens != 70 || resp.Usage.CompletionTokens != 6 {
		t.Fatalf("Generate = %+v, %v", resp, err)
	}
	body := srv.Last().JSON()
	opts := body["options"].(map[string]any)
	if srv.Last().Path != "/api/chat" || body["stream"] != false || opts["top_p"] != 0.5 || opts["num_predict"] != 700.0 || opts["temperature"] != 0.6 {
		t.Errorf("request %s %v", srv.Last().Path, body)
	}
	var toks []string
	resp, err = llm.Stream(context.Background(), model.Request{Messages: msgs}, func(s string) error { toks = append(toks, s); return nil })
	if err != nil || len(toks) != 3 || strings.Join(toks, "") != resp.Text || resp.Usage.CompletionTokens != 6 {
		t.Fatalf("Stream = %+v, %q, %v", resp, toks, err)
	}
	emb, err := model.OpenEmbedder(context.Background(), "ollama:nomic-embed-text")
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.Embed(context.Background(), []string{"a b", "c"}, model.ForDocuments)
	if err != nil || len(vecs) != 2 || len(vecs[0]) != 10 {
		t.Fatalf("Embed = %v, %v", vecs, err)
	}
	if in := srv.Last().JSON()["input"].([]any); in[0] != "search_document: a b" {
		t.Errorf("input %v, want nomic's document prefix", in)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       []fakemodel.Option
		uriOpts    string
		stream     bool
		wantStatus int
		wantIn     string
		wantCalls  int
	}{
		{name: "model not pulled", opts: []fakemodel.Option{fakemodel.Models("llama3")}, wantStatus: 404, wantIn: "try pulling it first", wantCalls: 1},
		{name: "503 with Retry-After until attempts run out", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(503, "0"), fakemodel.Status(503, "0"))}, uriOpts: "&retries=1", wantStatus: 503, wantIn: "service unavailable", wantCalls: 2},
		{name: "bad JSON", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.BadJSON)}, wantStatus: 200, wantIn: "malformed", wantCalls: 1},
		{name: "stream cut before done", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Truncated)}, stream: true, wantStatus: 200, wantIn: "ended before done", wantCalls: 1},
		{name: "bad line in stream", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.BadJSON)}, stream: true, wantStatus: 200, wantIn: "bad stream line", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakemodel.Ollama(t, tt.opts...)
			llm, err := model.OpenLLM(context.Background(), srv.URI("mixtral")+tt.uriOpts)
			if err != nil {
				t.Fatal(err)
			}
			req := model.Request{Messages: []model.Message{{Role: "user", Content: "hi"}}}
			if tt.stream {
				_, err = llm.Stream(context.Background(), req, func(string) error { return nil })
			} else {
				_, err = llm.Generate(context.Background(), req)
			}
			var me *model.Error
			if !errors.As(err, &me) || me.Provider != "ollama" || !strings.HasPrefix(me.Endpoint, srv.URL) || me.Status != tt.wantStatus || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %v, want ollama %s status %d containing %q", err, srv.URL, tt.wantStatus, tt.wantIn)
			}
			if srv.Calls() != tt.wantCalls {
				t.Errorf("%d calls, want %d", srv.Calls(), tt.wantCalls)
			}
		})
	}
}
