package ann

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDotInt8MatchesPlainGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1024, 1031} {
		for _, fill := range []string{"random", "extremes"} {
			a, b := make([]int8, n), make([]int8, n)
			for i := range a {
				switch fill {
				case "random":
					a[i], b[i] = int8(r.IntN(256)-128), int8(r.IntN(256)-128)
				case "extremes": // the largest products, to catch overflow
					a[i], b[i] = -128, -128
					if i%2 == 1 {
						a[i], b[i] = 127, -128
					}
				}
			}
			if got, want := dotInt8(a, b), dotInt8Go(a, b); got != want {
				t.Errorf("n=%d %s: dotInt8 = %d, want %d", n, fill, got, want)
			}
		}
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    []float32
	}{
		{"unit", []float32{0.6, 0, -0.8}},
		{"zero", []float32{0, 0, 0}},
		{"one large", []float32{1, 1e-4, -1e-4}},
	}
	for _, tt := range tests {
		code := make([]int8, len(tt.v))
		scale := quantize(tt.v, code)
		back := make([]float32, len(tt.v))
		dequantize(code, scale, back)
		for i := range back {
			// Rounding to the nearest of 255 levels errs by at most half a step.
			if d := math.Abs(float64(back[i] - tt.v[i])); d > float64(scale)/2+1e-7 {
				t.Errorf("%s: component %d = %v, want %v ± %v", tt.name, i, back[i], tt.v[i], scale/2)
			}
		}
	}
}

// searchInt8 searches an int8 index and re-ranks depth hits with the
// generator's exact vectors, as a collection does with its stored ones.
func searchInt8(ix *Index, exact map[int64][]float32, q []float32, k, depth int) []Result {
	hits, _ := ix.Search(q, depth)
	vecs := make([][]float32, len(hits))
	for i, h := range hits {
		vecs[i] = exact[h.Key]
	}
	return Rerank(q, hits, vecs, k)
}

func TestInt8IndexWithRerankFindsExactNeighbours(t *testing.T) {
	const n, dim = 2000, 64
	g := newEmbeddings(dim, 32, 11)
	float := New(dim, Parameters{Seed: 11})
	quant := New(dim, Parameters{Seed: 11, Storage: Int8})
	exact := map[int64][]float32{}
	for i := 0; i < n; i++ {
		v := g.next()
		exact[int64(i+1)] = v
		if err := float.Add(int64(i+1), v); err != nil {
			t.Fatal(err)
		}
		if err := quant.Add(int64(i+1), v); err != nil {
			t.Fatal(err)
		}
	}
	// A code and its scale take dim+4 bytes instead of 4·dim, its 4-bit
	// code and scale dim/2+4 more.
	if m, f := quant.MemoryBytes(), float.MemoryBytes(); f-m < n*(5*dim/2-8)*9/10 {
		t.Errorf("int8 index holds %d bytes, the float32 one %d", m, f)
	}
	var withRerank, codesOnly float64
	const queries = 100
	for q := 0; q < queries; q++ {
		v := g.next()
		want, _ := float.SearchExact(v, 10)
		withRerank += recall(searchInt8(quant, exact, v, 10, 40), want)
		got, _ := quant.Search(v, 10)
		codesOnly += recall(got, want)
	}
	if r := withRerank / queries; r < 0.97 {
		t.Errorf("recall@10 of int8 search re-ranked = %.3f", r)
	}
	// The codes alone rank well but not exactly: re-ranking must not hurt.
	if codesOnly > withRerank {
		t.Errorf("re-ranking lowered recall: %.3f without, %.3f with", codesOnly/queries, withRerank/queries)
	}
	// Exact scores after re-ranking are the true cosines.
	v := g.next()
	for _, h := range searchInt8(quant, exact, v, 5, 40) {
		if want := dot(v, exact[h.Key]); math.Abs(float64(h.Score-want)) > 1e-5 {
			t.Fatalf("re-ranked score of %d = %v, want %v", h.Key, h.Score, want)
		}
	}
	// Vector decodes the codes: close to the original, normalized.
	got, ok := quant.Vector(42)
	if !ok || dot(got, exact[42]) < 0.999 || math.Abs(float64(dot(got, got))-1) > 1e-5 {
		t.Fatalf("Vector(42) is not the stored vector: cos %v", dot(got, exact[42]))
	}
}

func TestRerankDropsHitsWithoutVectors(t *testing.T) {
	hits := []Result{{Key: 1, Score: 0.9}, {Key: 2, Score: 0.8}, {Key: 3, Score: 0.7}}
	got := Rerank([]float32{1, 0}, hits, [][]float32{{0, 1}, nil, {2, 0}}, 5)
	if fmt.Sprint(got) != "[{3 1} {1 0}]" {
		t.Fatalf("Rerank = %v", got)
	}
}

func TestInt8WriteReadAndCompact(t *testing.T) {
	g := newEmbeddings(48, 16, 4)
	ix := New(48, Parameters{Seed: 4, Storage: Int8})
	for i := 0; i < 1200; i++ {
		if err := ix.Add(int64(i+1), g.next()); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := ix.Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	back, _, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Storage() != Int8 || back.Len() != ix.Len() {
		t.Fatalf("reloaded: storage %d, %d vectors", back.Storage(), back.Len())
	}
	q := g.next()
	a, _ := ix.Search(q, 10)
	b, _ := back.Search(q, 10)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("reloaded int8 index answers differently:\n%v\n%v", a, b)
	}
	for i := int64(1); i <= 400; i++ {
		ix.Delete(i)
	}
	before, _ := ix.Vector(500)
	ix.Compact()
	after, _ := ix.Vector(500)
	if ix.Deleted() != 0 || ix.Len() != 800 || dot(before, after) < 1-1e-6 {
		t.Fatalf("compacted: %d tombstones, %d live, vector 500 moved: cos %v", ix.Deleted(), ix.Len(), dot(before, after))
	}
}

// A file of format 1 (float32 vectors, no storage field) still loads.
func TestReadsFormatVersion1(t *testing.T) {
	ix, g := build(t, 300, 16, 9)
	var buf bytes.Buffer
	if err := ix.Write(&buf, []byte("m")); err != nil {
		t.Fatal(err)
	}
	v2 := buf.Bytes()
	// magic, version, meta length, meta, then 9 header numbers: drop the
	// ninth (storage), set version 1 and re-sign.
	storageAt := len(magic) + 4 + 4 + 1 + 8*8
	v1 := append(append([]byte(nil), v2[:storageAt]...), v2[storageAt+8:len(v2)-4]...)
	binary.LittleEndian.PutUint32(v1[len(magic):], 1)
	v1 = binary.LittleEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	back, meta, err := Read(bytes.NewReader(v1))
	if err != nil || string(meta) != "m" || back.Storage() != Float32 {
		t.Fatalf("format 1: %v, meta %q", err, meta)
	}
	q := g.next()
	a, _ := ix.Search(q, 5)
	b, _ := back.Search(q, 5)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("format 1 index answers differently")
	}
}

func TestDotNibblesMatchesPlainGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{64, 128, 1024} {
		nib, q := make([]byte, n/2), make([]int8, n)
		for i := range nib {
			nib[i] = byte(r.IntN(256))
		}
		for i := range q {
			q[i] = int8(r.IntN(255) - 127)
		}
		if got, want := dotNibbles(nib, q), dotNibblesGo(nib, q); got != want {
			t.Errorf("n=%d: dotNibbles = %d, want %d", n, got, want)
		}
	}
}

// The 4-bit codes stand for the same vector as the int8 ones, within the
// rounding of 15 levels.
func TestPackNibbles(t *testing.T) {
	g := newEmbeddings(128, 8, 6)
	v := g.next()
	code := make([]int8, 128)
	scale8 := quantize(v, code)
	nib := make([]byte, 64)
	scale4 := packNibbles(code, scale8, nib)
	for d := range v {
		x := nib[(d/64)*32+d%32]
		if d%64 >= 32 {
			x >>= 4
		}
		back := float32(int(x&15)-nibbleOffset) * scale4
		if diff := math.Abs(float64(back - v[d])); diff > float64(scale4)/2+float64(scale8) {
			t.Fatalf("dimension %d: %v from 4 bits, want %v ± %v", d, back, v[d], scale4/2)
		}
	}
}

// Walking layer 0 with 4-bit codes finds what the int8 walk finds.
func TestNibbleWalkKeepsRecall(t *testing.T) {
	const n, dim = 3000, 128
	g := newEmbeddings(dim, 16, 8)
	ix := New(dim, Parameters{Seed: 8, Storage: Int8})
	exact := map[int64][]float32{}
	for i := 0; i < n; i++ {
		v := g.next()
		exact[int64(i+1)] = v
		if err := ix.Add(int64(i+1), v); err != nil {
			t.Fatal(err)
		}
	}
	if !ix.hasNibbles() || len(ix.nibbles) != n*dim/2 {
		t.Fatalf("no 4-bit codes: %d bytes", len(ix.nibbles))
	}
	recallWith := func(nibbles bool) float64 {
		walkNibbles = nibbles
		defer func() { walkNibbles = true }()
		r := rand.New(rand.NewPCG(9, 9))
		var sum float64
		for q := 0; q < 100; q++ {
			v := exact[int64(r.IntN(n)+1)]
			want, _ := ix.SearchExact(v, 10)
			sum += recall(searchInt8(ix, exact, v, 10, 40), Rerank(v, want, vecsOf(exact, want), 10))
		}
		return sum / 100
	}
	with, without := recallWith(true), recallWith(false)
	if with < 0.97 || with < without-0.02 {
		t.Fatalf("recall@10 walking 4-bit codes %.3f, int8 codes %.3f", with, without)
	}
}

func vecsOf(exact map[int64][]float32, hits []Result) [][]float32 {
	out := make([][]float32, len(hits))
	for i, h := range hits {
		out[i] = exact[h.Key]
	}
	return out
}
