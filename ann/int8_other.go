//go:build !amd64

package ann

func dotInt8(a, b []int8) int32 { return dotInt8Go(a, b) }

func prefetchLines(*int8, int) {}

func dotNibbles(nib []byte, q []int8) int32 { return dotNibblesGo(nib, q) }
