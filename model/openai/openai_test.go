package openai_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/openai"
	"github.com/distill-rag/distill/model/remote"
)

func ask(t *testing.T, uri string) model.LLM {
	t.Helper()
	llm, err := model.OpenLLM(context.Background(), uri)
	if err != nil {
		t.Fatalf("OpenLLM(%s): %v", uri, err)
	}
	return llm
}

func TestGenerateSendsSettingsAndReadsUsage(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-test")
	srv := fakemodel.OpenAI(t, fakemodel.APIKey("sk-test"), fakemodel.Reply("Paris is the capital [1]."), fakemodel.Usage(321, 12))
	llm := ask(t, srv.URI("gpt-4o-mini")+"&temperature=0.2&stop=END")
	resp, err := llm.Generate(context.Background(), model.Request{Messages: []model.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Capital of France?"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "Paris is the capital [1]." || resp.Usage.PromptTokens != 321 || resp.Usage.CompletionTokens != 12 || resp.Usage.Calls != 1 {
		t.Errorf("Generate = %+v", resp)
	}
	req := srv.Last()
	if req.Path != "/v1/chat/completions" || req.Header.Get("Authorization") != "Bearer sk-test" {
		t.Errorf("request %s with Authorization %q", req.Path, req.Header.Get("Authorization"))
	}
	body := req.JSON()
	if body["model"] != "gpt-4o-mini" || body["temperature"] != 0.2 || body["top_p"] != 0.9 || body["max_tokens"] != 700.0 {
		t.Errorf("body = %v, want the URI's temperature and the study's top_p and max_tokens", body)
	}
	if stop, _ := body["stop"].([]any); len(stop) != 1 || stop[0] != "END" {
		t.Errorf("stop = %v, want [END]", body["stop"])
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" {
		t.Errorf("messages = %v", msgs)
	}
}

func TestStreamDeliversTokensInOrder(t *testing.T) {
	srv := fakemodel.OpenAI(t, fakemodel.Reply("One two three four."), fakemodel.Usage(50, 4))
	llm := ask(t, srv.URI("local-model"))
	var got []string
	resp, err := llm.Stream(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "count"}}}, func(tok string) error {
		got = append(got, tok)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "") != "One two three four." || len(got) != 4 || resp.Text != "One two three four." {
		t.Errorf("tokens %q, text %q", got, resp.Text)
	}
	if resp.Usage.PromptTokens != 50 || resp.Usage.CompletionTokens != 4 {
		t.Errorf("usage = %+v, want the final chunk's", resp.Usage)
	}
	if srv.Last().JSON()["stream"] != true {
		t.Error("stream was not requested")
	}
}

func TestEmbedOrdersByIndex(t *testing.T) {
	srv := fakemodel.OpenAI(t, fakemodel.Dim(16))
	emb, err := model.OpenEmbedder(context.Background(), srv.URI("text-embedding-3-small")+"&batch_size=2")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"alpha", "beta gamma", "delta", "epsilon zeta", "eta"}
	vecs, err := emb.Embed(context.Background(), texts, model.ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		want := fakemodel.Vector(text, 16)
		if len(vecs[i]) != 16 || vecs[i][0] != want[0] || vecs[i][15] != want[15] {
			t.Errorf("vector %d is not the embedding of %q", i, text)
		}
	}
	if srv.EmbedCalls() != 3 {
		t.Errorf("%d embedding requests, want 3 batches of at most 2", srv.EmbedCalls())
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       []fakemodel.Option
		uriOpts    string
		wantStatus int
		wantCalls  int
		wantIn     string
		ok         bool
	}{
		{name: "wrong key", opts: []fakemodel.Option{fakemodel.APIKey("other")}, wantStatus: 401, wantCalls: 1, wantIn: "Incorrect API key"},
		{name: "unknown model", opts: []fakemodel.Option{fakemodel.Models("gpt-4o-mini")}, wantStatus: 404, wantCalls: 1, wantIn: "does not exist"},
		{name: "429 then ok honours Retry-After", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(429, "1"))}, wantCalls: 2, ok: true},
		{name: "500 twice then ok", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(500, ""), fakemodel.Status(502, ""))}, wantCalls: 3, ok: true},
		{name: "500 until attempts run out", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(500, ""), fakemodel.Status(500, ""), fakemodel.Status(500, ""))}, uriOpts: "&retries=1", wantStatus: 500, wantCalls: 2},
		{name: "hang then ok", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Hang)}, uriOpts: "&timeout=300ms", wantCalls: 2, ok: true},
		{name: "hang until attempts run out", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Hang, fakemodel.Hang)}, uriOpts: "&timeout=200ms&retries=1", wantCalls: 2, wantIn: "no answer within 200ms"},
		{name: "bad JSON is not retried", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.BadJSON)}, wantCalls: 1, wantIn: "malformed"},
		{name: "truncated JSON is not retried", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Truncated)}, wantCalls: 1, wantIn: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", "sk-mine")
			srv := fakemodel.OpenAI(t, tt.opts...)
			llm := ask(t, srv.URI("gpt-4o")+tt.uriOpts)
			start := time.Now()
			_, err := llm.Generate(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "hi"}}})
			if srv.Calls() != tt.wantCalls {
				t.Errorf("%d calls, want %d", srv.Calls(), tt.wantCalls)
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("Generate: %v", err)
				}
				if strings.Contains(tt.name, "Retry-After") && time.Since(start) < time.Second {
					t.Errorf("retried after %v, before the 1s Retry-After", time.Since(start))
				}
				return
			}
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T), want *model.Error", err, err)
			}
			if me.Provider != "openai" || !strings.Contains(me.Endpoint, srv.URL) || me.Status != tt.wantStatus || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q: provider %q, endpoint %q, status %d; want openai, %s, %d, containing %q", err, me.Provider, me.Endpoint, me.Status, srv.URL, tt.wantStatus, tt.wantIn)
			}
		})
	}
}

// A chat answer larger than remote.MaxAnswer fails instead of being read
// into memory.
func TestAnswerSizeIsBounded(t *testing.T) {
	defer func(m int64) { remote.MaxAnswer = m }(remote.MaxAnswer)
	remote.MaxAnswer = 4 << 10
	srv := fakemodel.OpenAI(t, fakemodel.Reply(strings.Repeat("word ", 2000)))
	llm := ask(t, srv.URI("gpt-4o-mini")+"&retries=0")
	_, err := llm.Generate(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "Talk."}}})
	var tl *remote.AnswerTooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("Generate of a 10 KB answer with a 4 KB limit: %v", err)
	}
	_, err = llm.Stream(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "Talk."}}}, func(string) error { return nil })
	if !errors.As(err, &tl) {
		t.Errorf("Stream of a 10 KB answer with a 4 KB limit: %v", err)
	}
	remote.MaxAnswer = 64 << 10
	if _, err := llm.Generate(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "Talk."}}}); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}
