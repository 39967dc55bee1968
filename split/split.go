// Package split cuts page text into chunks with the semantics of the widely
// used recursive character splitter (LangChain's RecursiveCharacterTextSplitter
// with its defaults), and keeps each chunk's byte offsets in the page so that
// a citation can point at the exact text.
//
// Sizes and overlaps count characters (Unicode code points), as the original
// does; offsets are byte offsets into the UTF-8 text.
package split

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultSeparators are tried in order: paragraphs, lines, words, characters.
var DefaultSeparators = []string{"\n\n", "\n", " ", ""}

// Splitter splits text recursively on Separators and merges adjacent pieces
// up to Size characters, overlapping consecutive chunks by up to Overlap.
type Splitter struct {
	Size       int
	Overlap    int
	Separators []string // nil means DefaultSeparators
}

// Chunk is one piece of a text: its byte range and the text itself.
type Chunk struct {
	Start, End int
	Text       string
}

// Validate reports a size or overlap that cannot work.
func (s Splitter) Validate() error {
	if s.Size <= 0 {
		return fmt.Errorf("chunk size must be positive, got %d", s.Size)
	}
	if s.Overlap < 0 || s.Overlap >= s.Size {
		return fmt.Errorf("chunk overlap must be at least 0 and less than the size %d, got %d", s.Size, s.Overlap)
	}
	return nil
}

// Split returns the chunks of text in order. Leading and trailing white space
// is trimmed from every chunk and empty chunks are dropped, as in the original.
func (s Splitter) Split(text string) []Chunk {
	seps := s.Separators
	if seps == nil {
		seps = DefaultSeparators
	}
	var out []Chunk
	s.split(text, piece{0, len(text), utf8.RuneCountInString(text)}, seps, &out)
	return out
}

// piece is a byte range of the text with its length in characters.
type piece struct{ start, end, runes int }

func (s Splitter) split(text string, p piece, seps []string, out *[]Chunk) {
	sub := text[p.start:p.end]
	sep := seps[len(seps)-1]
	var rest []string
	for i, c := range seps {
		if c == "" {
			sep = c
			break
		}
		if strings.Contains(sub, c) {
			sep, rest = c, seps[i+1:]
			break
		}
	}
	var good []piece
	for _, q := range splitKeepingSeparator(text, p, sep) {
		if q.runes < s.Size {
			good = append(good, q)
			continue
		}
		if len(good) > 0 {
			s.merge(text, good, out)
			good = good[:0]
		}
		if len(rest) == 0 {
			s.emit(text, q.start, q.end, out)
		} else {
			s.split(text, q, rest, out)
		}
	}
	if len(good) > 0 {
		s.merge(text, good, out)
	}
}

// splitKeepingSeparator cuts p before every occurrence of sep, so each
// separator starts the piece that follows it; "" cuts between characters.
func splitKeepingSeparator(text string, p piece, sep string) []piece {
	var out []piece
	sub := text[p.start:p.end]
	if sep == "" {
		for i, r := range sub {
			out = append(out, piece{p.start + i, p.start + i + utf8.RuneLen(r), 1})
		}
		return out
	}
	start := 0
	for i := 0; ; {
		j := strings.Index(sub[i:], sep)
		if j < 0 {
			break
		}
		cut := i + j
		if cut > start {
			out = append(out, newPiece(text, p.start+start, p.start+cut))
		}
		start, i = cut, cut+len(sep)
	}
	if start < len(sub) {
		out = append(out, newPiece(text, p.start+start, p.end))
	}
	return out
}

func newPiece(text string, start, end int) piece {
	return piece{start, end, utf8.RuneCountInString(text[start:end])}
}

// merge joins adjacent pieces into chunks of at most Size characters, carrying
// up to Overlap characters of trailing pieces into the next chunk. Pieces keep
// their separators, so they join with nothing between them.
func (s Splitter) merge(text string, pieces []piece, out *[]Chunk) {
	var cur []piece
	total := 0
	for _, p := range pieces {
		if total+p.runes > s.Size && len(cur) > 0 {
			s.emit(text, cur[0].start, cur[len(cur)-1].end, out)
			for total > s.Overlap || (total+p.runes > s.Size && total > 0) {
				total -= cur[0].runes
				cur = cur[1:]
			}
		}
		cur = append(cur, p)
		total += p.runes
	}
	if len(cur) > 0 {
		s.emit(text, cur[0].start, cur[len(cur)-1].end, out)
	}
}

func (s Splitter) emit(text string, start, end int, out *[]Chunk) {
	for start < end {
		r, size := utf8.DecodeRuneInString(text[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(text[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	// Overlap made only of white space can trim to the chunk just emitted
	// (the original emits it twice); a duplicate would only crowd results.
	if n := len(*out); n > 0 && (*out)[n-1].Start == start && (*out)[n-1].End == end {
		return
	}
	if end > start {
		*out = append(*out, Chunk{Start: start, End: end, Text: text[start:end]})
	}
}
