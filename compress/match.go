package compress

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/textproc"
)

// folded is text reduced for matching (NFKC, lower case, one space for any
// run of white space, straight quotes and hyphens), with where each of its
// bytes came from in the original.
type folded struct {
	text  string
	start []int // per byte of text: offset of the source rune in the original
	end   []int // per byte of text: end of the source rune in the original
}

// fold reduces s so that a model's copy of it matches even where the model
// changed white space, quotes, dashes, ligatures or case.
func fold(s string) folded {
	var f folded
	var b strings.Builder
	emit := func(out string, i, j int) {
		for k := 0; k < len(out); k++ {
			f.start = append(f.start, i)
			f.end = append(f.end, j)
		}
		b.WriteString(out)
	}
	space := true // at the start, or after a space: drop further space
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		switch {
		case unicode.IsSpace(r):
			if !space {
				emit(" ", i, j)
				space = true
			}
		case r == '\u00ad' || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff':
			// soft hyphens and zero-width characters: invisible, often lost
		default:
			var out string
			switch r {
			case '‘', '’', '‚', '‛', '′', '`', '´':
				out = "'"
			case '“', '”', '„', '‟', '″', '«', '»':
				out = `"`
			case '‐', '‑', '‒', '–', '—', '―', '−':
				out = "-"
			default:
				out = strings.ToLower(norm.NFKC.String(string(r)))
			}
			emit(out, i, j)
			space = false
		}
		i = j
	}
	f.text = b.String()
	if n := len(f.text); n > 0 && f.text[n-1] == ' ' {
		f.text, f.start, f.end = f.text[:n-1], f.start[:n-1], f.end[:n-1]
	}
	return f
}

// matchResult is an extractor's answer matched back to its passage.
type matchResult struct {
	Spans    []document.Span // page offsets of the parts found, merged
	Invented int             // characters of the answer not found in the passage
}

var (
	// bullet is a list marker or a label a model puts before a copied line.
	bullet = regexp.MustCompile(`^\s*(?:[-*•·]|\d{1,2}[.)]|>+)\s+`)
	// elision is where a model marks that it skipped text.
	elision = regexp.MustCompile(`\.\.\.+|…|\[\.\.\.\]|\(\.\.\.\)`)
)

// minMatch is the shortest folded part worth placing: shorter ones
// ("1.", "-") are markup, and would match anywhere.
const minMatch = 4

// matchBack finds the parts of a model's answer in the passage's pieces.
// It tries each line of the answer whole, then split at elisions, then
// sentence by sentence, then without the punctuation a model adds around a
// copied fragment; what is still not found was not in the passage.
func matchBack(p document.Passage, answer string) matchResult {
	pieces := p.Pieces()
	ff := make([]folded, len(pieces))
	for i, pc := range pieces {
		ff[i] = fold(pc.Text)
	}
	m := &matcher{pieces: pieces, folded: ff}
	for _, line := range strings.Split(answer, "\n") {
		line = bullet.ReplaceAllString(line, "")
		m.place(line, 0)
	}
	return matchResult{Spans: m.merged(), Invented: m.invented}
}

type matcher struct {
	pieces   []document.Piece
	folded   []folded
	spans    []document.Span
	invented int
	// where the last part was found: models copy parts in order, so the
	// next is searched for after it first.
	lastPiece, lastEnd int
}

// place finds text, splitting it further when it is not found whole.
func (m *matcher) place(text string, depth int) {
	q := fold(text).text
	if len(q) < minMatch {
		return
	}
	if m.find(q) {
		return
	}
	switch depth {
	case 0: // split at elisions
		if parts := elision.Split(text, -1); len(parts) > 1 {
			for _, part := range parts {
				m.place(part, 1)
			}
			return
		}
		fallthrough
	case 1: // sentence by sentence
		if ss := textproc.Sentences(text); len(ss) > 1 {
			for _, s := range ss {
				m.place(text[s.Start:s.End], 2)
			}
			return
		}
		fallthrough
	case 2: // without quotes and punctuation around it
		trimmed := strings.TrimFunc(q, func(r rune) bool { return unicode.IsPunct(r) || r == ' ' })
		if len(trimmed) >= minMatch && trimmed != q && m.find(trimmed) {
			return
		}
	}
	m.invented += utf8.RuneCountInString(strings.TrimSpace(text))
}

// find places a folded part in the pieces, after the last part first.
func (m *matcher) find(q string) bool {
	try := func(pi, from int) bool {
		f := m.folded[pi]
		if from > len(f.text) {
			return false
		}
		k := strings.Index(f.text[from:], q)
		if k < 0 {
			return false
		}
		a, b := from+k, from+k+len(q)
		base := m.pieces[pi].Start
		m.spans = append(m.spans, document.Span{Start: base + f.start[a], End: base + f.end[b-1]})
		m.lastPiece, m.lastEnd = pi, b
		return true
	}
	if try(m.lastPiece, m.lastEnd) {
		return true
	}
	for pi := range m.pieces {
		if try(pi, 0) {
			return true
		}
	}
	return false
}

// merged returns the spans in order, joining those that overlap or are
// separated only by white space in the same piece.
func (m *matcher) merged() []document.Span {
	if len(m.spans) == 0 {
		return nil
	}
	spans := append([]document.Span(nil), m.spans...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	out := []document.Span{spans[0]}
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if sp.Start <= last.End || m.onlySpaceBetween(last.End, sp.Start) {
			last.End = max(last.End, sp.End)
			continue
		}
		out = append(out, sp)
	}
	return out
}

func (m *matcher) onlySpaceBetween(a, b int) bool {
	for _, pc := range m.pieces {
		if a >= pc.Start && b <= pc.End {
			return strings.TrimSpace(pc.Text[a-pc.Start:b-pc.Start]) == ""
		}
	}
	return false
}
