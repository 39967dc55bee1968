package textproc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a byte range [Start, End) of a text.
type Span struct{ Start, End int }

// Sentences splits text into sentence spans, trimmed of surrounding space.
// It breaks after '.', '!' or '?' (and closing quotes or brackets) followed
// by space and an upper-case letter, digit or opening quote, unless the
// point ends a known abbreviation, an initial or a number. Since text
// extracted from a PDF keeps line breaks as its only structure, it also
// breaks at blank lines, before list items, after a line ending in a colon,
// and after a heading: a line much shorter than the text's longest that has
// no closing punctuation and is followed by a capitalized line.
func Sentences(text string) []Span {
	var out []Span
	start := 0
	longest := longestLine(text)
	lineStart := 0
	emit := func(end int) {
		s, e := trimSpan(text, start, end)
		if e > s {
			out = append(out, Span{s, e})
		}
		start = end
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			j := skipSpaces(text, i+size)
			line := strings.TrimSpace(text[lineStart:i])
			lineStart = i + size
			if j < len(text) && (strings.Contains(text[i+size:j], "\n") || startsBlock(text[j:]) ||
				strings.HasSuffix(line, ":") || isHeading(line, text[j:], longest)) {
				emit(i)
			}
		case r == '.' || r == '!' || r == '?' || r == '…':
			end := i + size
			for end < len(text) && strings.ContainsRune(".!?\"')]’”", rune(text[end])) {
				end++
			}
			for end < len(text) {
				c, sz := utf8.DecodeRuneInString(text[end:])
				if c != '’' && c != '”' {
					break
				}
				end += sz
			}
			if end >= len(text) {
				i = end
				continue
			}
			next := skipSpaces(text, end)
			if next == end || next >= len(text) {
				i = end
				continue
			}
			if r == '.' && isAbbreviation(text[:i]) {
				i = end
				continue
			}
			if c, _ := utf8.DecodeRuneInString(text[next:]); unicode.IsUpper(c) || unicode.IsDigit(c) || strings.ContainsRune("\"'“‘([", c) || text[end] == '\n' {
				emit(end)
			}
			i = end
			continue
		}
		i += size
	}
	emit(len(text))
	return out
}

func trimSpan(text string, s, e int) (int, int) {
	for s < e {
		r, size := utf8.DecodeRuneInString(text[s:])
		if !unicode.IsSpace(r) {
			break
		}
		s += size
	}
	for e > s {
		r, size := utf8.DecodeLastRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		e -= size
	}
	return s, e
}

func skipSpaces(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
		i++
	}
	return i
}

// startsBlock reports whether a line starts a list item or a heading.
func startsBlock(line string) bool {
	switch {
	case strings.HasPrefix(line, "- "), strings.HasPrefix(line, "* "), strings.HasPrefix(line, "• "), strings.HasPrefix(line, "#"):
		return true
	}
	n := 0
	for n < len(line) && isDigit(line[n]) {
		n++
	}
	return n > 0 && n < 4 && n+1 < len(line) && (line[n] == '.' || line[n] == ')') && line[n+1] == ' '
}

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "inc": true, "ltd": true, "co": true, "corp": true,
	"no": true, "fig": true, "vol": true, "approx": true, "dept": true, "est": true, "u.s": true, "u.k": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true, "sep": true,
	"sept": true, "oct": true, "nov": true, "dec": true, "al": true, "cf": true, "p": true, "pp": true,
}

// isAbbreviation reports whether the text before a point ends with an
// abbreviation or a single initial.
func isAbbreviation(before string) bool {
	j := len(before)
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(before[:j])
		if !(unicode.IsLetter(r) || r == '.') {
			break
		}
		j -= size
	}
	word := before[j:]
	if word == "" {
		return false
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsUpper(r) // "J. Smith"
	}
	return abbreviations[strings.ToLower(word)]
}

func longestLine(text string) int {
	longest := 0
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		longest = max(longest, utf8.RuneCountInString(strings.TrimSpace(line)))
		text = rest
	}
	return longest
}

// isHeading reports whether line looks like a heading above next: short
// next to the longest line, without closing punctuation, and followed by a
// capitalized line.
func isHeading(line, next string, longest int) bool {
	n := utf8.RuneCountInString(line)
	if n == 0 || longest < 40 || float64(n) > 0.7*float64(longest) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(line)
	if strings.ContainsRune(".!?,;:-–—\"”’)", last) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(next)
	return unicode.IsUpper(first) || unicode.IsDigit(first)
}
