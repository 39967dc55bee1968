package compress

import (
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
)

// chunkText is the text of the chunk these tests match against; the chunk
// starts at offset 100 of its page.
const chunkText = "Revenue grew 12% to $40 million in 2021.  The Zephyr line of solar lanterns\nlaunched in March and sold 90,000 units. Our warehouse in Kraków opened in June. “Customer first” is our motto — always."

func chunk() document.Passage {
	return document.Passage{ChunkID: "c1", DocID: "d1", Source: "/a.pdf", Page: 3, Split: "chunks", Start: 100, End: 100 + len(chunkText), Text: chunkText, Score: 7.5, Meta: map[string]string{"year": "2021"}}
}

// textOf returns what spans of chunk() hold.
func textOf(spans []document.Span) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, chunkText[sp.Start-100:sp.End-100])
	}
	return out
}

func TestMatchBack(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		want     []string
		invented int
	}{
		{"verbatim", "Revenue grew 12% to $40 million in 2021.", []string{"Revenue grew 12% to $40 million in 2021."}, 0},
		{"white space changed", "The Zephyr line of solar lanterns launched in March", []string{"The Zephyr line of solar lanterns\nlaunched in March"}, 0},
		{"two contiguous sentences across double space", "Revenue grew 12% to $40 million in 2021. The Zephyr line", []string{"Revenue grew 12% to $40 million in 2021.  The Zephyr line"}, 0},
		{"straight quotes and hyphen for curly and dash", `"Customer first" is our motto - always.`, []string{"“Customer first” is our motto — always."}, 0},
		{"case changed", "our warehouse in kraków opened in june.", []string{"Our warehouse in Kraków opened in June."}, 0},
		{"bulleted lines", "- Revenue grew 12% to $40 million in 2021.\n- Our warehouse in Kraków opened in June.", []string{"Revenue grew 12% to $40 million in 2021.", "Our warehouse in Kraków opened in June."}, 0},
		{"quoted fragment with added period", `"sold 90,000 units".`, []string{"sold 90,000 units"}, 0},
		{"elision between parts", "Revenue grew 12% ... opened in June", []string{"Revenue grew 12%", "opened in June"}, 0},
		{"invented sentence dropped, real one kept", "Revenue grew 12% to $40 million in 2021. Profits tripled thanks to AI.", []string{"Revenue grew 12% to $40 million in 2021."}, len("Profits tripled thanks to AI.")},
		{"all invented", "Le chiffre d'affaires a augmenté.", nil, len([]rune("Le chiffre d'affaires a augmenté."))},
		{"preamble counted as invented", "Here are the relevant parts:\nOur warehouse in Kraków opened in June.", []string{"Our warehouse in Kraków opened in June."}, len("Here are the relevant parts:")},
		{"parts out of order come back in page order", "Our warehouse in Kraków opened in June.\nRevenue grew 12%", []string{"Revenue grew 12%", "Our warehouse in Kraków opened in June."}, 0},
		{"overlapping parts merge", "Revenue grew 12% to $40\n12% to $40 million in 2021.", []string{"Revenue grew 12% to $40 million in 2021."}, 0},
		{"markup too short to place is ignored", "1.\n-\nsold 90,000 units", []string{"sold 90,000 units"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := matchBack(chunk(), tt.answer)
			if got := textOf(m.Spans); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("parts = %q, want %q", got, tt.want)
			}
			if m.Invented != tt.invented {
				t.Errorf("invented = %d, want %d", m.Invented, tt.invented)
			}
		})
	}
}

func TestMatchBackOnCutPassage(t *testing.T) {
	// A passage an earlier stage cut keeps its pieces; a match must land
	// in a piece, at page offsets.
	p := chunk().Cut([]document.Span{{Start: 100, End: 140}, {Start: 100 + strings.Index(chunkText, "Our"), End: 100 + strings.Index(chunkText, " “")}})
	m := matchBack(p, "opened in June")
	if len(m.Spans) != 1 {
		t.Fatalf("spans = %v", m.Spans)
	}
	if got := chunkText[m.Spans[0].Start-100 : m.Spans[0].End-100]; got != "opened in June" {
		t.Errorf("found %q", got)
	}
	cut := p.Cut(m.Spans)
	if cut.Text != "opened in June" || cut.Page != 3 || cut.Score != 7.5 || cut.Meta["year"] != "2021" {
		t.Errorf("cut = %+v", cut)
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  A\n\tB  ", "a b"},
		{"ﬁnance", "finance"},
		{"‘it’s’ “x” a–b", `'it's' "x" a-b`},
		{"co\u00adop\u200beration", "cooperation"},
		{"Ｆｕｌｌ", "full"},
	}
	for _, tt := range tests {
		f := fold(tt.in)
		if f.text != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, f.text, tt.want)
		}
		if len(f.start) != len(f.text) || len(f.end) != len(f.text) {
			t.Errorf("fold(%q): offsets for %d/%d bytes of %d", tt.in, len(f.start), len(f.end), len(f.text))
		}
	}
}
