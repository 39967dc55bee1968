package loader

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// softHyphen is what PDFium's text extraction puts where a line ended in a
// hyphen and the next line starts with a letter: "high\x02demand" for
// "high-" at a line end and "demand" on the next. PDFium cannot tell a
// word broken to fit the line ("trans-portation") from a compound that
// happened to break at its hyphen ("high-demand"); hyphenResolver decides.
const softHyphen = '\x02'

// hyphenPrefixes take a hyphen in English compounds even when the document
// never writes the compound elsewhere ("self-sufficient", "multi-tenant").
var hyphenPrefixes = map[string]bool{
	"self": true, "multi": true, "cross": true, "well": true, "ex": true,
	"half": true, "quasi": true, "year": true, "e": true, "x": true,
}

// hyphenResolver decides, for every soft hyphen of a document, whether it
// joins a compound (keep "-") or only broke a word (drop it), from the
// document's own vocabulary first and a rule for the rest:
//
//  1. A form written elsewhere in the document wins: "highdemand" seen
//     joins, "high-demand" seen keeps the hyphen (the more frequent if
//     both are).
//  2. Otherwise the hyphen is kept when the left part is already a
//     compound ("year-over-"), the right part is capitalized
//     ("Frustration-Free") or has a digit, the left part is a prefix that
//     English hyphenates ("self-", "multi-"), or both parts are words the
//     document uses on their own and neither is a short fragment.
//  3. Otherwise the parts are joined ("trans-portation", "busi-ness").
type hyphenResolver struct {
	words map[string]int // lower-case words and hyphenated compounds, as written
}

func newHyphenResolver(texts []string) *hyphenResolver {
	h := &hyphenResolver{words: map[string]int{}}
	for _, t := range texts {
		forEachWord(t, func(w string) {
			if strings.ContainsRune(w, softHyphen) {
				return // a candidate, not evidence
			}
			w = strings.ToLower(w)
			h.words[w]++
			// The parts of a written compound are words of the document too.
			if strings.Contains(w, "-") {
				for _, p := range strings.Split(w, "-") {
					if p != "" {
						h.words[p]++
					}
				}
			}
		})
	}
	return h
}

// forEachWord calls fn with every run of letters, digits, apostrophes,
// hyphens and soft hyphens in s.
func forEachWord(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(strings.Trim(s[start:i], "-'"))
			start = -1
		}
	}
	if start >= 0 {
		fn(strings.Trim(s[start:], "-'"))
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == softHyphen
}

// resolve replaces every soft hyphen in text with "-" or nothing.
func (h *hyphenResolver) resolve(text string) string {
	if !strings.ContainsRune(text, softHyphen) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for {
		i := strings.IndexRune(text, softHyphen)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		left := wordBefore(text[:i])
		right := wordAfter(text[i+1:])
		b.WriteString(text[:i])
		if h.keep(left, right) {
			b.WriteByte('-')
		}
		text = text[i+1:]
	}
}

// wordBefore is the word (letters, digits, hyphens) that ends s.
func wordBefore(s string) string {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'') {
			break
		}
		i -= n
	}
	return strings.TrimLeft(s[i:], "-'")
}

// wordAfter is the word (letters, digits, hyphens) that starts s; it stops
// at another soft hyphen, which is decided on its own.
func wordAfter(s string) string {
	for i, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'') {
			return strings.TrimRight(s[:i], "-'")
		}
	}
	return strings.TrimRight(s, "-'")
}

func (h *hyphenResolver) keep(left, right string) bool {
	if left == "" || right == "" {
		return left != "" // a line that ends in a hyphen before no word keeps it
	}
	l, r := strings.ToLower(left), strings.ToLower(right)
	joined, hyphenated := h.words[l+r], h.words[l+"-"+r]
	if joined > 0 || hyphenated > 0 {
		return hyphenated >= joined
	}
	if strings.Contains(l, "-") || strings.Contains(r, "-") {
		return true
	}
	first, _ := utf8.DecodeRuneInString(right)
	if unicode.IsUpper(first) || strings.IndexFunc(right, unicode.IsDigit) >= 0 || strings.IndexFunc(left, unicode.IsDigit) >= 0 {
		return true
	}
	if hyphenPrefixes[l] {
		return true
	}
	return utf8.RuneCountInString(l) >= 3 && utf8.RuneCountInString(r) >= 4 && h.words[l] > 0 && h.words[r] > 0
}

// joinBrokenNumbers mends a hyphen at a line end between digits, which
// PDFium leaves as "300-\n400": a range, not two lines.
func joinBrokenNumbers(s string) string {
	if !strings.Contains(s, "-\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, "-\n")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+2:])
		b.WriteString(s[:i+1])
		if !(unicode.IsDigit(before) && unicode.IsDigit(after)) {
			b.WriteByte('\n')
		}
		s = s[i+2:]
	}
}
