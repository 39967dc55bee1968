package ann

// An Int8 index whose dimension is a multiple of 64 also keeps 4-bit codes
// of its vectors (half the bytes again) and walks layer 0 with them:
// comparing is what a search waits on, and it waits on memory. The hits
// the walk collects are re-scored with the int8 codes before they are
// returned, so the 4-bit codes only steer; the graph itself is built with
// int8 codes.

// nibbleOffset turns a signed 4-bit code (-7..7) into the unsigned value
// stored, as VPMADDUBSW multiplies unsigned bytes with signed ones.
const nibbleOffset = 8

// packNibbles writes the 4-bit codes of an int8 code into nib (len(code)/2
// bytes) and returns their scale: v ≈ scale·(nibble - 8). Byte j of block
// b holds dimension 64b+j in its low nibble and 64b+32+j in its high one.
func packNibbles(code []int8, scale8 float32, nib []byte) float32 {
	const ratio = 7.0 / 127
	for b := 0; b < len(code)/64; b++ {
		block := code[b*64 : b*64+64]
		out := nib[b*32 : b*32+32]
		for j := range 32 {
			lo := nibble(float32(block[j]) * ratio)
			hi := nibble(float32(block[32+j]) * ratio)
			out[j] = lo | hi<<4
		}
	}
	return scale8 / ratio
}

func nibble(x float32) byte {
	r := int(x + 0.5)
	if x < 0 {
		r = int(x - 0.5)
	}
	return byte(min(max(r, -7), 7) + nibbleOffset)
}

func dotNibblesGo(nib []byte, q []int8) int32 {
	var s int32
	for b := 0; b < len(q)/64; b++ {
		for j := range 32 {
			x := nib[b*32+j]
			s += int32(x&15)*int32(q[b*64+j]) + int32(x>>4)*int32(q[b*64+32+j])
		}
	}
	return s
}
