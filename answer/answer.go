// Package answer owns the last stage of a technique: turning the final
// context into an answer that cites it. Offline, the Extractive answerer
// picks the most relevant sentences of the context; with a language model
// configured, the model writes the answer.
package answer

import (
	"context"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
)

// Answer is an answer and what it cost.
type Answer struct {
	Text  string
	Mode  string // "extractive" or "llm"
	Usage cost.Usage
}

// Answerer answers a question from its context.
type Answerer interface {
	Answer(ctx context.Context, question string, contexts []document.Passage) (Answer, error)
}

// NoAnswer is what an answerer says when the context holds nothing relevant.
const NoAnswer = "I could not find an answer to that in the collection."
