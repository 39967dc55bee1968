// Package fakellm is an in-process language model for tests: it answers
// from a script, takes a configurable time per call, counts its calls and
// the most it ever ran at once, and can fail, answer nothing or never stop.
package fakellm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
)

// Reply is one scripted answer.
type Reply struct {
	Text  string
	Err   error
	Usage cost.Usage // reported as the provider's; zero for a provider that reports none
	// Endless streams Text over and over until the caller stops reading
	// or MaxTokens words were sent (a model that ignores no limit but its own).
	Endless bool
	// IgnoreMaxTokens makes an endless reply ignore the request's MaxTokens.
	IgnoreMaxTokens bool
}

// Script picks the reply to a request from its prompt (the last message).
type Script func(prompt string) Reply

// LLM is the fake model.
type LLM struct {
	Model   string // Name(); "fake" when empty
	Script  Script
	Latency time.Duration // per call, before the answer

	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64

	mu       sync.Mutex
	requests []model.Request
}

// New returns a fake answering with script.
func New(script Script) *LLM { return &LLM{Script: script} }

// Name identifies the model.
func (f *LLM) Name() string {
	if f.Model == "" {
		return "fake"
	}
	return f.Model
}

// Calls is how many calls were made.
func (f *LLM) Calls() int { return int(f.calls.Load()) }

// Peak is the most calls that were in flight at once.
func (f *LLM) Peak() int { return int(f.peak.Load()) }

// Requests returns the requests received, in arrival order.
func (f *LLM) Requests() []model.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Request(nil), f.requests...)
}

// Generate answers a request.
func (f *LLM) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	return f.Stream(ctx, req, nil)
}

// ErrStopped is what an endless reply returns when its caller stops it.
var ErrStopped = errors.New("fakellm: stream stopped by the caller")

// Stream answers a request, sending the text in word-sized pieces.
func (f *LLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	f.calls.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return model.Response{}, ctx.Err()
		case <-t.C:
		}
	}
	prompt := ""
	if len(req.Messages) > 0 {
		prompt = req.Messages[len(req.Messages)-1].Content
	}
	r := f.Script(prompt)
	if r.Err != nil {
		return model.Response{}, r.Err
	}
	if !r.Endless {
		if onToken != nil {
			for _, piece := range pieces(r.Text) {
				if err := onToken(piece); err != nil {
					return model.Response{}, err
				}
			}
		}
		return model.Response{Text: r.Text, FinishReason: "stop", Usage: r.Usage}, nil
	}
	var b strings.Builder
	words := 0
	for {
		for _, piece := range pieces(r.Text + " ") {
			if err := ctx.Err(); err != nil {
				return model.Response{}, err
			}
			if !r.IgnoreMaxTokens && req.MaxTokens > 0 && words >= req.MaxTokens {
				return model.Response{Text: b.String(), FinishReason: "length", Usage: r.Usage}, nil
			}
			b.WriteString(piece)
			words++
			if onToken != nil {
				if err := onToken(piece); err != nil {
					return model.Response{}, err
				}
			} else if b.Len() > 1<<20 {
				return model.Response{}, ErrStopped
			}
		}
	}
}

// pieces cuts text into words with their trailing space, as tokens arrive.
func pieces(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			out = append(out, text[start:i+1])
			start = i + 1
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// Between returns the text of prompt between the first occurrence of open
// and the next close after it ("" when absent): a script's way to find the
// question or the context in a prompt.
func Between(prompt, open, close string) string {
	_, rest, ok := strings.Cut(prompt, open)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, close)
	return in
}
