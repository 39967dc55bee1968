// In-process fakes: a scripted LLM that records every request and an
// embedder of word counts, implementing the model interfaces directly.

package fakemodel

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
)

// LLM replies with Reply's text for each request, after Delay.
type LLM struct {
	ModelName string // "fake:llm" when empty
	Reply     func(req model.Request) (string, error)
	Delay     time.Duration

	mu       sync.Mutex
	requests []model.Request
}

// Name identifies the model.
func (l *LLM) Name() string {
	if l.ModelName == "" {
		return "fake:llm"
	}
	return l.ModelName
}

// Requests returns the requests received so far.
func (l *LLM) Requests() []model.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]model.Request(nil), l.requests...)
}

// Prompt is the text of a request's messages joined, for scripts to match.
func Prompt(req model.Request) string {
	var parts []string
	for _, m := range req.Messages {
		parts = append(parts, m.Content)
	}
	return strings.Join(parts, "\n")
}

// Generate returns the scripted reply with usage counted in words, as a
// provider that reports usage would.
func (l *LLM) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	l.mu.Lock()
	l.requests = append(l.requests, req)
	l.mu.Unlock()
	if l.Delay > 0 {
		t := time.NewTimer(l.Delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return model.Response{}, ctx.Err()
		case <-t.C:
		}
	}
	text, err := l.Reply(req)
	if err != nil {
		return model.Response{Usage: cost.Usage{Calls: 1}}, err
	}
	return model.Response{Text: text, FinishReason: "stop", Usage: cost.Usage{
		Calls: 1, PromptTokens: len(strings.Fields(Prompt(req))), CompletionTokens: len(strings.Fields(text)),
	}}, nil
}

// Stream sends the reply word by word.
func (l *LLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	resp, err := l.Generate(ctx, req)
	if err != nil {
		return resp, err
	}
	for _, w := range strings.SplitAfter(resp.Text, " ") {
		if err := onToken(w); err != nil {
			return model.Response{}, err
		}
	}
	return resp, nil
}

// Embedder embeds texts as hashed bags of lower-cased words (Dim
// dimensions, 64 when zero), normalized: texts sharing words are similar.
type Embedder struct {
	Dim int
	mu  sync.Mutex
	n   int
}

// Name identifies the model.
func (e *Embedder) Name() string { return "fake:embed" }

// Calls is how many Embed calls were made.
func (e *Embedder) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// Embed returns one vector per text.
func (e *Embedder) Embed(ctx context.Context, texts []string, purpose model.Purpose) ([][]float32, error) {
	e.mu.Lock()
	e.n++
	e.mu.Unlock()
	dim := e.Dim
	if dim == 0 {
		dim = 64
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, dim)
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(strings.Trim(w, ".,;:!?\"'")))
			v[h.Sum32()%uint32(dim)]++
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if n > 0 {
			for j := range v {
				v[j] /= float32(math.Sqrt(n))
			}
		}
		out[i] = v
	}
	return out, nil
}
