package onnxgen

import (
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// This file computes what the written models should output, in plain Go
// and float64, independently of any ONNX runtime or tokenizer library.

// Tokenize splits text into WordPiece ids the way BERT's uncased tokenizer
// does (clean, lowercase, strip accents, split on whitespace and
// punctuation, greedy longest-match word pieces), without special tokens.
func (m *Model) Tokenize(text string) []int {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range norm.NFD.String(strings.ToLower(text)) {
		switch {
		case r == 0 || r == 0xfffd || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'):
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r):
			flush()
		case isPunct(r):
			flush()
			words = append(words, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	var ids []int
	for _, w := range words {
		ids = append(ids, m.wordPiece(w)...)
	}
	return ids
}

func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

func (m *Model) wordPiece(word string) []int {
	runes := []rune(word)
	if len(runes) > 100 {
		return []int{m.vocab["[UNK]"]}
	}
	var ids []int
	for start := 0; start < len(runes); {
		end := len(runes)
		found := -1
		for ; end > start; end-- {
			piece := string(runes[start:end])
			if start > 0 {
				piece = "##" + piece
			}
			if id, ok := m.vocab[piece]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return []int{m.vocab["[UNK]"]}
		}
		ids = append(ids, found)
		start = end
	}
	return ids
}

// Encode gives the ids and token types of "[CLS] text [SEP]", cut to
// maxLen tokens in all (0 means no limit).
func (m *Model) Encode(text string, maxLen int) (ids, types []int) {
	t := m.Tokenize(text)
	if maxLen > 0 && len(t) > maxLen-2 {
		t = t[:maxLen-2]
	}
	ids = append(append([]int{m.vocab["[CLS]"]}, t...), m.vocab["[SEP]"])
	return ids, make([]int, len(ids))
}

// EncodePair gives "[CLS] a [SEP] b [SEP]" with token type 1 on b's part,
// cutting the longer of a and b first to fit maxLen (0 means no limit).
func (m *Model) EncodePair(a, b string, maxLen int) (ids, types []int) {
	ta, tb := m.Tokenize(a), m.Tokenize(b)
	for maxLen > 0 && len(ta)+len(tb) > maxLen-3 {
		if len(ta) > len(tb) {
			ta = ta[:len(ta)-1]
		} else {
			tb = tb[:len(tb)-1]
		}
	}
	cls, sep := m.vocab["[CLS]"], m.vocab["[SEP]"]
	ids = append(append(append(append([]int{cls}, ta...), sep), tb...), sep)
	types = make([]int, len(ids))
	for i := len(ta) + 2; i < len(ids); i++ {
		types[i] = 1
	}
	return ids, types
}

// HiddenStates is the last hidden state of one unpadded sequence: one row of
// Config.Hidden values per token.
func (m *Model) HiddenStates(ids, types []int) [][]float64 {
	h := m.Hidden
	word, pos := m.params["embeddings.word_embeddings.weight"], m.params["embeddings.position_embeddings.weight"]
	x := make([][]float64, len(ids))
	for i, id := range ids {
		x[i] = make([]float64, h)
		for k := range h {
			x[i][k] = float64(word.data[id*h+k]) + float64(pos.data[i*h+k])
			if !m.NoTokenTypes {
				x[i][k] += float64(m.params["embeddings.token_type_embeddings.weight"].data[types[i]*h+k])
			}
		}
	}
	x = m.refLayerNorm(x, "embeddings.LayerNorm")
	d := h / m.Heads
	for l := range m.Layers {
		p := "encoder.layer." + strconv.Itoa(l) + "."
		q := m.refLinear(x, p+"attention.self.query")
		k := m.refLinear(x, p+"attention.self.key")
		v := m.refLinear(x, p+"attention.self.value")
		ctx := make([][]float64, len(x))
		for i := range ctx {
			ctx[i] = make([]float64, h)
		}
		for head := range m.Heads {
			off := head * d
			for i := range x {
				scores := make([]float64, len(x))
				maxScore := math.Inf(-1)
				for j := range x {
					var s float64
					for c := range d {
						s += q[i][off+c] * k[j][off+c]
					}
					scores[j] = s / math.Sqrt(float64(d))
					maxScore = math.Max(maxScore, scores[j])
				}
				var sum float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - maxScore)
					sum += scores[j]
				}
				for j := range scores {
					for c := range d {
						ctx[i][off+c] += scores[j] / sum * v[j][off+c]
					}
				}
			}
		}
		x1 := m.refLayerNorm(add(m.refLinear(ctx, p+"attention.output.dense"), x), p+"attention.output.LayerNorm")
		f := m.refLinear(x1, p+"intermediate.dense")
		for _, row := range f {
			for c, val := range row {
				row[c] = 0.5 * val * (1 + math.Erf(val/math.Sqrt2))
			}
		}
		x = m.refLayerNorm(add(m.refLinear(f, p+"output.dense"), x1), p+"output.LayerNorm")
	}
	return x
}

// Logit is a cross-encoder's score of one unpadded pair: the classifier
// applied to the pooled first token.
func (m *Model) Logit(ids, types []int) float64 {
	x := m.HiddenStates(ids, types)
	pooled := m.refLinear(x[:1], "pooler.dense")[0]
	for i, v := range pooled {
		pooled[i] = math.Tanh(v)
	}
	return m.refLinear([][]float64{pooled}, "classifier")[0][0]
}

func (m *Model) refLinear(x [][]float64, prefix string) [][]float64 {
	w, b := m.params[prefix+".weight"], m.params[prefix+".bias"]
	in, out := w.dims[0], w.dims[1]
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = make([]float64, out)
		for o := range out {
			s := float64(b.data[o])
			for c := range in {
				s += row[c] * float64(w.data[c*out+o])
			}
			y[i][o] = s
		}
	}
	return y
}

func (m *Model) refLayerNorm(x [][]float64, prefix string) [][]float64 {
	w, b := m.params[prefix+".weight"], m.params[prefix+".bias"]
	y := make([][]float64, len(x))
	for i, row := range x {
		var mean, variance float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float64(len(row))
		y[i] = make([]float64, len(row))
		for c, v := range row {
			y[i][c] = (v-mean)/math.Sqrt(variance+1e-12)*float64(w.data[c]) + float64(b.data[c])
		}
	}
	return y
}

func add(a, b [][]float64) [][]float64 {
	for i := range a {
		for c := range a[i] {
			a[i][c] += b[i][c]
		}
	}
	return a
}
