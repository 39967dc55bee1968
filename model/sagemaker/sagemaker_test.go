package sagemaker_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/sagemaker"
)

var question = []model.Message{{Role: "system", Content: "Answer from the context."}, {Role: "user", Content: "What grew?"}}

func TestTGIFormat(t *testing.T) {
	srv := fakemodel.SageMaker(t, fakemodel.Reply("Revenue grew [1]."), fakemodel.Usage(0, 7))
	llm, err := model.OpenLLM(context.Background(), srv.URI("jumpstart-dft-hf-llm-mixtral-8x7b-instruct"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.Generate(context.Background(), model.Request{Messages: question})
	if err != nil {
		t.Fatal(err)
	}
	// The fake, like TGI, leaves the stop sequence it stopped on at the end.
	if resp.Text != "Revenue grew [1]." || resp.Usage.CompletionTokens != 7 || !resp.Usage.Estimated || resp.Usage.PromptTokens == 0 {
		t.Errorf("Generate = %+v", resp)
	}
	req := srv.Last()
	if req.Path != "/endpoints/jumpstart-dft-hf-llm-mixtral-8x7b-instruct/invocations" || req.Header.Get("Accept") != "application/json" {
		t.Errorf("request to %s, Accept %q", req.Path, req.Header.Get("Accept"))
	}
	body := req.JSON()
	want := "<s>[INST] Answer from the context.\n\nWhat grew? [/INST]"
	if body["inputs"] != want {
		t.Errorf("inputs = %q, want the Mixtral template %q", body["inputs"], want)
	}
	p := body["parameters"].(map[string]any)
	if p["temperature"] != 0.6 || p["top_p"] != 0.9 || p["max_new_tokens"] != 700.0 || p["do_sample"] != true || p["return_full_text"] != false {
		t.Errorf("parameters = %v, want the study's", p)
	}
	if stop := p["stop"].([]any); len(stop) != 2 || stop[0] != "###" || stop[1] != "</s>" {
		t.Errorf("stop = %v, want the study's [### </s>]", stop)
	}
}

func TestTGIStream(t *testing.T) {
	srv := fakemodel.SageMaker(t, fakemodel.Reply("Revenue grew by twelve percent in 2021 [1]."))
	llm, err := model.OpenLLM(context.Background(), srv.URI("mixtral")+"?temperature=0")
	if err != nil {
		t.Fatal(err)
	}
	var toks []string
	resp, err := llm.Stream(context.Background(), model.Request{Messages: question}, func(s string) error { toks = append(toks, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(toks, "") != "Revenue grew by twelve percent in 2021 [1]." || len(toks) < 5 || resp.Text != strings.Join(toks, "") {
		t.Errorf("tokens %q, text %q", toks, resp.Text)
	}
	req := srv.Last()
	if req.Path != "/endpoints/mixtral/invocations-response-stream" || req.JSON()["stream"] != true {
		t.Errorf("request %s %v", req.Path, req.JSON())
	}
	if p := req.JSON()["parameters"].(map[string]any); p["do_sample"] != false || p["temperature"] != nil {
		t.Errorf("temperature 0 must turn sampling off (TGI refuses 0): %v", p)
	}
}

func TestMessagesFormat(t *testing.T) {
	srv := fakemodel.SageMaker(t, fakemodel.Reply("It grew."), fakemodel.Usage(40, 3))
	llm, err := model.OpenLLM(context.Background(), srv.URI("llama-ep")+"?format=messages")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.Generate(context.Background(), model.Request{Messages: question})
	if err != nil || resp.Text != "It grew." || resp.Usage.PromptTokens != 40 || resp.Usage.Estimated {
		t.Fatalf("Generate = %+v, %v", resp, err)
	}
	var toks []string
	resp, err = llm.Stream(context.Background(), model.Request{Messages: question}, func(s string) error { toks = append(toks, s); return nil })
	if err != nil || resp.Text != "It grew." || len(toks) != 2 || resp.Usage.CompletionTokens != 3 {
		t.Fatalf("Stream = %+v, %q, %v", resp, toks, err)
	}
}

func TestJumpStartEmbeddings(t *testing.T) {
	srv := fakemodel.SageMaker(t, fakemodel.Dim(12))
	emb, err := model.OpenEmbedder(context.Background(), srv.URI("jumpstart-dft-hf-sentencesimilarity-bge-large-en"))
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.Embed(context.Background(), []string{"how did revenue grow"}, model.ForQuery)
	if err != nil {
		t.Fatal(err)
	}
	body := srv.Last().JSON()
	inputs := body["text_inputs"].([]any)
	if body["mode"] != "embedding" || inputs[0] != model.BGEQueryPrefix+"how did revenue grow" {
		t.Errorf("body = %v, want JumpStart's with BGE's query prefix", body)
	}
	if len(vecs) != 1 || len(vecs[0]) != 12 {
		t.Errorf("vectors %v", vecs)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       []fakemodel.Option
		uri        string
		wantStatus int
		wantIn     string
		wantCalls  int
		stream     bool
	}{
		{name: "wrong secret key", opts: []fakemodel.Option{fakemodel.WrongSecret()}, wantStatus: 403, wantIn: "signature", wantCalls: 1},
		{name: "unknown endpoint", opts: []fakemodel.Option{fakemodel.Models("other")}, wantStatus: 400, wantIn: "not found", wantCalls: 1},
		{name: "throttled until attempts run out", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Status(429, "0"), fakemodel.Status(429, "0"))}, uri: "?retries=1", wantStatus: 429, wantIn: "ThrottlingException", wantCalls: 2},
		{name: "bad JSON", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.BadJSON)}, wantStatus: 200, wantIn: "malformed", wantCalls: 1},
		{name: "stream broken after tokens is not retried", opts: []fakemodel.Option{fakemodel.Faults(fakemodel.Truncated)}, wantIn: "ModelStreamError", wantCalls: 1, stream: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakemodel.SageMaker(t, tt.opts...)
			llm, err := model.OpenLLM(context.Background(), srv.URI("mixtral-ep")+tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			if tt.stream {
				_, err = llm.Stream(context.Background(), model.Request{Messages: question}, func(string) error { return nil })
			} else {
				_, err = llm.Generate(context.Background(), model.Request{Messages: question})
			}
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want *model.Error", err)
			}
			if me.Provider != "sagemaker" || me.Endpoint != "mixtral-ep" || me.Status != tt.wantStatus || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q (status %d), want sagemaker mixtral-ep status %d containing %q", err, me.Status, tt.wantStatus, tt.wantIn)
			}
			if srv.Calls() != tt.wantCalls {
				t.Errorf("%d calls, want %d", srv.Calls(), tt.wantCalls)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	fakemodel.SageMaker(t)
	for _, uri := range []string{"sagemaker:ep?format=xml", "sagemaker:ep?temprature=0.1", "sagemaker:?format=tgi", "sagemaker:ep?template=gpt9"} {
		if _, err := model.OpenLLM(context.Background(), uri); err == nil {
			t.Errorf("OpenLLM(%s) succeeded", uri)
		} else if var_ := (*model.URIError)(nil); !errors.As(err, &var_) {
			t.Errorf("OpenLLM(%s) = %v, want a URIError", uri, err)
		}
	}
}
