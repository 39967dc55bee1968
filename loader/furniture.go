package loader

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Page furniture: running headers, footers and page numbers that stand on
// most pages of a PDF. They are not the document's content, and left in the
// text they join the first and last sentences of every page to noise and
// split a sentence that runs on to the next page. dropFurniture removes
// them from a document's page texts.
//
// A line is furniture when it is among the first or last furnitureLines
// non-blank lines of its page and, with every digit read as the same digit
// (so "Page 3" and "Page 4" match), stands at the same end of at least
// half of the document's pages (and of three pages at least); a line that
// is only a page number ("7", "- 7 -", "Page 7 of 20") is furniture at
// either end of any page.
const furnitureLines = 2

// pageNumberSlack is how far printed page numbers may run past the PDF's
// page count (a report whose numbering starts after its cover and front
// matter).
const pageNumberSlack = 30

func dropFurniture(texts []string) []string {
	type end struct {
		top  bool
		line string
	}
	seen := map[end]int{}
	for _, t := range texts {
		lines := strings.Split(t, "\n")
		idx := nonBlankIndexes(lines)
		counted := map[end]bool{}
		for k, i := range idx {
			for _, e := range []end{{true, shape(lines[i])}, {false, shape(lines[i])}} {
				if (e.top && k < furnitureLines) || (!e.top && k >= len(idx)-furnitureLines) {
					if !counted[e] {
						counted[e] = true
						seen[e]++
					}
				}
			}
		}
	}
	// A document of fewer than three pages cannot show what repeats: only
	// its page numbers go.
	need := max(3, (len(texts)+1)/2)
	out := make([]string, len(texts))
	for p, t := range texts {
		lines := strings.Split(t, "\n")
		idx := nonBlankIndexes(lines)
		drop := map[int]bool{}
		for k, i := range idx {
			top, bottom := k < furnitureLines, k >= len(idx)-furnitureLines
			s := shape(lines[i])
			if (top && seen[end{true, s}] >= need) || (bottom && seen[end{false, s}] >= need) || ((top || bottom) && isPageNumber(lines[i], len(texts))) {
				drop[i] = true
			}
		}
		out[p] = joinKept(lines, drop)
	}
	return out
}

func joinKept(lines []string, drop map[int]bool) string {
	if len(drop) == 0 {
		return strings.Join(lines, "\n")
	}
	kept := lines[:0:0]
	for i, l := range lines {
		if !drop[i] {
			kept = append(kept, l)
		}
	}
	return strings.Trim(strings.Join(kept, "\n"), "\n")
}

func nonBlankIndexes(lines []string) []int {
	var out []int
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, i)
		}
	}
	return out
}

// shape is a line with its digits read alike and its spaces folded.
func shape(l string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return '0'
		}
		return unicode.ToLower(r)
	}, l)), " ")
}

// isPageNumber reports a line that is only a page number: "7", "- 7 -",
// "Page 7", "7 of 20", "Page 7 of 20", "vii". A number far past the
// document's pages ("2021" alone on the last line of a two-page letter) is
// content, not a page number.
func isPageNumber(l string, pages int) bool {
	isNumeral := func(s string) bool { return isNumeral(s, pages) }
	f := strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(l), "-–—|[]() ")))
	if len(f) > 0 && (f[0] == "page" || f[0] == "p." || f[0] == "pg.") {
		f = f[1:]
	}
	switch len(f) {
	case 1:
		return isNumeral(f[0])
	case 3:
		return isNumeral(f[0]) && (f[1] == "of" || f[1] == "/") && isNumeral(f[2])
	}
	return false
}

// romanNumeral matches the lower-case roman numerals of front matter, i to xxxix.
var romanNumeral = regexp.MustCompile(`^x{0,3}(ix|iv|v?i{0,3})$`)

func isNumeral(s string, pages int) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 0 && n <= pages+pageNumberSlack
	}
	return romanNumeral.MatchString(s)
}
