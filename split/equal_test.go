package split

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// randomText builds text from pieces that exercise every separator, runs
// of white space (ASCII and not), multi-byte characters and words longer
// than a chunk.
func randomText(r *rand.Rand, n int) string {
	parts := []string{"\n\n", "\n", " ", "  ", "\t", "\u00a0", "\u3000", "a", "word", "Wörter", "日本語",
		"x", "superlongwordthatexceedsthechunksize", ".", "\r\n", "é"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

func TestSplitEqualsReference(t *testing.T) {
	type input struct {
		name string
		text string
	}
	r := rand.New(rand.NewPCG(1, 2))
	var inputs []input
	for i := 0; i < 300; i++ {
		inputs = append(inputs, input{"random", randomText(r, r.IntN(3000))})
	}
	inputs = append(inputs,
		input{"prose", testsupport.Prose(3, 64<<10)},
		input{"prose without paragraphs", strings.ReplaceAll(testsupport.Prose(4, 32<<10), "\n\n", " ")},
		input{"prose without spaces", strings.ReplaceAll(testsupport.Prose(5, 8<<10), " ", "")},
		input{"ascii then not", strings.Repeat("abc def ", 300) + "ü"},
	)
	configs := []Splitter{
		{Size: 1000, Overlap: 100}, {Size: 2000, Overlap: 200}, {Size: 400, Overlap: 200},
		{Size: 10, Overlap: 1}, {Size: 7, Overlap: 6}, {Size: 1, Overlap: 0}, {Size: 50, Overlap: 0},
		{Size: 30, Overlap: 5, Separators: []string{"X", "Y"}},
		{Size: 30, Overlap: 5, Separators: []string{". ", " "}},
	}
	for _, in := range inputs {
		for _, cfg := range configs {
			want := cfg.referenceSplit(in.text)
			got := cfg.Split(in.text)
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s (%d bytes), %+v: %d chunks, reference %d\nfirst difference: %s", in.name, len(in.text), cfg, len(got), len(want), firstDifference(got, want))
			}
		}
	}
}

func firstDifference(got, want []Chunk) string {
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			return "chunk " + strings.Join([]string{got[i].Text, want[i].Text}, " | ")
		}
	}
	return "lengths differ"
}

// FuzzSplitEqualsReference checks Split against the reference on any
// input.
func FuzzSplitEqualsReference(f *testing.F) {
	f.Add("Hi.\n\nI'm Harrison.\n\nHow? Are? You?\nOkay then f f f f.", 10, 1)
	f.Add("äöüß éèêë\n\n\u3000全角スペース\u00a0nbsp", 5, 2)
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		size = 1 + abs(size)%400
		overlap = abs(overlap) % size
		// The reference assumes UTF-8, which loaders guarantee.
		text = strings.ToValidUTF8(text, "\uFFFD")
		s := Splitter{Size: size, Overlap: overlap}
		got, want := s.Split(text), s.referenceSplit(text)
		if (len(got) != 0 || len(want) != 0) && !reflect.DeepEqual(got, want) {
			t.Fatalf("size %d overlap %d: %s", size, overlap, firstDifference(got, want))
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	text := testsupport.Prose(1, 1<<20)
	b.SetBytes(int64(len(text)))
	for _, cfg := range []Splitter{{Size: 1000, Overlap: 100}, {Size: 400, Overlap: 200}} {
		b.Run(fmt.Sprintf("size=%d", cfg.Size), func(b *testing.B) {
			for b.Loop() {
				cfg.Split(text)
			}
		})
	}
	b.Run("reference/size=400", func(b *testing.B) {
		cfg := Splitter{Size: 400, Overlap: 200}
		for b.Loop() {
			cfg.referenceSplit(text)
		}
	})
}
