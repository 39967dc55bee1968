package textproc

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Token is one analyzed term and the byte range of the word it came from.
type Token struct {
	Term       string
	Start, End int // byte offsets into the analyzed text
}

// Analyzer turns text into index terms: Unicode word tokens, lower-cased,
// possessives removed, stop words dropped, Snowball (Porter2) stemmed.
// It is safe for concurrent use.
type Analyzer struct {
	stop map[string]bool

	stems     sync.Map // word -> stem; bounded by stemLimit
	stemCount atomic.Int64
}

// stemLimit bounds the stem cache so that a huge vocabulary (a 1 GB file of
// random tokens) cannot grow memory without end; beyond it words are stemmed
// on every use, which is only slower.
const stemLimit = 1 << 18

// English is the analyzer used for BM25 indexing and queries. Its stop list is
// Lucene's English set, the one behind the published BM25 baselines.
var English = NewAnalyzer(LuceneStopWords)

// Content is the analyzer for judging whether a sentence answers a question:
// it drops the wider Snowball stop list, so question words such as "what" or
// "does" do not count as evidence.
var Content = NewAnalyzer(append(append([]string{}, LuceneStopWords...), snowballExtra...))

// NewAnalyzer returns an analyzer with the given stop words (lower case).
func NewAnalyzer(stopWords []string) *Analyzer {
	a := &Analyzer{stop: make(map[string]bool, len(stopWords))}
	for _, w := range stopWords {
		a.stop[w] = true
	}
	return a
}

// IsStopWord reports whether the lower-cased word is dropped by a.
func (a *Analyzer) IsStopWord(word string) bool { return a.stop[word] }

// Tokens returns the terms of text with their offsets, in order.
func (a *Analyzer) Tokens(text string) []Token {
	var out []Token
	a.scan(text, func(term string, start, end int) {
		out = append(out, Token{Term: term, Start: start, End: end})
	})
	return out
}

// Terms returns the terms of text in order, without offsets.
func (a *Analyzer) Terms(text string) []string {
	var out []string
	a.scan(text, func(term string, _, _ int) { out = append(out, term) })
	return out
}

// ForEach calls fn for every term of text, in order, without allocating a slice.
func (a *Analyzer) ForEach(text string, fn func(term string, start, end int)) {
	a.scan(text, fn)
}

// Stem returns the index term for one lower-case word, or "" for a stop word.
func (a *Analyzer) Stem(word string) string {
	if a.stop[word] {
		return ""
	}
	if s, ok := a.stems.Load(word); ok {
		return s.(string)
	}
	s := word
	if len(word) > 2 && !isNumeric(word) {
		s = english.Stem(word, true)
	}
	if a.stemCount.Load() < stemLimit {
		if _, loaded := a.stems.LoadOrStore(strings.Clone(word), s); !loaded {
			a.stemCount.Add(1)
		}
	}
	return s
}

// ForEachWord calls fn for every word of text as the analyzer sees it
// before stop words and stemming (lower-cased, possessive removed), with
// its offsets; Stem(string(word)) is its term. word is only valid during
// the call. Callers that analyze a lot of text keep their own map from
// word to term with it, which costs less than Stem's shared cache.
func (a *Analyzer) ForEachWord(text string, fn func(word []byte, start, end int)) {
	var buf []byte
	i := 0
	for i < len(text) {
		start := nextWordStart(text, i)
		if start < 0 {
			return
		}
		end := wordEnd(text, start)
		i = end
		buf = lowerWord(buf[:0], text[start:end])
		if word := stripPossessive(buf); len(word) > 0 {
			fn(word, start, end)
		}
	}
}

// localCacheText is the text length from which scan keeps its own map of
// the words it has stemmed: looking a word up in it does not allocate,
// while the shared cache needs the word as a new string.
const localCacheText = 4 << 10

func (a *Analyzer) scan(text string, emit func(term string, start, end int)) {
	var buf []byte
	var local map[string]string
	if len(text) >= localCacheText {
		local = make(map[string]string, 1024)
	}
	i := 0
	for i < len(text) {
		start := nextWordStart(text, i)
		if start < 0 {
			return
		}
		end := wordEnd(text, start)
		i = end
		buf = lowerWord(buf[:0], text[start:end])
		word := stripPossessive(buf)
		if len(word) == 0 {
			continue
		}
		var term string
		if local != nil {
			t, ok := local[string(word)]
			if !ok {
				w := string(word)
				t = a.Stem(w)
				local[w] = t
			}
			term = t
		} else {
			term = a.Stem(string(word))
		}
		if term != "" {
			emit(term, start, end)
		}
	}
}

// nextWordStart returns the offset of the next letter or digit at or after i.
func nextWordStart(text string, i int) int {
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIWord(c) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if isWordRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// wordEnd returns the end of the word starting at start. A word is a run of
// letters and digits; an apostrophe between letters ("don't", "Amazon's") and
// a point or comma between digits ("3.5", "1,000") stay inside it.
func wordEnd(text string, start int) int {
	i := start
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIWord(c) {
				i++
				continue
			}
			if (c == '\'' || c == '.' || c == ',') && i+1 < len(text) && i > start {
				prev, next := text[i-1], text[i+1]
				if c == '\'' && isASCIILetter(prev) && isASCIILetter(next) {
					i++
					continue
				}
				if c != '\'' && isDigit(prev) && isDigit(next) {
					i++
					continue
				}
			}
			return i
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if isWordRune(r) {
			i += size
			continue
		}
		if r == '’' && i > start && isASCIILetter(text[i-1]) && i+size < len(text) && isASCIILetter(text[i+size]) {
			i += size
			continue
		}
		return i
	}
	return i
}

func lowerWord(dst []byte, word string) []byte {
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(word[i:])
		if r == '’' {
			r = '\''
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// stripPossessive removes a trailing "'s" as Lucene's English possessive filter does.
func stripPossessive(w []byte) []byte {
	if n := len(w); n > 2 && w[n-2] == '\'' && w[n-1] == 's' {
		return w[:n-2]
	}
	return w
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
func isASCIIWord(c byte) bool   { return isASCIILetter(c) || isDigit(c) }
func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool       { return '0' <= c && c <= '9' }

func isNumeric(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) && w[i] != '.' && w[i] != ',' {
			return false
		}
	}
	return true
}
