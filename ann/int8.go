package ann

import (
	"cmp"
	"math"
	"slices"
)

// Quantized indexes keep each unit vector as int8 codes with one scale
// (v ≈ scale·code, the largest component mapped to ±127): a quarter of the
// float32 size, so a search moves a quarter of the memory per hop, which
// is what it waits on. Similarities from codes are approximate; callers
// that need exact scores re-rank the best candidates with Rerank.

// quantize writes v's codes into code and returns the scale.
func quantize(v []float32, code []int8) float32 {
	var maxAbs float32
	for _, f := range v {
		maxAbs = max(maxAbs, float32(math.Abs(float64(f))))
	}
	if maxAbs == 0 {
		clear(code)
		return 0
	}
	inv := 127 / maxAbs
	for i, f := range v {
		code[i] = int8(math.Round(float64(f * inv)))
	}
	return maxAbs / 127
}

// dequantize writes the vector a code stands for into v.
func dequantize(code []int8, scale float32, v []float32) {
	for i, c := range code {
		v[i] = float32(c) * scale
	}
}

func dotInt8Go(a, b []int8) int32 {
	var s int32
	for i := range a {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

// Rerank rescores hits by the cosine similarity of q with their exact
// vectors (vecs[i] is hits[i]'s, as stored; a nil one drops its hit) and
// returns the best k, best first (ties by key). An Int8 index's Search ranks by codes;
// re-ranking a few dozen of its best hits restores the exact order.
func Rerank(q []float32, hits []Result, vecs [][]float32, k int) []Result {
	unit := append([]float32(nil), q...)
	Normalize(unit)
	out := make([]Result, 0, len(hits))
	v := make([]float32, len(q))
	for i, h := range hits {
		if vecs[i] == nil || len(vecs[i]) != len(q) {
			continue
		}
		copy(v, vecs[i])
		Normalize(v)
		out = append(out, Result{Key: h.Key, Score: dot(unit, v)})
	}
	SortResults(out)
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// Holds reports whether the index has key (present) and whether what it
// keeps for key is v as it would store it now: the same direction for
// Float32, the same codes for Int8. A check uses it to find an index that
// fell out of step with the stored vectors.
func (ix *Index) Holds(key int64, v []float32) (holds, present bool) {
	if len(v) != ix.dim {
		return false, false
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	node, ok := ix.byKey[key]
	if !ok {
		return false, false
	}
	unit := append([]float32(nil), v...)
	Normalize(unit)
	if ix.params.Storage != Int8 {
		return dot(unit, ix.vec(node)) >= 1-1e-4, true
	}
	code := make([]int8, ix.dim)
	scale := quantize(unit, code)
	if d := scale - ix.scales[node]; d > scale*1e-5 || -d > scale*1e-5 {
		return false, true
	}
	for i, c := range ix.code(node) {
		if d := int(c) - int(code[i]); d > 1 || d < -1 {
			return false, true
		}
	}
	return true, true
}

// SortResults orders results best first. Ties go to the smaller key, so
// that equal vectors (duplicate chunks) come back in the same order
// whatever state the graph is in.
func SortResults(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}
