package onnx

import "math"

// pool turns the token vectors of one input (padding already left out)
// into one vector, concatenating the modes in sentence-transformers'
// order.
func pool(p Pooling, toks [][]float32) []float32 {
	if len(toks) == 0 {
		return nil
	}
	dim := len(toks[0])
	var out []float32
	if p.CLS {
		out = append(out, toks[0]...)
	}
	if p.Max {
		m := append([]float32(nil), toks[0]...)
		for _, t := range toks[1:] {
			for i, v := range t {
				m[i] = max(m[i], v)
			}
		}
		out = append(out, m...)
	}
	if p.Mean || p.MeanSqrtLen {
		sum := make([]float64, dim)
		for _, t := range toks {
			for i, v := range t {
				sum[i] += float64(v)
			}
		}
		if p.Mean {
			out = appendScaled(out, sum, 1/float64(len(toks)))
		}
		if p.MeanSqrtLen {
			out = appendScaled(out, sum, 1/math.Sqrt(float64(len(toks))))
		}
	}
	if p.WeightedMean {
		// Later tokens weigh more: position i has weight i+1.
		sum := make([]float64, dim)
		var weights float64
		for j, t := range toks {
			w := float64(j + 1)
			weights += w
			for i, v := range t {
				sum[i] += w * float64(v)
			}
		}
		out = appendScaled(out, sum, 1/weights)
	}
	if p.LastToken {
		out = append(out, toks[len(toks)-1]...)
	}
	return out
}

func appendScaled(out []float32, v []float64, scale float64) []float32 {
	for _, x := range v {
		out = append(out, float32(x*scale))
	}
	return out
}

// normalize scales v to unit length in place (a zero vector stays zero).
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Max(math.Sqrt(sum), 1e-12)
	for i, x := range v {
		v[i] = float32(float64(x) / norm)
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
