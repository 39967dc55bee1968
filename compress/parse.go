package compress

import (
	"strings"
	"unicode"
)

// isNoOutput reports whether an extractor's answer says that nothing is
// relevant: NO_OUTPUT in any case, spacing or punctuation ("no_output.",
// "`NO OUTPUT`", "**No-Output**"), alone or before an explanation.
func isNoOutput(answer string) bool {
	w := words(answer, 3)
	switch {
	case len(w) >= 2 && w[0] == "no" && w[1] == "output":
		return true
	case len(w) >= 1 && (w[0] == "no_output" || w[0] == "nooutput"):
		return true
	}
	return false
}

// verdict is what a filter's answer decides.
type verdict int

const (
	undecided verdict = iota
	relevant
	notRelevant
)

// Decisive words, in the languages a multilingual model most often falls
// back to when the question is not in English.
var (
	yesWords = map[string]bool{"yes": true, "oui": true, "ja": true, "sí": true, "sim": true, "да": true, "是": true, "はい": true}
	noWords  = map[string]bool{"no": true, "non": true, "nein": true, "não": true, "нет": true, "否": true, "いいえ": true, "irrelevant": true, "no_output": true}
)

// parseVerdict takes the first decisive word of a filter's answer: "Yes,
// although it does not mention X" is relevant, "No." is not, and "not
// relevant" counts as a NO; an answer with neither is undecided.
func parseVerdict(answer string) verdict {
	ws := words(answer, 0)
	for i, w := range ws {
		switch {
		case yesWords[w]:
			return relevant
		case noWords[w]:
			return notRelevant
		case w == "not" && i+1 < len(ws) && ws[i+1] == "relevant":
			return notRelevant
		}
	}
	return undecided
}

// words splits text into lower-case words of letters, digits and '_'
// (at most limit words; 0 for all).
func words(text string, limit int) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
	}) {
		out = append(out, strings.ToLower(strings.Trim(w, "_")))
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}
