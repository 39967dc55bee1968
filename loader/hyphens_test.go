package loader

import "testing"

func TestHyphenResolver(t *testing.T) {
	const sh = string(softHyphen)
	cases := []struct {
		name string
		doc  []string // other text of the document: its vocabulary
		in   string
		want string
	}{
		{"compound of two words the document uses", []string{"high prices and demand"}, "high" + sh + "demand items", "high-demand items"},
		{"a broken word is joined", nil, "trans" + sh + "portation costs", "transportation costs"},
		{"a short fragment is joined", []string{"a custom shirt"}, "our custom" + sh + "ers", "our customers"},
		{"the joined form elsewhere wins", []string{"everything we do", "every thing"}, "every" + sh + "thing", "everything"},
		{"the hyphenated form elsewhere wins", []string{"a long-term view"}, "long" + sh + "term", "long-term"},
		{"the more frequent form wins", []string{"email, email, e-mail"}, "e" + sh + "mail", "email"},
		{"a compound already", nil, "year-over" + sh + "year growth", "year-over-year growth"},
		{"a capitalized right part", nil, "Frustration" + sh + "Free Packaging", "Frustration-Free Packaging"},
		{"a hyphenating prefix", nil, "self" + sh + "sufficient and multi" + sh + "tenant", "self-sufficient and multi-tenant"},
		{"words used alone", []string{"the lowest wage paid", "zero emissions of carbon"}, "lowest" + sh + "paid and zero" + sh + "carbon", "lowest-paid and zero-carbon"},
		{"case is ignored when counting", []string{"Selfsufficient"}, "self" + sh + "sufficient", "selfsufficient"},
		{"no soft hyphen", nil, "plain text", "plain text"},
		{"a soft hyphen before no word", nil, "end" + sh, "end-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHyphenResolver(append(append([]string(nil), c.doc...), c.in))
			if got := h.resolve(c.in); got != c.want {
				t.Errorf("resolve(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestJoinBrokenNumbers(t *testing.T) {
	cases := []struct{ in, want string }{
		{"between 300-\n400 million", "between 300-400 million"},
		{"a list-\nitem", "a list-\nitem"},
		{"ends with a dash -\n", "ends with a dash -\n"},
		{"1-\n2 and 3-\n4", "1-2 and 3-4"},
	}
	for _, c := range cases {
		if got := joinBrokenNumbers(c.in); got != c.want {
			t.Errorf("joinBrokenNumbers(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
