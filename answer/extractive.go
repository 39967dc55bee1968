package answer

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/textproc"
)

// Extractive answers without a model: it scores every sentence of the
// context by how much of the question's weight it holds, picks the best
// with maximal marginal relevance (so the answer does not repeat itself),
// and prints them in source order, each followed by [n], the number of the
// context it came from.
type Extractive struct {
	MaxSentences int
	MaxChars     int
	// Lambda trades relevance (1) against novelty (0) in the selection.
	Lambda float64
	// MinShare drops sentences scoring under this share of the best one.
	MinShare float64
}

// NewExtractive returns an extractive answerer with the given limits.
func NewExtractive(maxSentences, maxChars int) *Extractive {
	return &Extractive{MaxSentences: maxSentences, MaxChars: maxChars, Lambda: 0.7, MinShare: 0.35}
}

type candidate struct {
	context  int // index into contexts
	source   string
	page     int
	start    int // page offset, for source order
	text     string
	terms    textproc.TermSet
	score    float64
	selected bool
}

// Answer builds the extractive answer.
func (e *Extractive) Answer(_ context.Context, question string, contexts []document.Passage) (Answer, error) {
	q := textproc.ContentTerms(question)
	var cands []*candidate
	var units []textproc.TermSet
	for i, p := range contexts {
		for _, pc := range p.Pieces() {
			for _, ss := range textproc.Sentences(pc.Text) {
				text := cleanSentence(pc.Text[ss.Start:ss.End])
				words := len(strings.Fields(text))
				if words < 4 || !hasLetter(text) || !endsSentence(text) {
					continue // fragments, headings and titles do not answer
				}
				terms := textproc.ContentTerms(text)
				c := &candidate{context: i, source: p.Source, page: p.Page, start: pc.Start + ss.Start, text: text, terms: terms}
				cands = append(cands, c)
				units = append(units, terms)
			}
		}
	}
	weights := textproc.QueryWeights(q, units)
	best := 0.0
	for _, c := range cands {
		c.score = textproc.Coverage(weights, c.terms)
		words := len(strings.Fields(c.text))
		if words > 60 { // run-on text from a table or a layout without full stops
			c.score *= 60 / float64(words)
		}
		c.score *= 1 + 0.1/float64(c.context+1) // a small preference for the better-ranked context
		best = max(best, c.score)
	}
	if best == 0 {
		return Answer{Text: NoAnswer, Mode: "extractive"}, nil
	}
	var chosen []*candidate
	chars := 0
	for len(chosen) < e.MaxSentences {
		var pick *candidate
		pickValue := 0.0
		for _, c := range cands {
			if c.selected || c.score < e.MinShare*best {
				continue
			}
			redundancy := 0.0
			for _, s := range chosen {
				redundancy = max(redundancy, textproc.Jaccard(c.terms, s.terms))
			}
			value := e.Lambda*c.score/best - (1-e.Lambda)*redundancy
			if redundancy > 0.8 {
				continue // a near copy (overlapping chunks repeat sentences)
			}
			if pick == nil || value > pickValue {
				pick, pickValue = c, value
			}
		}
		if pick == nil {
			break
		}
		n := utf8.RuneCountInString(pick.text)
		if len(chosen) > 0 && chars+n > e.MaxChars {
			pick.selected = true // too long to add; a shorter one may still fit
			continue
		}
		pick.selected = true
		chosen = append(chosen, pick)
		chars += n
	}
	order := map[string]int{}
	for _, c := range chosen {
		if _, ok := order[c.source]; !ok {
			order[c.source] = len(order)
		}
	}
	sort.SliceStable(chosen, func(i, j int) bool {
		a, b := chosen[i], chosen[j]
		if a.source != b.source {
			return a.source < b.source
		}
		if a.page != b.page {
			return a.page < b.page
		}
		return a.start < b.start
	})
	var b strings.Builder
	for i, c := range chosen {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s [%d]", c.text, c.context+1)
	}
	return Answer{Text: b.String(), Mode: "extractive"}, nil
}

// cleanSentence joins a sentence's lines, mends words hyphenated across a
// line break and drops list bullets, so it reads as prose.
func cleanSentence(s string) string {
	var b strings.Builder
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if i == 0 {
			line = strings.TrimLeft(line, "-*•# ")
		}
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			prev := b.String()
			if strings.HasSuffix(prev, "-") && startsLower(line) && len(prev) > 1 && unicode.IsLetter(rune(prev[len(prev)-2])) {
				b.Reset()
				b.WriteString(strings.TrimSuffix(prev, "-"))
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(strings.Join(strings.Fields(line), " "))
	}
	return b.String()
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// endsSentence reports whether s ends like a sentence, with closing
// punctuation, possibly inside quotes or brackets.
func endsSentence(s string) bool {
	s = strings.TrimRight(s, "\"'’”)]")
	r, _ := utf8.DecodeLastRuneInString(s)
	return r == '.' || r == '!' || r == '?' || r == '…'
}
