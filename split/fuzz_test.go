package split

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSplit checks the splitter's invariants on any text, size and overlap:
// chunks are in order, each is the text between its offsets, trimmed and
// within the size, consecutive chunks overlap by at most the overlap, and
// together they cover every character that is not white space. Seeds are in
// testdata/fuzz/FuzzSplit.
func FuzzSplit(f *testing.F) {
	f.Add("Hi.\n\nI'm Harrison.\n\nHow? Are? You?\nOkay then f f f f.", 10, 1)
	f.Add("äöüß éèêë\n\n\u3000全角スペース\u00a0nbsp", 5, 2)
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		size = 1 + abs(size)%400
		overlap = abs(overlap) % size
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, "\uFFFD")
		}
		s := Splitter{Size: size, Overlap: overlap}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		chunks := s.Split(text)
		covered := make([]bool, len(text))
		for i, c := range chunks {
			if c.Start < 0 || c.End > len(text) || c.Start >= c.End {
				t.Fatalf("chunk %d has offsets [%d,%d) in %d bytes", i, c.Start, c.End, len(text))
			}
			if text[c.Start:c.End] != c.Text {
				t.Fatalf("chunk %d text %q is not the text at [%d,%d): %q", i, c.Text, c.Start, c.End, text[c.Start:c.End])
			}
			if !utf8.RuneStart(text[c.Start]) || (c.End < len(text) && !utf8.RuneStart(text[c.End])) {
				t.Fatalf("chunk %d [%d,%d) cuts a character", i, c.Start, c.End)
			}
			if n := utf8.RuneCountInString(c.Text); n > size {
				t.Fatalf("chunk %d has %d characters, over the size %d: %q", i, n, size, c.Text)
			}
			if c.Text != strings.TrimSpace(c.Text) {
				t.Fatalf("chunk %d is not trimmed: %q", i, c.Text)
			}
			if i > 0 {
				prev := chunks[i-1]
				// As in the original, a chunk may start or end where the one
				// before it does (the overlap it carries, or the piece it
				// adds, can be only white space), but never repeat it.
				if c.Start < prev.Start || c.End < prev.End || (c.Start == prev.Start && c.End == prev.End) {
					t.Fatalf("chunk %d [%d,%d) does not follow chunk %d [%d,%d)", i, c.Start, c.End, i-1, prev.Start, prev.End)
				}
				if c.Start < prev.End {
					if n := utf8.RuneCountInString(text[c.Start:prev.End]); n > overlap {
						t.Fatalf("chunks %d and %d share %d characters, over the overlap %d", i-1, i, n, overlap)
					}
				}
			}
			for j := c.Start; j < c.End; j++ {
				covered[j] = true
			}
		}
		for i, r := range text {
			if !covered[i] && !unicode.IsSpace(r) {
				t.Fatalf("character %q at byte %d is in no chunk (size %d, overlap %d)", r, i, size, overlap)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}
