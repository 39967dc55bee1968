package ann

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotInt8AVX2(a, b *int8, n int) int32

// dotInt8 is the integer dot product of two codes of equal length.
func dotInt8(a, b []int8) int32 {
	n := len(a) &^ 31
	var s int32
	if hasAVX2 && n > 0 {
		s = dotInt8AVX2(&a[0], &b[0], n)
	} else {
		n = 0
	}
	return s + dotInt8Go(a[n:], b[n:len(a)])
}

//go:noescape
func prefetchLines(p *int8, n int)

//go:noescape
func dotNibblesAVX2(nib *byte, q *int8, n int) int32

// dotNibbles is the dot product of packed 4-bit codes (unsigned, as
// packNibbles lays them out) with int8 query codes; len(q) is a multiple
// of 64.
func dotNibbles(nib []byte, q []int8) int32 {
	if hasAVX2 && len(q) > 0 {
		return dotNibblesAVX2(&nib[0], &q[0], len(q))
	}
	return dotNibblesGo(nib, q)
}
