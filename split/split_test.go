package split

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func texts(chunks []Chunk) []string {
	var out []string
	for _, c := range chunks {
		out = append(out, c.Text)
	}
	return out
}

// The expected outputs below are those of LangChain's RecursiveCharacterTextSplitter
// (keep_separator=True, strip_whitespace=True) on the same inputs, from its test suite.
func TestSplitMatchesRecursiveCharacterSplitter(t *testing.T) {
	tests := []struct {
		name          string
		size, overlap int
		seps          []string
		text          string
		want          []string
	}{
		{
			name: "langchain iterative", size: 10, overlap: 1,
			text: "Hi.\n\nI'm Harrison.\n\nHow? Are? You?\nOkay then f f f f.\nThis is a weird text to write, but gotta test the splittingggg some how.\n\nBye!\n\n-H.",
			want: []string{"Hi.", "I'm", "Harrison.", "How? Are?", "You?", "Okay then", "f f f f.", "This is a", "weird", "text to", "write,", "but gotta", "test the", "splitting", "gggg", "some how.", "Bye!", "-H."},
		},
		{
			name: "langchain keep separator", size: 6, overlap: 0, seps: []string{"X", "Y"},
			text: "....5X..3Y...4X....5Y...",
			want: []string{"....5", "X..3", "Y...4", "X....5", "Y..."},
		},
		{
			name: "langchain start index", size: 6, overlap: 0,
			text: "w1 w1 w1 w1 w1 w1 w1 w1 w1",
			want: []string{"w1 w1", "w1 w1", "w1 w1", "w1 w1", "w1"},
		},
		{
			name: "characters count, not bytes", size: 5, overlap: 0,
			text: "äöüß éèêë",
			want: []string{"äöüß", "éèêë"},
		},
		{
			name: "overlap carries trailing words", size: 20, overlap: 10,
			text: "one two three four five six seven eight nine ten",
			want: []string{"one two three four", "four five six seven", "six seven eight", "eight nine ten"},
		},
		{name: "empty", size: 10, overlap: 0, text: "", want: nil},
		{name: "only space", size: 10, overlap: 0, text: " \n\n \n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Splitter{Size: tt.size, Overlap: tt.overlap, Separators: tt.seps}
			got := s.Split(tt.text)
			if !reflect.DeepEqual(texts(got), tt.want) {
				t.Errorf("got %q\nwant %q", texts(got), tt.want)
			}
			for _, c := range got {
				if tt.text[c.Start:c.End] != c.Text {
					t.Errorf("chunk %q has offsets [%d,%d) pointing at %q", c.Text, c.Start, c.End, tt.text[c.Start:c.End])
				}
			}
		})
	}
}

func TestSplitDefaultsKeepSizesAndOrder(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString("Paragraph ")
		b.WriteString(strings.Repeat("wörd ", i%37+3))
		if i%5 == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteString("\n")
		}
	}
	text := b.String()
	for _, cfg := range []Splitter{{Size: 1000, Overlap: 100}, {Size: 2000, Overlap: 200}, {Size: 400, Overlap: 200}} {
		chunks := cfg.Split(text)
		if len(chunks) < 2 {
			t.Fatalf("%+v: %d chunks", cfg, len(chunks))
		}
		prev := Chunk{}
		for i, c := range chunks {
			if n := utf8.RuneCountInString(c.Text); n > cfg.Size {
				t.Errorf("%+v: chunk %d has %d characters", cfg, i, n)
			}
			if i > 0 && (c.Start <= prev.Start || c.End <= prev.End) {
				t.Errorf("%+v: chunk %d [%d,%d) does not follow [%d,%d)", cfg, i, c.Start, c.End, prev.Start, prev.End)
			}
			if i > 0 && c.Start > prev.End && strings.TrimSpace(text[prev.End:c.Start]) != "" {
				t.Errorf("%+v: gap between chunk %d and the one before: %q", cfg, i, text[prev.End:c.Start])
			}
			prev = c
		}
	}
}
