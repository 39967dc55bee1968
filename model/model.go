// Package model defines the language, embedding and reranking models distill
// talks to, independent of who serves them. Providers (OpenAI-compatible
// servers, Ollama, TEI, SageMaker, Bedrock, in-process ONNX) register an
// opener for their URI scheme, the way database/sql drivers register, and
// are chosen by a string such as "ollama:mixtral" or "sagemaker:bge?format=tgi".
package model

import (
	"context"

	"github.com/distill-rag/distill/cost"
)

// Message is one turn of a chat.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Request is one generation. Zero fields take the model's configured
// defaults (the study's: temperature 0.6, top_p 0.9, 700 new tokens).
type Request struct {
	Messages    []Message
	Temperature *float64
	TopP        *float64
	MaxTokens   int
	Stop        []string
}

// Response is a finished generation.
type Response struct {
	Text         string
	FinishReason string // "stop", "length", ... as the provider says
	Usage        cost.Usage
}

// LLM generates text.
type LLM interface {
	// Generate returns the whole completion.
	Generate(ctx context.Context, req Request) (Response, error)
	// Stream calls onToken with each piece of text as it arrives and
	// returns the whole completion; an error from onToken stops the stream.
	Stream(ctx context.Context, req Request, onToken func(string) error) (Response, error)
	// Name identifies the model, e.g. "ollama:mixtral".
	Name() string
}

// Purpose says what texts are embedded for, since some models (BGE, E5)
// want a prefix on queries but not on passages.
type Purpose int

const (
	ForDocuments Purpose = iota
	ForQuery
)

// Embedder turns texts into vectors.
type Embedder interface {
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error)
	// Name identifies the model; a collection records it with the
	// dimension so that it is never searched with another model's vectors.
	Name() string
}

// Reranker scores how well each document answers a query (higher is better).
type Reranker interface {
	Rerank(ctx context.Context, query string, docs []string) ([]float64, error)
	Name() string
}
