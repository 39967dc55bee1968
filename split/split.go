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
	"sync"
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
	st := states.Get().(*state)
	defer states.Put(st)
	st.Splitter, st.text, st.ascii = s, text, isASCII(text)
	// About one chunk per Size-Overlap characters; a guess that saves most
	// of the appends.
	st.out = make([]Chunk, 0, len(text)/max(1, s.Size-s.Overlap)+1)
	st.split(piece{0, len(text), st.runes(0, len(text))}, seps, 0)
	out := st.out
	st.out, st.text = nil, ""
	return out
}

// state is one Split call's working memory. The pieces of each level of
// recursion are kept between calls (pooled), since splitting a page cuts
// it into tens of thousands of pieces.
type state struct {
	Splitter
	text   string
	ascii  bool // every character is one byte: counting is free
	out    []Chunk
	levels [][]piece
}

var states = sync.Pool{New: func() any { return new(state) }}

// piece is a byte range of the text with its length in characters.
type piece struct{ start, end, runes int }

func (st *state) runes(start, end int) int {
	if st.ascii {
		return end - start
	}
	return utf8.RuneCountInString(st.text[start:end])
}

func (st *state) split(p piece, seps []string, depth int) {
	sub := st.text[p.start:p.end]
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
	if depth == len(st.levels) {
		st.levels = append(st.levels, nil)
	}
	pieces := st.cut(st.levels[depth][:0], p, sep)
	st.levels[depth] = pieces
	// Pieces under the size are merged in runs; a piece at or over it
	// ends the run and is split further (or emitted as it is).
	run := 0
	for i, q := range pieces {
		if q.runes < st.Size {
			continue
		}
		if run < i {
			st.merge(pieces[run:i])
		}
		run = i + 1
		if len(rest) == 0 {
			st.emit(q.start, q.end)
		} else {
			st.split(q, rest, depth+1)
		}
	}
	if run < len(pieces) {
		st.merge(pieces[run:])
	}
}

// cut appends to dst the pieces of p cut before every occurrence of sep, so
// each separator starts the piece that follows it; "" cuts between
// characters.
func (st *state) cut(dst []piece, p piece, sep string) []piece {
	sub := st.text[p.start:p.end]
	if sep == "" {
		for i := 0; i < len(sub); {
			_, size := utf8.DecodeRuneInString(sub[i:])
			dst = append(dst, piece{p.start + i, p.start + i + size, 1})
			i += size
		}
		return dst
	}
	start := 0
	for i := 0; ; {
		j := strings.Index(sub[i:], sep)
		if j < 0 {
			break
		}
		cut := i + j
		if cut > start {
			dst = append(dst, piece{p.start + start, p.start + cut, st.runes(p.start+start, p.start+cut)})
		}
		start, i = cut, cut+len(sep)
	}
	if start < len(sub) {
		dst = append(dst, piece{p.start + start, p.end, st.runes(p.start+start, p.end)})
	}
	return dst
}

// merge joins adjacent pieces into chunks of at most Size characters, carrying
// up to Overlap characters of trailing pieces into the next chunk. Pieces keep
// their separators, so they join with nothing between them. The chunk being
// built is always a window pieces[lo:i] of consecutive pieces.
func (st *state) merge(pieces []piece) {
	lo, total := 0, 0
	for i, p := range pieces {
		if total+p.runes > st.Size && i > lo {
			st.emit(pieces[lo].start, pieces[i-1].end)
			for total > st.Overlap || (total+p.runes > st.Size && total > 0) {
				total -= pieces[lo].runes
				lo++
			}
		}
		total += p.runes
	}
	if lo < len(pieces) {
		st.emit(pieces[lo].start, pieces[len(pieces)-1].end)
	}
}

func (st *state) emit(start, end int) {
	text := st.text
	for start < end {
		if c := text[start]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			start++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		if c := text[end-1]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			end--
			continue
		}
		r, size := utf8.DecodeLastRuneInString(text[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	// Overlap made only of white space can trim to the chunk just emitted
	// (the original emits it twice); a duplicate would only crowd results.
	if n := len(st.out); n > 0 && st.out[n-1].Start == start && st.out[n-1].End == end {
		return
	}
	if end > start {
		st.out = append(st.out, Chunk{Start: start, End: end, Text: text[start:end]})
	}
}

// asciiSpace marks the one-byte characters unicode.IsSpace reports.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// isASCII reports whether s has only one-byte characters, eight bytes at a
// time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
