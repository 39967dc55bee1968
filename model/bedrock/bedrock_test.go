package bedrock_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/bedrock"
)

const mixtral = "mistral.mixtral-8x7b-instruct-v0:1"

var question = []model.Message{{Role: "system", Content: "Cite contexts."}, {Role: "user", Content: "What grew?"}}

func TestConverse(t *testing.T) {
	srv := fakemodel.Bedrock(t, fakemodel.Reply("Revenue grew [1]."), fakemodel.Usage(88, 5))
	llm, err := model.OpenLLM(context.Background(), srv.URI(mixtral)+"?max_tokens=300")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.Generate(context.Background(), model.Request{Messages: question})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "Revenue grew [1]." || resp.Usage.PromptTokens != 88 || resp.Usage.CompletionTokens != 5 || resp.FinishReason != "end_turn" {
		t.Errorf("Generate = %+v", resp)
	}
	req := srv.Last()
	if req.Path != "/model/mistral.mixtral-8x7b-instruct-v0%3A1/converse" {
		t.Errorf("path %s", req.Path)
	}
	body := req.JSON()
	cfg := body["inferenceConfig"].(map[string]any)
	if cfg["maxTokens"] != 300.0 || cfg["topP"].(float64) < 0.89 || cfg["temperature"].(float64) < 0.59 {
		t.Errorf("inferenceConfig = %v", cfg)
	}
	if sys := body["system"].([]any); len(sys) != 1 || sys[0].(map[string]any)["text"] != "Cite contexts." {
		t.Errorf("system = %v", body["system"])
	}

	var toks []string
	resp, err = llm.Stream(context.Background(), model.Request{Messages: question}, func(s string) error { toks = append(toks, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(toks, "") != "Revenue grew [1]." || len(toks) != 3 || resp.Usage.PromptTokens != 88 {
		t.Errorf("Stream tokens %q, response %+v", toks, resp)
	}
	if srv.Last().Path != "/model/mistral.mixtral-8x7b-instruct-v0%3A1/converse-stream" {
		t.Errorf("stream path %s", srv.Last().Path)
	}
}

func TestEmbeddingFormats(t *testing.T) {
	tests := []struct {
		id        string
		wantCalls int
		check     func(t *testing.T, body map[string]any)
	}{
		{id: "amazon.titan-embed-text-v2:0?dimensions=256", wantCalls: 3, check: func(t *testing.T, body map[string]any) {
			if body["dimensions"] != 256.0 || body["normalize"] != true || body["inputText"] == nil {
				t.Errorf("Titan v2 body %v", body)
			}
		}},
		{id: "amazon.titan-embed-text-v1", wantCalls: 3, check: func(t *testing.T, body map[string]any) {
			if len(body) != 1 || body["inputText"] == nil {
				t.Errorf("Titan v1 body %v, want inputText alone", body)
			}
		}},
		{id: "cohere.embed-multilingual-v3", wantCalls: 1, check: func(t *testing.T, body map[string]any) {
			if body["input_type"] != "search_query" || len(body["texts"].([]any)) != 3 {
				t.Errorf("Cohere body %v", body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			srv := fakemodel.Bedrock(t, fakemodel.Dim(8))
			emb, err := model.OpenEmbedder(context.Background(), srv.URI(tt.id))
			if err != nil {
				t.Fatal(err)
			}
			vecs, err := emb.Embed(context.Background(), []string{"one", "two", "three"}, model.ForQuery)
			if err != nil {
				t.Fatal(err)
			}
			if len(vecs) != 3 || srv.EmbedCalls() != tt.wantCalls {
				t.Errorf("%d vectors in %d calls, want 3 in %d", len(vecs), srv.EmbedCalls(), tt.wantCalls)
			}
			tt.check(t, srv.Last().JSON())
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       []fakemodel.Option
		wantStatus int
		wantIn     string
		wantCalls  int
	}{
		{name: "wrong secret", opts: []fakemodel.Option{fakemodel.WrongSecret()}, wantStatus: 403, wantIn: "signature", wantCalls: 1},
		{name: "unknown model", opts: []fakemodel.Option{fakemodel.Models("other")}, wantStatus: 400, wantIn: "model identifier is invalid", wantCalls: 1},
		{name: "throttled then ok", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(429, "0"))}, wantCalls: 2},
		{name: "truncated answer", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Truncated)}, wantStatus: 200, wantIn: "malformed", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakemodel.Bedrock(t, tt.opts...)
			llm, err := model.OpenLLM(context.Background(), srv.URI(mixtral))
			if err != nil {
				t.Fatal(err)
			}
			_, err = llm.Generate(context.Background(), model.Request{Messages: question})
			if srv.Calls() != tt.wantCalls {
				t.Errorf("%d calls, want %d", srv.Calls(), tt.wantCalls)
			}
			if tt.wantIn == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var me *model.Error
			if !errors.As(err, &me) || me.Provider != "bedrock" || me.Endpoint != mixtral || me.Status != tt.wantStatus || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %v, want bedrock %s status %d containing %q", err, mixtral, tt.wantStatus, tt.wantIn)
			}
		})
	}
}
