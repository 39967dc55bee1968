package textproc

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnglishTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"The running dogs ran", []string{"run", "dog", "ran"}},
		{"Amazon's customers", []string{"amazon", "custom"}},
		{"Amazon’s customers", []string{"amazon", "custom"}},
		{"Revenue grew 14.2% to $1,250 million in 2021.", []string{"revenu", "grew", "14.2", "1,250", "million", "2021"}},
		{"Saint-Étienne ÉCOLE", []string{"saint", "étienn", "école"}},
		{"  ", nil},
		{"it is a test of the system", []string{"test", "system"}},
	}
	for _, tt := range tests {
		if got := English.Terms(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenOffsetsPointAtWords(t *testing.T) {
	text := "Über-fast delivery, shipped “today”; it’s 3.5× faster."
	for _, tok := range English.Tokens(text) {
		word := text[tok.Start:tok.End]
		if got := English.Terms(word); len(got) != 1 || got[0] != tok.Term {
			t.Errorf("token %q at [%d,%d) = %q re-analyzes to %q", tok.Term, tok.Start, tok.End, word, got)
		}
	}
}

func TestContentDropsQuestionWords(t *testing.T) {
	got := Content.Terms("What does the CEO say about long-term thinking?")
	want := []string{"ceo", "long", "term", "think"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"Revenue was $3.5 billion. It grew.", []string{"Revenue was $3.5 billion.", "It grew."}},
		{"We met Dr. Smith and J. Doe in the U.S. Army. Then we left.", []string{"We met Dr. Smith and J. Doe in the U.S. Army.", "Then we left."}},
		{"He said “Stop.” Then he went.", []string{"He said “Stop.”", "Then he went."}},
		{"Heading\n\nParagraph one continues\nover a line. Next.", []string{"Heading", "Paragraph one continues\nover a line.", "Next."}},
		{"Our goals:\n- faster delivery\n- lower prices", []string{"Our goals:", "- faster delivery", "- lower prices"}},
		{"lower case after. point stays", []string{"lower case after. point stays"}},
		{"", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range Sentences(tt.in) {
			got = append(got, tt.in[s.Start:s.End])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Sentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSentencesBreakAfterHeadingsInPDFText(t *testing.T) {
	text := "Larchwick Freight opens its doors\n" +
		"In my 2019 letter I wrote that Larchwick Freight, our in-house trucking operation, had become\n" +
		"unusually good at moving small loads. It grew.\n" +
		"To our shareholders, customers, and colleagues:\n" +
		"I have written sixteen of these letters, and none has been harder to write than this one, by far.\n" +
		"Revenue grew to $412 million in 2019 and to $468 million in 2020, led by Harbor\n" +
		"Point and the direct business."
	var got []string
	for _, s := range Sentences(text) {
		got = append(got, text[s.Start:s.End])
	}
	want := []string{
		"Larchwick Freight opens its doors",
		"In my 2019 letter I wrote that Larchwick Freight, our in-house trucking operation, had become\nunusually good at moving small loads.",
		"It grew.",
		"To our shareholders, customers, and colleagues:",
		"I have written sixteen of these letters, and none has been harder to write than this one, by far.",
		"Revenue grew to $412 million in 2019 and to $468 million in 2020, led by Harbor\nPoint and the direct business.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestForEachWordStemsToTerms checks that stemming the words ForEachWord
// yields gives the analyzer's terms with the same offsets, which the
// store's indexer relies on.
func TestForEachWordStemsToTerms(t *testing.T) {
	for _, text := range []string{
		"",
		"The companies' CEO's letters were RUNNING late; Amazon’s revenues grew 22%.",
		"stop words only: the and of to",
		strings.Repeat("Héllo wörld naïve café, customers' satisfaction. ", 200),
	} {
		var want, got []Token
		English.ForEach(text, func(term string, start, end int) { want = append(want, Token{term, start, end}) })
		English.ForEachWord(text, func(word []byte, start, end int) {
			if term := English.Stem(string(word)); term != "" {
				got = append(got, Token{term, start, end})
			}
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.40q: words stem to %v, want %v", text, got, want)
		}
	}
}
