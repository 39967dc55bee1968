package compress

import (
	"context"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
)

// passage makes a passage that sits at offset start of its page.
func passage(id, text string, start int) document.Passage {
	return document.Passage{ChunkID: id, Source: "letter.pdf", Page: 2, Start: start, End: start + len(text), Text: text}
}

func TestSentencesKeepsRelevantSentencesWithOffsets(t *testing.T) {
	page := "Intro words here. Free cash flow rose to $25 billion in 2021. The weather was mild. Capital spending fell. Cash flow from operations grew as well."
	start := 100 // the passage starts 100 bytes into its page
	in := []document.Passage{
		passage("a", page, start),
		passage("b", "Nothing here is about the topic at all. Kayaks and otters.", 0),
	}
	tests := []struct {
		name     string
		context  int
		want     []string
		dropText []string
	}{
		{"only relevant", 0, []string{"Free cash flow rose to $25 billion in 2021.", "Cash flow from operations grew as well."}, []string{"weather", "Intro"}},
		{"with context", 1, []string{"Intro words here.", "The weather was mild.", "Capital spending fell."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sentences{MinCoverage: 0.5, Context: tt.context}
			out, rep, err := s.Compress(context.Background(), "How did cash flow change?", in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].ChunkID != "a" {
				t.Fatalf("kept %d passages %v, want only a", len(out), out)
			}
			if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "dropped") {
				t.Errorf("notes = %v, want one about the dropped passage", rep.Notes)
			}
			for _, w := range tt.want {
				if !strings.Contains(out[0].Text, w) {
					t.Errorf("kept text %q lacks %q", out[0].Text, w)
				}
			}
			for _, d := range tt.dropText {
				if strings.Contains(out[0].Text, d) {
					t.Errorf("kept text %q has irrelevant %q", out[0].Text, d)
				}
			}
			// Every kept piece points at its own text in the page.
			for _, pc := range out[0].Pieces() {
				if got := page[pc.Start-start : pc.End-start]; got != pc.Text {
					t.Errorf("piece [%d,%d) = %q, page has %q", pc.Start, pc.End, pc.Text, got)
				}
			}
		})
	}
}

func TestRelevanceDropsIrrelevantChunks(t *testing.T) {
	in := []document.Passage{
		passage("cash", "Free cash flow rose to $25 billion as capital spending fell.", 0),
		passage("half", "Cash was held in bonds.", 0),
		passage("otters", "Otters and kayaks on the river in spring.", 0),
	}
	tests := []struct {
		name                string
		minCoverage, toBest float64
		want                string
	}{
		{"defaults", 0.1, 0.6, "cash"},
		{"lenient", 0.1, 0.1, "cash,half"},
		{"never keeps what covers nothing", 0.0, 0.0, "cash,half"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Relevance{MinCoverage: tt.minCoverage, RelativeToBest: tt.toBest}
			out, rep, err := r.Compress(context.Background(), "free cash flow", in)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Notes) != len(in)-len(out) {
				t.Errorf("notes %v: want one per dropped chunk", rep.Notes)
			}
			var ids []string
			for _, p := range out {
				ids = append(ids, p.ChunkID)
				if p.Text != in[idx(in, p.ChunkID)].Text {
					t.Errorf("filter changed the text of %s", p.ChunkID)
				}
			}
			if got := strings.Join(ids, ","); got != tt.want {
				t.Errorf("kept %s, want %s", got, tt.want)
			}
		})
	}
}

func idx(ps []document.Passage, id string) int {
	for i, p := range ps {
		if p.ChunkID == id {
			return i
		}
	}
	return -1
}
