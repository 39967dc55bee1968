package distill_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/model"
)

// openLetters opens a new collection holding testsupport.Letters.
func openLetters(t *testing.T, llm string) *distill.Engine {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for name, pages := range testsupport.Letters {
		testsupport.PDF(t, dir+"/files", name, name, pages...)
	}
	eng, err := distill.Open(ctx, distill.Options{DB: dir + "/db", Create: true, NoCache: true, Models: distill.Models{LLM: llm, Embed: "none", Rerank: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	rep, err := eng.Ingest(ctx, []string{dir + "/files"}, ingest.Options{})
	if err != nil || rep.Count(ingest.Failed) > 0 {
		t.Fatalf("ingest: %v %+v", err, rep)
	}
	return eng
}

func TestCondense(t *testing.T) {
	fake := fakellm.New(func(prompt string) fakellm.Reply {
		if strings.HasSuffix(prompt, "Standalone question:") {
			return fakellm.Reply{Text: "Standalone question: \"How much did revenue grow in 2022?\"", Usage: cost.Usage{Calls: 1, PromptTokens: 80, CompletionTokens: 9}}
		}
		return fakellm.Reply{Text: "ok"}
	})
	uri := fakellm.Register(t.Name(), fake)
	online := openLetters(t, uri)
	offline := openLetters(t, "none")
	conversation := []model.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "How much did revenue grow in 2021?"},
		{Role: "assistant", Content: "Revenue grew 12% to $40 million in 2021."},
		{Role: "user", Content: "And in 2022?"},
	}
	tests := []struct {
		name      string
		eng       *distill.Engine
		turns     []model.Message
		want      string
		wantStage bool
		wantErr   error
	}{
		{"offline keeps the question", offline, conversation, "And in 2022?", false, nil},
		{"one question is not condensed", online, conversation[3:], "And in 2022?", false, nil},
		{"the model rewrites a follow-up", online, conversation, "How much did revenue grow in 2022?", true, nil},
		{"no user turn last", online, conversation[:3], "", false, distill.ErrNoQuestion},
		{"only a system turn", online, conversation[:1], "", false, distill.ErrNoQuestion},
		{"blank question", online, []model.Message{{Role: "user", Content: "  "}}, "", false, distill.ErrEmptyQuestion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.Requests())
			got, stage, err := tt.eng.Condense(context.Background(), tt.turns)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("question = %q, want %q", got, tt.want)
			}
			if (stage != nil) != tt.wantStage {
				t.Fatalf("stage = %+v, want one: %v", stage, tt.wantStage)
			}
			calls := len(fake.Requests()) - before
			if tt.wantStage {
				if calls != 1 || stage.Calls != 1 || stage.PromptTokens == 0 {
					t.Errorf("calls = %d, stage = %+v", calls, stage)
				}
				prompt := fake.Requests()[before].Messages[1].Content
				for _, want := range []string{"User: How much did revenue grow in 2021?", "Assistant: Revenue grew 12%", "Follow-up question: And in 2022?"} {
					if !strings.Contains(prompt, want) {
						t.Errorf("prompt lacks %q:\n%s", want, prompt)
					}
				}
				if strings.Contains(prompt, "Be brief") {
					t.Errorf("prompt holds the system message:\n%s", prompt)
				}
			} else if calls != 0 {
				t.Errorf("%d model calls, want none", calls)
			}
		})
	}
}

func TestAskConversation(t *testing.T) {
	fake := fakellm.New(func(prompt string) fakellm.Reply {
		if strings.HasSuffix(prompt, "Standalone question:") {
			return fakellm.Reply{Text: "What did Alpha Widgets acquire in 2022?"}
		}
		// The answer call sees the contexts retrieved for the standalone
		// question; it answers only when they hold the acquisition.
		if strings.Contains(prompt, "Question: What did Alpha Widgets acquire in 2022?") && strings.Contains(prompt, "Borealis Optics") {
			return fakellm.Reply{Text: "Alpha Widgets bought Borealis Optics [1]."}
		}
		return fakellm.Reply{Text: "I don't know."}
	})
	eng := openLetters(t, fakellm.Register(t.Name(), fake))
	res, err := eng.AskConversation(context.Background(), []model.Message{
		{Role: "user", Content: "What did Alpha Widgets launch in 2021?"},
		{Role: "assistant", Content: "The Zephyr line."},
		{Role: "user", Content: "What did they buy the next year?"},
	}, "regular")
	if err != nil {
		t.Fatal(err)
	}
	if res.Question != "What did Alpha Widgets acquire in 2022?" {
		t.Errorf("question = %q", res.Question)
	}
	if res.Stats.Stages[0].Name != "condense" || res.Stats.LLMCalls < 1 {
		t.Errorf("stats = %+v", res.Stats)
	}
	if !strings.Contains(res.Answer, "Borealis") {
		t.Errorf("answer %q does not come from the standalone question", res.Answer)
	}
	var unknown *distill.UnknownTechniqueError
	if _, err := eng.AskConversation(context.Background(), []model.Message{{Role: "user", Content: "hi"}}, "nope"); !errors.As(err, &unknown) {
		t.Errorf("unknown technique: err = %v", err)
	}
}
