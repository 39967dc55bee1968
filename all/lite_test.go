//go:build lite

package all_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/all"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

// In the lite build the heavy schemes are known, and fail naming the tag.
func TestLiteSchemesNameTheTag(t *testing.T) {
	ctx := context.Background()
	if !all.Lite() {
		t.Fatal("built with -tags lite, but Lite() is false")
	}
	cases := []struct {
		uri  string
		open func() error
	}{
		{"bedrock:anthropic.claude", func() error { _, err := model.OpenLLM(ctx, "bedrock:anthropic.claude"); return err }},
		{"sagemaker:mixtral", func() error { _, err := model.OpenLLM(ctx, "sagemaker:mixtral"); return err }},
		{"sagemaker:bge", func() error { _, err := model.OpenEmbedder(ctx, "sagemaker:bge"); return err }},
		{"hf:BAAI/bge-small-en-v1.5", func() error { _, err := model.OpenEmbedder(ctx, "hf:BAAI/bge-small-en-v1.5"); return err }},
		{"onnx:/models/x", func() error { _, err := model.OpenReranker(ctx, "onnx:/models/x"); return err }},
		{"weaviate:http://127.0.0.1:8080?collection=X", func() error {
			_, err := store.Open(ctx, "weaviate:http://127.0.0.1:8080?collection=X", store.Options{})
			return err
		}},
	}
	for _, c := range cases {
		err := c.open()
		var left *all.LeftOutError
		if !errors.As(err, &left) || !strings.Contains(err.Error(), "-tags lite") {
			t.Errorf("%s: got %v, want an error naming the lite tag", c.uri, err)
		}
	}
	// What the lite build keeps still opens.
	if _, err := model.OpenEmbedder(ctx, "hash:64"); err != nil {
		t.Errorf("hash:64 in the lite build: %v", err)
	}
}
