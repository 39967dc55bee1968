package compress

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/distill-rag/distill/document"
)

// FuzzParseAnswers feeds the extractor's NO_OUTPUT parsing and the
// filter's YES/NO parsing any model answer. Neither may panic, and what
// they decide must hold together: an answer that is NO_OUTPUT contains
// it; an answer starting with a decisive word is decided by it; text
// after a decided answer does not change the decision.
func FuzzParseAnswers(f *testing.F) {
	for _, seed := range []struct{ a, b string }{
		{"NO_OUTPUT", ""},
		{"no output.", "Nothing relevant."},
		{"**No-Output**", ""},
		{"Answer: NO_OUTPUT", ""},
		{"Yes, although it does not mention X", "No."},
		{"NO", "yes"},
		{"The context is not relevant.", ""},
		{"Oui.", ""},
		{"いいえ", "はい"},
		{"Maybe", "YES"},
		{"", ""},
		{"_no_output_", ""},
		{"\xff\xfeyes", ""},
	} {
		f.Add(seed.a, seed.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if isNoOutput(a) && !containsNoOutput(a) {
			t.Errorf("isNoOutput(%q) but not containsNoOutput", a)
		}
		if !isNoOutput("NO_OUTPUT " + a) {
			t.Errorf("NO_OUTPUT before %q is not NO_OUTPUT", a)
		}
		v := parseVerdict(a)
		if v != undecided && v != relevant && v != notRelevant {
			t.Fatalf("parseVerdict(%q) = %d", a, v)
		}
		if v != undecided {
			if w := parseVerdict(a + " " + b); w != v {
				t.Errorf("parseVerdict(%q) = %d, but with %q after it %d", a, v, b, w)
			}
		}
		if parseVerdict("YES. "+a) != relevant || parseVerdict("No, "+a) != notRelevant {
			t.Errorf("a leading YES or NO does not decide %q", a)
		}
		for _, w := range words(a, 0) {
			if strings.ContainsFunc(w, unicode.IsSpace) {
				t.Errorf("word %q of %q holds white space", w, a)
			}
		}
	})
}

// FuzzMatchBack matches any model answer back to any chunk. What it keeps
// must be the chunk's own text: every span inside the chunk (or inside the
// pieces of a chunk already cut), in order, not overlapping, and the cut
// passage's text at each span equal to the chunk's bytes there. A part of
// the chunk copied verbatim is always found.
func FuzzMatchBack(f *testing.F) {
	f.Add(chunkText, "Revenue grew 12% ... opened in June", uint16(100), uint16(0), uint16(40))
	f.Add(chunkText, "- Revenue grew 12% to $40 million in 2021.\n- Our warehouse in Kraków opened in June.", uint16(0), uint16(41), uint16(90))
	f.Add(chunkText, `"Customer first" is our motto - always.`, uint16(7), uint16(3), uint16(3))
	f.Add("ﬁnance  Ｒｅｖｅｎｕｅ\u00adgrew\u200b", "finance revenuegrew", uint16(1), uint16(0), uint16(9))
	f.Add("a\nb\n\n\nc d e f", "...\n…\n[...]\n1. 2) >>", uint16(0), uint16(2), uint16(9))
	f.Add("İstanbul ΣΊΣΥΦΟΣ straße", "i̇stanbul σίσυφος strasse", uint16(3), uint16(0), uint16(30))
	f.Add("\xff\xfe bad bytes \xc3", "bad bytes", uint16(0), uint16(0), uint16(5))
	f.Fuzz(func(t *testing.T, text, answer string, start, a, b uint16) {
		if len(text) > 1<<12 || len(answer) > 1<<12 {
			return
		}
		p := document.Passage{ChunkID: "c", Start: int(start), End: int(start) + len(text), Text: text}
		at := func(sp document.Span) string { return text[sp.Start-p.Start : sp.End-p.Start] }

		m := matchBack(p, answer)
		checkSpans(t, p, m.Spans, answer)
		if m.Invented < 0 || m.Invented > utf8.RuneCountInString(answer) {
			t.Errorf("invented %d of an answer of %d runes", m.Invented, utf8.RuneCountInString(answer))
		}
		if len(m.Spans) > 0 { // (the extractor keeps a chunk whole when nothing was found)
			cut := p.Cut(m.Spans)
			if len(cut.Spans) != len(m.Spans) {
				t.Fatalf("Cut kept %d of %d spans", len(cut.Spans), len(m.Spans))
			}
			for _, pc := range cut.Pieces() {
				if pc.Text != at(pc.Span) {
					t.Errorf("cut passage shows %q at %v, the chunk holds %q", pc.Text, pc.Span, at(pc.Span))
				}
			}
			// Matching against a passage already cut stays inside its pieces.
			checkSpans(t, cut, matchBack(cut, answer).Spans, answer)
		}

		// A verbatim part of the chunk, of letters and spaces on one line
		// (nothing a model's markup could be mistaken for), is found whole.
		lo, hi := int(min(a, b)), int(max(a, b))
		if hi > len(text) || !utf8.ValidString(text[lo:hi]) {
			return
		}
		part := text[lo:hi]
		if strings.ContainsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) && r != ' ' }) || len(fold(part).text) < minMatch {
			return
		}
		got := matchBack(p, part)
		if len(got.Spans) == 0 || got.Invented != 0 {
			t.Errorf("verbatim part %q of %q: spans %v, invented %d", part, text, got.Spans, got.Invented)
		}
	})
}

// checkSpans checks that spans lie inside p's pieces, in order, neither
// overlapping nor touching (those are merged), and are not empty.
func checkSpans(t *testing.T, p document.Passage, spans []document.Span, answer string) {
	t.Helper()
	pieces := p.Pieces()
	last := -1
	for _, sp := range spans {
		if sp.Start >= sp.End || sp.Start <= last {
			t.Fatalf("answer %q: spans %v out of order, overlapping or empty", answer, spans)
		}
		last = sp.End
		inside := false
		for _, pc := range pieces {
			if sp.Start >= pc.Start && sp.End <= pc.End {
				inside = true
			}
		}
		if !inside {
			t.Fatalf("answer %q: span %v is outside the passage's pieces %v", answer, sp, pieces)
		}
	}
}
