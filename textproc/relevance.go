package textproc

import "math"

// TermSet is the distinct terms of a piece of text.
type TermSet map[string]bool

// ContentTerms returns the distinct content terms of text (Content analyzer).
func ContentTerms(text string) TermSet {
	s := TermSet{}
	Content.ForEach(text, func(t string, _, _ int) { s[t] = true })
	return s
}

// QueryWeights gives each content term of the query an inverse document
// frequency weight over units (the sentences or passages being judged), so
// that a term every unit shares counts for little and a rare one for much:
// w(t) = ln(1 + (n + 1) / (n_t + 0.5)).
func QueryWeights(query TermSet, units []TermSet) map[string]float64 {
	w := make(map[string]float64, len(query))
	n := float64(len(units))
	for t := range query {
		nt := 0.0
		for _, u := range units {
			if u[t] {
				nt++
			}
		}
		w[t] = math.Log(1 + (n+1)/(nt+0.5))
	}
	return w
}

// Coverage is the share of the query's weight that unit contains, from 0 to 1.
func Coverage(weights map[string]float64, unit TermSet) float64 {
	var have, total float64
	for t, w := range weights {
		total += w
		if unit[t] {
			have += w
		}
	}
	if total == 0 {
		return 0
	}
	return have / total
}

// Jaccard is the overlap of two term sets, from 0 to 1.
func Jaccard(a, b TermSet) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
