package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestTemplates(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Q1"}, {Role: "assistant", Content: "A1"}, {Role: "user", Content: "Q2"}}
	tests := []struct {
		name, model, want string
	}{
		{name: "", model: "jumpstart-dft-hf-llm-mixtral-8x7b-instruct", want: "<s>[INST] Be brief.\n\nQ1 [/INST] A1</s>[INST] Q2 [/INST]"},
		{name: "", model: "meta-llama-3-8b-instruct", want: "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{name: "llama2", model: "x", want: "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nQ1 [/INST] A1 </s><s>[INST] Q2 [/INST]"},
		{name: "chatml", model: "x", want: "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n"},
		{name: "raw", model: "x", want: "Be brief.\n\nQ1\n\nA1\n\nQ2"},
	}
	for _, tt := range tests {
		if got := Template(tt.name, tt.model)(msgs); got != tt.want {
			t.Errorf("Template(%q, %q) =\n%q\nwant\n%q", tt.name, tt.model, got, tt.want)
		}
	}
	// Every [INST] is closed, unlike the study's prompt.
	if got := Template("", "mixtral")([]Message{{Role: "user", Content: "Q"}}); strings.Count(got, "[INST]") != strings.Count(got, "[/INST]") {
		t.Errorf("unbalanced Mixtral prompt %q", got)
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		uri     string
		check   func(Settings) bool
		wantErr string
	}{
		{uri: "x:m", check: func(s Settings) bool {
			return s.Temperature == 0.6 && s.TopP == 0.9 && s.MaxTokens == 700 && s.Stop == nil && s.BatchSize == 32 && s.Attempts == 4 && s.Backoff == DefaultBackoff
		}},
		{uri: "x:m?backoff=20ms", check: func(s Settings) bool { return s.Backoff.Milliseconds() == 20 }},
		{uri: "x:m?backoff=0", wantErr: "option backoff: want a duration"},
		{uri: "x:m?temperature=0&top_p=1&max_tokens=5&stop=%23%23%23&stop=END&timeout=1.5&retries=0&batch_size=8&concurrency=2", check: func(s Settings) bool {
			return s.Temperature == 0 && s.TopP == 1 && s.MaxTokens == 5 && len(s.Stop) == 2 && s.Stop[0] == "###" && s.Timeout.Seconds() == 1.5 && s.Attempts == 1 && s.BatchSize == 8 && s.Concurrency == 2
		}},
		{uri: "x:m?stop=", check: func(s Settings) bool { return s.Stop != nil && len(s.Stop) == 0 }},
		{uri: "x:m?temperature=3", wantErr: "temperature"},
		{uri: "x:m?batch_size=0", wantErr: "batch_size"},
		{uri: "x:m?timeout=soon", wantErr: "timeout"},
		{uri: "x:m?tmperature=1", wantErr: "unknown option"},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		s, err := u.Settings()
		if tt.wantErr != "" {
			var ue *URIError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want a URIError about %s", tt.uri, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !tt.check(s) {
			t.Errorf("%s: settings %+v, %v", tt.uri, s, err)
		}
	}
}

func TestPrefixes(t *testing.T) {
	empty := ""
	tests := []struct {
		name       string
		s          Settings
		query, doc string
	}{
		{name: "sagemaker:jumpstart-dft-hf-sentencesimilarity-bge-large-en", query: BGEQueryPrefix},
		{name: "ollama:bge-m3"},
		{name: "tei:http://x", query: ""},
		{name: "openai:intfloat/e5-large-v2", query: "query: ", doc: "passage: "},
		{name: "sagemaker:bge-large-en", s: Settings{QueryPrefix: &empty}, query: ""},
	}
	for _, tt := range tests {
		q, d := tt.s.Prefixes(tt.name)
		if q != tt.query || d != tt.doc {
			t.Errorf("Prefixes(%s) = %q, %q; want %q, %q", tt.name, q, d, tt.query, tt.doc)
		}
	}
}

// countingEmbedder records batch sizes and how many calls overlap, and
// blocks each call until release says so.
type countingEmbedder struct {
	mu                 sync.Mutex
	batches            []int
	inFlight, peak     int
	failOn             string
	gate               chan struct{}
	concurrentRequired int
	opened             bool
}

func (c *countingEmbedder) Name() string { return "test:counting" }

func (c *countingEmbedder) Embed(ctx context.Context, texts []string, _ Purpose) ([][]float32, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(texts))
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	if c.inFlight == c.concurrentRequired && !c.opened {
		c.opened = true
		close(c.gate) // enough calls overlap: let them all finish
	}
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.inFlight--; c.mu.Unlock() }()
	select {
	case <-c.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == c.failOn {
			return nil, fmt.Errorf("cannot embed %q", t)
		}
		var n float32
		fmt.Sscanf(t, "%g", &n)
		out[i] = []float32{n, 1}
	}
	return out, nil
}

func TestBatchedKeepsOrderAndBoundsConcurrency(t *testing.T) {
	inner := &countingEmbedder{gate: make(chan struct{}), concurrentRequired: 3}
	emb := Batched(inner, 4, 3)
	texts := make([]string, 30)
	for i := range texts {
		texts[i] = fmt.Sprint(i)
	}
	vecs, err := emb.Embed(context.Background(), texts, ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		if v[0] != float32(i) {
			t.Fatalf("vector %d belongs to text %g", i, v[0])
		}
	}
	if len(inner.batches) != 8 || inner.peak != 3 {
		t.Errorf("%d batches with at most %d in flight, want 8 with 3 (the limit; the gate needs 3)", len(inner.batches), inner.peak)
	}
	for _, n := range inner.batches {
		if n > 4 {
			t.Errorf("a batch of %d texts, want at most 4", n)
		}
	}
}

func TestBatchedStopsOnFirstError(t *testing.T) {
	gate := make(chan struct{})
	close(gate)
	inner := &countingEmbedder{gate: gate, failOn: "5"}
	_, err := Batched(inner, 2, 1).Embed(context.Background(), []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, ForDocuments)
	if err == nil || !strings.Contains(err.Error(), `"5"`) {
		t.Fatalf("error %v, want the failing text's", err)
	}
	if len(inner.batches) != 3 {
		t.Errorf("%d batches sent, want 3 (none after the failing one)", len(inner.batches))
	}
}
