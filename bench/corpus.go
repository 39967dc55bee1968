package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// corpus generates deterministic English-like text: words drawn from a
// fixed vocabulary with a Zipf distribution, as in natural text, so that
// BM25 postings have realistic lengths.
type corpus struct {
	vocab []string
	rng   *rand.Rand
	zipf  *rand.Zipf
}

func newCorpus(seed uint64) *corpus {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	syllables := []string{"ka", "lo", "mi", "ne", "tra", "vel", "sor", "ian", "ber", "dus", "qui", "pha", "ron", "te", "gal", "mo", "rek", "su", "ph", "an"}
	seen := map[string]bool{}
	var vocab []string
	for len(vocab) < 20000 {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	return &corpus{vocab: vocab, rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))}
}

func (c *corpus) word() string { return c.vocab[c.zipf.Uint64()] }

// text returns about n bytes of paragraphs of sentences.
func (c *corpus) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		for s := 3 + c.rng.IntN(4); s > 0 && b.Len() < n; s-- {
			words := 8 + c.rng.IntN(13)
			for i := range words {
				w := c.word()
				if i == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				b.WriteString(w)
				if i < words-1 {
					b.WriteByte(' ')
				}
			}
			b.WriteString(". ")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

// query returns 2 to 5 words of mid frequency, as a user's question would
// hold.
func (c *corpus) query() string {
	var words []string
	for n := 2 + c.rng.IntN(4); n > 0; n-- {
		words = append(words, c.vocab[20+c.rng.IntN(2000)])
	}
	return strings.Join(words, " ")
}

// writeFiles writes files of fileBytes each into dir, totalling about
// totalBytes, and returns their paths and the bytes written.
func (c *corpus) writeFiles(dir string, totalBytes, fileBytes int) ([]string, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	var paths []string
	var total int64
	for i := 0; total < int64(totalBytes); i++ {
		text := c.text(fileBytes)
		p := filepath.Join(dir, fmt.Sprintf("doc-%05d.txt", i))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return nil, 0, err
		}
		paths = append(paths, p)
		total += int64(len(text))
	}
	return paths, total, nil
}
