package distill

import (
	"context"
	"strings"
	"time"

	"github.com/distill-rag/distill/answer"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/technique"
)

// Result is one technique's answer to one question: the JSON printed by
// `distill ask --json` and returned by the HTTP API.
type Result struct {
	Question  string    `json:"question"`
	Technique string    `json:"technique"`
	Mode      string    `json:"mode"` // "extractive" or "llm"
	Answer    string    `json:"answer"`
	Contexts  []Context `json:"contexts"`
	Stats     Stats     `json:"stats"`
}

// Context is a passage the answer was built from; [n] in the answer cites
// the context of rank n.
type Context struct {
	Rank int `json:"rank"`
	document.Passage
}

// Stats is what answering cost, in total and per stage.
type Stats struct {
	Retrieved        int          `json:"retrieved"`
	ContextChars     int          `json:"context_chars"`
	LLMCalls         int          `json:"llm_calls"`
	PromptTokens     int          `json:"prompt_tokens"`
	CompletionTokens int          `json:"completion_tokens"`
	TokensEstimated  bool         `json:"tokens_estimated,omitempty"`
	CachedCalls      int          `json:"cached_calls,omitempty"` // LLM calls answered from the cache
	RerankCalls      int          `json:"rerank_calls,omitempty"`
	EmbedCalls       int          `json:"embed_calls,omitempty"`
	LatencyMS        float64      `json:"latency_ms"`
	Stages           []cost.Stage `json:"stages"`
}

// Ask answers question with the named technique.
func (e *Engine) Ask(ctx context.Context, question, techniqueName string, opts ...QueryOption) (*Result, error) {
	ctx, err := e.queryContext(ctx, opts)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, ErrEmptyQuestion
	}
	t, err := e.technique(techniqueName)
	if err != nil {
		return nil, err
	}
	return e.ask(ctx, question, t, nil)
}

// AskStream answers like Ask and passes the answer's text to onToken as it
// is written (an LLM's tokens as they arrive; an extractive answer at
// once). An error from onToken stops the answer.
func (e *Engine) AskStream(ctx context.Context, question, techniqueName string, onToken func(string) error, opts ...QueryOption) (*Result, error) {
	ctx, err := e.queryContext(ctx, opts)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, ErrEmptyQuestion
	}
	t, err := e.technique(techniqueName)
	if err != nil {
		return nil, err
	}
	return e.ask(ctx, question, t, onToken)
}

func (e *Engine) answer(ctx context.Context, question string, contexts []document.Passage, onToken func(string) error) (answer.Answer, error) {
	if onToken == nil {
		return e.answerer.Answer(ctx, question, contexts)
	}
	if s, ok := e.answerer.(answer.Streamer); ok {
		return s.AnswerStream(ctx, question, contexts, onToken)
	}
	ans, err := e.answerer.Answer(ctx, question, contexts)
	if err != nil {
		return ans, err
	}
	return ans, onToken(ans.Text)
}

func (e *Engine) ask(ctx context.Context, question string, t *technique.Technique, onToken func(string) error) (_ *Result, err error) {
	ctx, span := startSpan(ctx, "distill.ask", attrTechnique.String(t.Name), attrQuestion.Int(len(question)))
	defer func() { endSpan(span, err) }()
	if err := unavailable(t); err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := t.Run(ctx, question)
	if err != nil {
		return nil, err
	}
	answerStart := time.Now()
	actx, aspan := startSpan(ctx, "answer", attrContexts.Int(len(run.Contexts)))
	ans, err := e.answer(actx, question, run.Contexts, onToken)
	aspan.SetAttributes(attrMode.String(ans.Mode))
	endSpan(aspan, err)
	if err != nil {
		return nil, err
	}
	stages := append(run.Stages, cost.Stage{
		Name: "answer", Usage: ans.Usage, In: len(run.Contexts), CharsIn: technique.Chars(run.Contexts),
		LatencyMS: cost.Since(answerStart),
	})
	res := &Result{Question: question, Technique: t.Name, Mode: ans.Mode, Answer: ans.Text, Contexts: []Context{}}
	for i, p := range run.Contexts {
		res.Contexts = append(res.Contexts, Context{Rank: i + 1, Passage: p})
	}
	var usage cost.Usage
	for _, s := range stages {
		usage = usage.Add(s.Usage)
	}
	res.Stats = Stats{
		Retrieved: run.Retrieved, ContextChars: technique.Chars(run.Contexts),
		LLMCalls: usage.Calls, PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens,
		TokensEstimated: usage.Estimated, LatencyMS: cost.Since(start), Stages: stages,
		CachedCalls: usage.Cached, RerankCalls: usage.RerankCalls, EmbedCalls: usage.EmbedCalls,
	}
	return res, nil
}

// Comparison is every technique's answer to one question: one line of
// `distill compare --json`.
type Comparison struct {
	Question string    `json:"question"`
	Results  []*Result `json:"results"`
}

// Compare answers question with each named technique (all that can run
// with the configured models when none are named), one after another so
// that their latencies are comparable.
func (e *Engine) Compare(ctx context.Context, question string, techniques []string, opts ...QueryOption) (_ *Comparison, err error) {
	ctx, span := startSpan(ctx, "distill.compare", attrQuestion.Int(len(question)))
	defer func() { endSpan(span, err) }()
	ctx, err = e.queryContext(ctx, opts)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, ErrEmptyQuestion
	}
	if len(techniques) == 0 {
		techniques = e.available()
	}
	ts := make([]*technique.Technique, len(techniques))
	for i, name := range techniques {
		t, err := e.technique(name)
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	cmp := &Comparison{Question: question}
	for _, t := range ts {
		res, err := e.ask(ctx, question, t, nil)
		if err != nil {
			return nil, err
		}
		cmp.Results = append(cmp.Results, res)
	}
	return cmp, nil
}
