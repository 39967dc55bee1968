package answer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/answer"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/openai"
	_ "github.com/distill-rag/distill/model/sagemaker"
)

var contexts = []document.Passage{
	{Source: "/data/alpha-2021.pdf", Page: 1, Text: "Revenue grew 12% to $40 million in 2021.\n"},
	{Source: "notes.md", Text: "The warehouse in Kraków opened in June."},
}

func TestPromptNumbersContexts(t *testing.T) {
	got := answer.Prompt{}.Render("What is {context}?", contexts)
	want := "[1] (alpha-2021.pdf, page 1)\nRevenue grew 12% to $40 million in 2021.\n\n[2] (notes.md)\nThe warehouse in Kraków opened in June.\n\nQuestion: What is {context}?"
	if !strings.HasPrefix(got, "Use the following pieces of context") || !strings.HasSuffix(got, want) {
		t.Errorf("Render =\n%s\nwant the study's prompt ending in\n%s", got, want)
	}
}

func TestLoadPrompt(t *testing.T) {
	dir := t.TempDir()
	de := filepath.Join(dir, "de.txt")
	os.WriteFile(de, []byte("Beantworte die Frage nur aus dem Kontext und zitiere [n].\n\n{context}\n\nFrage: {question}"), 0o644)
	p, err := answer.LoadPrompt(de)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Render("Wie stark wuchs der Umsatz?", contexts[:1]); !strings.Contains(got, "Frage: Wie stark wuchs der Umsatz?") || !strings.Contains(got, "[1] (alpha-2021.pdf, page 1)") {
		t.Errorf("German prompt rendered as %q", got)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("Answer: {question}"), 0o644)
	for path, want := range map[string]string{bad: "no {context}", filepath.Join(dir, "missing.txt"): "cannot read"} {
		if _, err := answer.LoadPrompt(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadPrompt(%s) = %v, want an error naming the file: %s", path, err, want)
		}
	}
}

func TestLLMAnswer(t *testing.T) {
	tests := []struct {
		name          string
		srv           func(t *testing.T) *fakemodel.Server
		target        string
		wantEstimated bool
	}{
		{name: "provider reports usage", srv: func(t *testing.T) *fakemodel.Server {
			return fakemodel.OpenAI(t, fakemodel.Reply(" Revenue grew 12% [1]. "), fakemodel.Usage(210, 9))
		}, target: "gpt-4o-mini"},
		{name: "usage estimated when the provider gives none", srv: func(t *testing.T) *fakemodel.Server {
			return fakemodel.SageMaker(t, fakemodel.Reply("Revenue grew 12% [1]."), fakemodel.Usage(0, 0))
		}, target: "mixtral?format=messages", wantEstimated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv(t)
			llm, err := model.OpenLLM(context.Background(), srv.URI(tt.target))
			if err != nil {
				t.Fatal(err)
			}
			a := answer.NewLLM(llm, answer.Prompt{})
			ans, err := a.Answer(context.Background(), "How much did revenue grow?", contexts)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Mode != "llm" || ans.Text != "Revenue grew 12% [1]." || ans.Usage.Calls != 1 || ans.Usage.Estimated != tt.wantEstimated || ans.Usage.PromptTokens == 0 {
				t.Errorf("Answer = %+v", ans)
			}
			if p := srv.Prompts()[0]; !strings.Contains(p, "[2] (notes.md)\nThe warehouse") || !strings.Contains(p, "Question: How much did revenue grow?") {
				t.Errorf("prompt sent:\n%s", p)
			}
		})
	}
}
