package distill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
)

// ErrNoQuestion is returned for a conversation whose last turn is not a
// user's question.
var ErrNoQuestion = errors.New("the conversation does not end with a user message")

// condensePrompt asks the model to make the last question standalone, as
// LangChain's condense-question chain does, so that retrieval searches for
// what the user means ("and in 2022?") rather than the words they typed.
const condensePrompt = `Given the conversation below and a follow-up question, rewrite the follow-up question as a standalone question that can be understood without the conversation. Keep names, years and figures from the conversation that the follow-up refers to. Reply with the standalone question only.`

// Condense returns the question a conversation ends with, rewritten by the
// language model into a standalone question when there are earlier turns
// and a model is configured. Offline, or for a single question, it returns
// the last user message as is and a nil stage. System messages are ignored.
func (e *Engine) Condense(ctx context.Context, turns []model.Message) (string, *cost.Stage, error) {
	var history []model.Message
	for _, t := range turns {
		if t.Role == "user" || t.Role == "assistant" {
			history = append(history, t)
		}
	}
	if len(history) == 0 || history[len(history)-1].Role != "user" {
		return "", nil, ErrNoQuestion
	}
	question := strings.TrimSpace(history[len(history)-1].Content)
	if question == "" {
		return "", nil, ErrEmptyQuestion
	}
	history = history[:len(history)-1]
	if e.llm == nil || len(history) == 0 {
		return question, nil, nil
	}
	var b strings.Builder
	b.WriteString("Conversation:\n")
	for _, t := range history {
		who := "User"
		if t.Role == "assistant" {
			who = "Assistant"
		}
		fmt.Fprintf(&b, "%s: %s\n", who, strings.TrimSpace(t.Content))
	}
	fmt.Fprintf(&b, "\nFollow-up question: %s\n\nStandalone question:", question)
	start := time.Now()
	resp, err := e.llm.Generate(ctx, model.Request{
		Messages:  []model.Message{{Role: "system", Content: condensePrompt}, {Role: "user", Content: b.String()}},
		MaxTokens: 200,
	})
	if err != nil {
		return "", nil, fmt.Errorf("condense the conversation (%s): %w", e.llm.Name(), err)
	}
	usage := resp.Usage
	usage.Calls = 1
	if usage.PromptTokens == 0 && usage.CompletionTokens == 0 {
		// The provider reports no counts: estimate them, as compression does.
		usage.PromptTokens = cost.EstimateTokens(condensePrompt) + cost.EstimateTokens(b.String())
		usage.CompletionTokens = cost.EstimateTokens(resp.Text)
		usage.Estimated = true
	}
	stage := &cost.Stage{Name: "condense", Usage: usage, In: len(history) + 1, Out: 1,
		CharsIn: len([]rune(b.String())), LatencyMS: cost.Since(start)}
	standalone := strings.TrimSpace(resp.Text)
	// Models sometimes echo the label or quote the question.
	standalone = strings.TrimSpace(strings.TrimPrefix(standalone, "Standalone question:"))
	standalone = strings.Trim(standalone, "\"“”")
	if standalone == "" {
		stage.Notes = []string{"the model returned nothing; the question is used as asked"}
		return question, stage, nil
	}
	stage.CharsOut = len([]rune(standalone))
	return standalone, stage, nil
}

// AskConversation answers the question a conversation ends with: earlier
// turns are condensed into a standalone question (see Condense), which the
// named technique then answers. The condensing is the result's first stage.
func (e *Engine) AskConversation(ctx context.Context, turns []model.Message, techniqueName string, opts ...QueryOption) (*Result, error) {
	if _, err := e.technique(techniqueName); err != nil {
		return nil, err
	}
	question, stage, err := e.Condense(ctx, turns)
	if err != nil {
		return nil, err
	}
	res, err := e.Ask(ctx, question, techniqueName, opts...)
	if err != nil {
		return nil, err
	}
	if stage != nil {
		res.AddStage(*stage)
	}
	return res, nil
}

// AddStage accounts for a stage run before the technique's own, such as
// condensing a conversation: it comes first in Stages and adds to the
// totals.
func (r *Result) AddStage(s cost.Stage) {
	r.Stats.Stages = append([]cost.Stage{s}, r.Stats.Stages...)
	r.Stats.LLMCalls += s.Calls
	r.Stats.PromptTokens += s.PromptTokens
	r.Stats.CompletionTokens += s.CompletionTokens
	r.Stats.TokensEstimated = r.Stats.TokensEstimated || s.Estimated
	r.Stats.LatencyMS += s.LatencyMS
}

// LLMName names the language model in use ("ollama:mixtral"), or "" offline.
func (e *Engine) LLMName() string {
	if e.llm == nil {
		return ""
	}
	return e.llm.Name()
}
