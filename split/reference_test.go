package split

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The splitter as it was first written, straightforwardly from LangChain's
// algorithm (allocating a slice per level and per merge, counting
// characters piece by piece). Split must give exactly its output; the tests
// compare the two on generated and random texts.

// referenceSplit is Split as first written.
func (s Splitter) referenceSplit(text string) []Chunk {
	seps := s.Separators
	if seps == nil {
		seps = DefaultSeparators
	}
	var out []Chunk
	s.refSplit(text, piece{0, len(text), utf8.RuneCountInString(text)}, seps, &out)
	return out
}

func (s Splitter) refSplit(text string, p piece, seps []string, out *[]Chunk) {
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
	for _, q := range refSplitKeepingSeparator(text, p, sep) {
		if q.runes < s.Size {
			good = append(good, q)
			continue
		}
		if len(good) > 0 {
			s.refMerge(text, good, out)
			good = good[:0]
		}
		if len(rest) == 0 {
			s.refEmit(text, q.start, q.end, out)
		} else {
			s.refSplit(text, q, rest, out)
		}
	}
	if len(good) > 0 {
		s.refMerge(text, good, out)
	}
}

// refSplitKeepingSeparator cuts p before every occurrence of sep, so each
// separator starts the piece that follows it; "" cuts between characters.
func refSplitKeepingSeparator(text string, p piece, sep string) []piece {
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
			out = append(out, refNewPiece(text, p.start+start, p.start+cut))
		}
		start, i = cut, cut+len(sep)
	}
	if start < len(sub) {
		out = append(out, refNewPiece(text, p.start+start, p.end))
	}
	return out
}

func refNewPiece(text string, start, end int) piece {
	return piece{start, end, utf8.RuneCountInString(text[start:end])}
}

// merge joins adjacent pieces into chunks of at most Size characters, carrying
// up to Overlap characters of trailing pieces into the next chunk. Pieces keep
// their separators, so they join with nothing between them.
func (s Splitter) refMerge(text string, pieces []piece, out *[]Chunk) {
	var cur []piece
	total := 0
	for _, p := range pieces {
		if total+p.runes > s.Size && len(cur) > 0 {
			s.refEmit(text, cur[0].start, cur[len(cur)-1].end, out)
			for total > s.Overlap || (total+p.runes > s.Size && total > 0) {
				total -= cur[0].runes
				cur = cur[1:]
			}
		}
		cur = append(cur, p)
		total += p.runes
	}
	if len(cur) > 0 {
		s.refEmit(text, cur[0].start, cur[len(cur)-1].end, out)
	}
}

func (s Splitter) refEmit(text string, start, end int, out *[]Chunk) {
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
