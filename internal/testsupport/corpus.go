package testsupport

import (
	"math/rand/v2"
	"strings"
)

// Prose returns about n bytes of English-like text from a fixed seed:
// words drawn from a Zipf distribution over a vocabulary, in sentences and
// paragraphs, so that postings lists and chunk boundaries look like real
// documents'. Benchmarks use it to build large collections.
func Prose(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	vocab := vocabulary()
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	var b strings.Builder
	b.Grow(n + 200)
	for b.Len() < n {
		for s := 0; s < 6 && b.Len() < n; s++ {
			words := 8 + r.IntN(16)
			for w := 0; w < words; w++ {
				word := vocab[zipf.Uint64()]
				if w == 0 {
					word = strings.ToUpper(word[:1]) + word[1:]
				}
				b.WriteString(word)
				if w < words-1 {
					b.WriteByte(' ')
				}
			}
			b.WriteString(". ")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

var vocab []string

func vocabulary() []string {
	if vocab != nil {
		return vocab
	}
	r := rand.New(rand.NewPCG(7, 7))
	const letters = "etaoinshrdlucmfwypvbgkjqxz"
	seen := map[string]bool{}
	for len(vocab) < 30000 {
		n := 2 + r.IntN(9)
		var w strings.Builder
		for i := 0; i < n; i++ {
			// Skew letters toward English frequencies.
			w.WriteByte(letters[min(r.IntN(26), r.IntN(26))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			vocab = append(vocab, w.String())
		}
	}
	return vocab
}
