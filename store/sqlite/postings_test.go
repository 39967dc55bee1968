package sqlite

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

// TestBlocks packs segments of several shapes into blocks and checks that
// every term is found with its postings in the one block a search reads
// (the first whose last term is not smaller), that absent terms are not
// found, and that blocks stay near their target size.
func TestBlocks(t *testing.T) {
	tests := []struct {
		name          string
		terms, chunks int
		zipf          bool // a few terms in most chunks, as in prose
	}{
		{"one term one chunk", 1, 1, false},
		{"few terms", 5, 40, false},
		{"many rare terms", 5000, 300, false},
		{"skewed", 3000, 2000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.terms), uint64(tt.chunks)))
			zipf := rand.NewZipf(r, 1.1, 1, uint64(tt.terms-1))
			want := map[string][]posting{}
			var sp segmentPostings
			for c := 0; c < tt.chunks; c++ {
				tf := map[string]uint32{}
				for i := 0; i < 1+r.IntN(60); i++ {
					n := r.IntN(tt.terms)
					if tt.zipf {
						n = int(zipf.Uint64())
					}
					tf[fmt.Sprintf("t%05d", n)]++
				}
				terms := make([]string, 0, len(tf))
				for term := range tf {
					terms = append(terms, term)
				}
				sort.Strings(terms)
				for _, term := range terms {
					p := posting{chunk: int64(c * 3), tf: tf[term], dl: uint32(len(tf))}
					sp.add(term, p)
					want[term] = append(want[term], p)
				}
			}
			blocks := sp.blocks()
			for i, b := range blocks {
				if i > 0 && b.last <= blocks[i-1].last {
					t.Fatalf("block %d ends at %q, not after %q", i, b.last, blocks[i-1].last)
				}
				n := 0
				if err := eachBlockTerm(b.data, func(bt blockTerm) bool { n++; return true }); err != nil {
					t.Fatal(err)
				}
				if n > 1 && len(b.data) > 2*blockTarget {
					t.Errorf("block %d holds %d terms in %d bytes, over twice the target", i, n, len(b.data))
				}
			}
			find := func(term string) ([]posting, bool) {
				i := sort.Search(len(blocks), func(i int) bool { return blocks[i].last >= term })
				if i == len(blocks) {
					return nil, false
				}
				bt, ok, err := lookupBlock(blocks[i].data, term)
				if err != nil {
					t.Fatalf("lookup %q: %v", term, err)
				}
				if !ok {
					return nil, false
				}
				var got []posting
				if err := decodePostings(bt.postings, bt.count, func(p posting) { got = append(got, p) }); err != nil {
					t.Fatalf("decode %q: %v", term, err)
				}
				return got, true
			}
			for term, ps := range want {
				got, ok := find(term)
				if !ok || !reflect.DeepEqual(got, ps) {
					t.Fatalf("term %q: got %v (found %v), want %v", term, got, ok, ps)
				}
			}
			for _, absent := range []string{"", "a", "t00000a", "zzz"} {
				if _, ok := find(absent); ok {
					t.Errorf("absent term %q found", absent)
				}
			}
		})
	}
}

// TestAddEncodedEqualsAdd checks the merge's copy of encoded postings
// against adding the same postings one by one.
func TestAddEncodedEqualsAdd(t *testing.T) {
	tests := []struct {
		name    string
		offsets []int64 // first chunk of each segment, relative to the merged one
	}{
		{"one segment", []int64{0}},
		{"adjacent", []int64{0, 50, 100}},
		{"gaps", []int64{3, 1000, 1 << 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(tt.offsets))))
			var direct, merged segmentPostings
			for _, off := range tt.offsets {
				var seg segmentPostings
				for c := int64(0); c < 50; c++ {
					for _, term := range []string{"a", "b", "c", "d"} {
						if r.IntN(3) == 0 {
							p := posting{chunk: c, tf: uint32(1 + r.IntN(4)), dl: uint32(10 + r.IntN(90))}
							seg.add(term, p)
							p.chunk += off
							direct.add(term, p)
						}
					}
				}
				for _, b := range seg.blocks() {
					if err := eachBlockTerm(b.data, func(bt blockTerm) bool {
						if err := merged.addEncoded(bt.term, bt.postings, bt.count, off); err != nil {
							t.Fatal(err)
						}
						return true
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !reflect.DeepEqual(merged.blocks(), direct.blocks()) {
				t.Fatal("merged blocks differ from blocks built posting by posting")
			}
			if merged.count != direct.count {
				t.Fatalf("count %d, want %d", merged.count, direct.count)
			}
		})
	}
	var tp termPostings
	tp.add(posting{chunk: 10, tf: 1, dl: 5})
	var other termPostings
	other.add(posting{chunk: 0, tf: 1, dl: 5})
	if err := tp.appendEncoded(other.buf, 1, 5); err == nil {
		t.Error("postings appended before the list's last chunk were accepted")
	}
	if err := tp.appendEncoded([]byte{1, 1}, 1, 20); err == nil {
		t.Error("truncated postings were accepted")
	}
}
