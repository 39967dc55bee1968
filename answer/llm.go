package answer

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/fence"
	"github.com/distill-rag/distill/model"
)

// DefaultPrompt is the study's question-answering prompt, with the contexts
// numbered so that the model can cite them as [n]. {context} and
// {question} are replaced; a prompt file may say the same in any language.
const DefaultPrompt = `Use the following pieces of context to provide a concise answer to the question at the end. If you don't know the answer, just say that you don't know, don't try to make up an answer. Cite the pieces you use by their number in square brackets, like [1].

{context}

Question: {question}`

// Prompt is a question-answering prompt template.
type Prompt struct {
	Text   string
	Source string // the file it came from, for errors; "" for the default
}

// PromptError is a prompt template that cannot be used.
type PromptError struct {
	File string
	Msg  string
}

func (e *PromptError) Error() string { return fmt.Sprintf("prompt %s: %s", e.File, e.Msg) }

// UserError marks the error as the user's to fix.
func (e *PromptError) UserError() {}

// LoadPrompt reads a prompt template from a file; it must hold {context}
// and {question}.
func LoadPrompt(path string) (Prompt, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Prompt{}, &PromptError{File: path, Msg: "cannot read: " + err.Error()}
	}
	p := Prompt{Text: string(data), Source: path}
	for _, ph := range []string{"{context}", "{question}"} {
		if !strings.Contains(p.Text, ph) {
			return Prompt{}, &PromptError{File: path, Msg: "has no " + ph + " placeholder"}
		}
	}
	return p, nil
}

// Render fills the template in one pass, so that a question holding
// "{context}" stays as it was typed.
func (p Prompt) Render(question string, contexts []document.Passage) string {
	text := p.Text
	if text == "" {
		text = DefaultPrompt
	}
	return strings.NewReplacer("{context}", FormatContexts(contexts), "{question}", question).Replace(text)
}

// FormatContexts numbers the contexts as the answer cites them,
// "[1] (letter.pdf, page 2)\ntext", each with its file name inside a fence
// that the documents cannot forge, after a notice to treat fenced text as
// data (see package fence).
func FormatContexts(contexts []document.Passage) string {
	blocks := make([]string, len(contexts))
	for i, c := range contexts {
		var b strings.Builder
		fmt.Fprintf(&b, "[%d]", i+1)
		if src := sourceName(c.Source); src != "" {
			if c.Page > 0 {
				fmt.Fprintf(&b, " (%s, page %d)", src, c.Page)
			} else {
				fmt.Fprintf(&b, " (%s)", src)
			}
		}
		b.WriteString("\n")
		b.WriteString(strings.TrimSpace(c.Text))
		blocks[i] = b.String()
	}
	if len(blocks) == 0 {
		return ""
	}
	tag := fence.Tag(blocks...)
	var b strings.Builder
	b.WriteString(fence.Notice(tag))
	for _, block := range blocks {
		b.WriteString("\n\n")
		b.WriteString(fence.Wrap(tag, block))
	}
	return b.String()
}

func sourceName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		return s[i+1:]
	}
	return s
}

// LLM answers with a language model from the numbered contexts.
type LLM struct {
	Model  model.LLM
	Prompt Prompt
}

// NewLLM returns an answerer that asks m with prompt.
func NewLLM(m model.LLM, prompt Prompt) *LLM { return &LLM{Model: m, Prompt: prompt} }

// Answer asks the model for the whole answer.
func (a *LLM) Answer(ctx context.Context, question string, contexts []document.Passage) (Answer, error) {
	return a.AnswerStream(ctx, question, contexts, nil)
}

// AnswerStream asks the model and passes the answer's text on as it
// arrives (when onToken is not nil).
func (a *LLM) AnswerStream(ctx context.Context, question string, contexts []document.Passage, onToken func(string) error) (Answer, error) {
	prompt := a.Prompt.Render(question, contexts)
	req := model.Request{Messages: []model.Message{{Role: "user", Content: prompt}}}
	var resp model.Response
	var err error
	if onToken != nil {
		resp, err = a.Model.Stream(ctx, req, onToken)
	} else {
		resp, err = a.Model.Generate(ctx, req)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("answer with %s: %w", a.Model.Name(), err)
	}
	u := resp.Usage
	u.Calls = max(u.Calls, 1)
	if u.PromptTokens == 0 && u.CompletionTokens == 0 { // the provider did not say
		u = cost.Usage{Calls: u.Calls, PromptTokens: model.EstimateTokens(prompt), CompletionTokens: model.EstimateTokens(resp.Text), Estimated: true}
	}
	return Answer{Text: strings.TrimSpace(resp.Text), Mode: "llm", Usage: u}, nil
}

// Streamer is an answerer that can pass its answer on as it is written.
type Streamer interface {
	AnswerStream(ctx context.Context, question string, contexts []document.Passage, onToken func(string) error) (Answer, error)
}
