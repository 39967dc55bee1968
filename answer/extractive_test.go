package answer

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
)

func ctxPassage(source string, page, start int, text string) document.Passage {
	return document.Passage{Source: source, Page: page, Start: start, End: start + len(text), Text: text}
}

func TestExtractiveAnswer(t *testing.T) {
	contexts := []document.Passage{
		ctxPassage("2022.pdf", 1, 500, "Cloud Results\nAWS revenue grew 29% to $80 billion in 2022. Free cash flow was negative. The cloud business kept its margin while customers optimized spending."),
		ctxPassage("2022.pdf", 1, 0, "Letter to shareholders. In 2022 AWS revenue grew despite the economy. We hired engineers in Dublin."),
		ctxPassage("2021.pdf", 3, 0, "AWS revenue grew 37% in 2021. Satellites were launched for Kuiper."),
	}
	e := NewExtractive(3, 800)
	ans, err := e.Answer(context.Background(), "How much did AWS revenue grow in 2022?", contexts)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Mode != "extractive" || ans.Usage.Calls != 0 {
		t.Errorf("mode %q, %d calls; want extractive with no calls", ans.Mode, ans.Usage.Calls)
	}
	if !strings.Contains(ans.Text, "AWS revenue grew 29% to $80 billion in 2022. [1]") {
		t.Errorf("answer %q lacks the best sentence cited to context 1", ans.Text)
	}
	if strings.Contains(ans.Text, "Cloud Results") {
		t.Errorf("answer %q uses a heading", ans.Text)
	}
	if strings.Contains(ans.Text, "Dublin") || strings.Contains(ans.Text, "Kuiper") {
		t.Errorf("answer %q has an irrelevant sentence", ans.Text)
	}
	// Every sentence is cited, with a context number that exists.
	cites := regexp.MustCompile(`\[(\d+)\]`).FindAllStringSubmatch(ans.Text, -1)
	if len(cites) == 0 || len(cites) > 3 {
		t.Fatalf("answer %q has %d citations, want 1 to 3 (one per sentence)", ans.Text, len(cites))
	}
	for _, c := range cites {
		if c[1] < "1" || c[1] > "3" {
			t.Errorf("citation [%s] points at no context", c[1])
		}
	}
	// Sentences come in source order: page 1 offset 0 before offset 500.
	if i, j := strings.Index(ans.Text, "despite the economy"), strings.Index(ans.Text, "29%"); i >= 0 && j >= 0 && i > j {
		t.Errorf("answer %q is not in source order", ans.Text)
	}
}

func TestExtractiveAnswerLimitsAndNoAnswer(t *testing.T) {
	long := strings.Repeat("Revenue grew strongly in the year because customers bought more widgets. ", 20)
	tests := []struct {
		name     string
		contexts []document.Passage
		maxChars int
		want     string
	}{
		{"nothing relevant", []document.Passage{ctxPassage("a", 1, 0, "Otters swim in the cold river every single morning.")}, 800, NoAnswer},
		{"no context", nil, 800, NoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := NewExtractive(4, tt.maxChars).Answer(context.Background(), "How did revenue grow?", tt.contexts)
			if err != nil || ans.Text != tt.want {
				t.Fatalf("answer = %q, %v; want %q", ans.Text, err, tt.want)
			}
		})
	}
	ans, _ := NewExtractive(4, 200).Answer(context.Background(), "How did revenue grow?", []document.Passage{ctxPassage("a", 1, 0, long)})
	if len(ans.Text) > 200 || ans.Text == NoAnswer {
		t.Errorf("answer of %d chars, want a real answer within 200: %q", len(ans.Text), ans.Text)
	}
	// Repeated sentences are not repeated in the answer.
	if strings.Count(ans.Text, "customers bought more widgets") > 1 {
		t.Errorf("answer repeats itself: %q", ans.Text)
	}
}
