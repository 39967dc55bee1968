package model

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		raw             string
		scheme, target  string
		opt, optValue   string
		wantErrContains string
	}{
		{raw: "ollama:llama3", scheme: "ollama", target: "llama3"},
		{raw: "sagemaker:mixtral-ep?format=tgi&temperature=0.2", scheme: "sagemaker", target: "mixtral-ep", opt: "format", optValue: "tgi"},
		{raw: "tei:http://127.0.0.1:8080/?batch_size=8", scheme: "tei", target: "http://127.0.0.1:8080/", opt: "batch_size", optValue: "8"},
		{raw: "bedrock:mistral.mixtral-8x7b-instruct-v0:1", scheme: "bedrock", target: "mistral.mixtral-8x7b-instruct-v0:1"},
		{raw: "none", scheme: "none"},
		{raw: "", wantErrContains: "empty"},
		{raw: "llama3", wantErrContains: "scheme:target"},
		{raw: "openai:gpt?x=%zz", wantErrContains: "bad options"},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.raw)
		if tt.wantErrContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
				t.Errorf("ParseURI(%q) error = %v, want one containing %q", tt.raw, err, tt.wantErrContains)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", tt.raw, err)
		}
		if u.Scheme != tt.scheme || u.Target != tt.target {
			t.Errorf("ParseURI(%q) = %q, %q; want %q, %q", tt.raw, u.Scheme, u.Target, tt.scheme, tt.target)
		}
		if tt.opt != "" && u.Options.Get(tt.opt) != tt.optValue {
			t.Errorf("ParseURI(%q) option %s = %q, want %q", tt.raw, tt.opt, u.Options.Get(tt.opt), tt.optValue)
		}
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	RegisterLLM("test-known", func(ctx context.Context, u URI) (LLM, error) { return nil, nil })
	_, err := OpenLLM(context.Background(), "nosuch:model")
	var ue *URIError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "test-known:") {
		t.Fatalf("OpenLLM(nosuch:model) = %v, want URIError listing known schemes", err)
	}
	if m, err := OpenLLM(context.Background(), "none"); m != nil || err != nil {
		t.Fatalf("OpenLLM(none) = %v, %v; want nil, nil", m, err)
	}
}
