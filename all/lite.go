//go:build lite

package all

import (
	"context"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

const lite = true

// LeftOutError is what a scheme that the lite build leaves out answers.
type LeftOutError struct{ Scheme string }

func (e *LeftOutError) Error() string {
	return e.Scheme + ": URIs are not supported by this build of distill (built with -tags lite); build it without the lite tag"
}

// UserError marks the error as the user's to fix (by another build).
func (e *LeftOutError) UserError() {}

func init() {
	for _, s := range []string{"bedrock", "sagemaker"} {
		s := s
		model.RegisterLLM(s, func(context.Context, model.URI) (model.LLM, error) { return nil, &LeftOutError{s} })
	}
	for _, s := range []string{"bedrock", "sagemaker", "onnx", "hf"} {
		s := s
		model.RegisterEmbedder(s, func(context.Context, model.URI) (model.Embedder, error) { return nil, &LeftOutError{s} })
	}
	for _, s := range []string{"onnx", "hf"} {
		s := s
		model.RegisterReranker(s, func(context.Context, model.URI) (model.Reranker, error) { return nil, &LeftOutError{s} })
	}
	store.Register("weaviate", func(context.Context, string, store.Options) (store.Store, error) {
		return nil, &LeftOutError{"weaviate"}
	})
}
