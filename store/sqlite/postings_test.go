package sqlite

import (
	"encoding/binary"
	"errors"
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

// spaced is n segment offsets step chunks apart.
func spaced(n int, step int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i) * step
	}
	return out
}

// memBlocks is a blockSource over blocks in memory.
type memBlocks []block

func (m *memBlocks) next() (string, []byte, bool, error) {
	if len(*m) == 0 {
		return "", nil, false, nil
	}
	b := (*m)[0]
	*m = (*m)[1:]
	return b.last, b.data, true, nil
}

// TestMergeBlocksEqualsAdd checks the k-way merge of segments' blocks,
// copying encoded postings or dropping deleted chunks, against building
// the merged segment posting by posting.
func TestMergeBlocksEqualsAdd(t *testing.T) {
	tests := []struct {
		name    string
		offsets []int64 // first chunk of each segment, relative to the merged one
		deleted bool
	}{
		{"one segment", []int64{0}, false},
		{"adjacent", []int64{0, 50, 100}, false},
		{"gaps", []int64{3, 1000, 1 << 30}, false},
		{"eight", []int64{0, 60, 120, 180, 240, 300, 360, 420}, false},
		{"deleted chunks", []int64{0, 50, 100}, true},
		{"deleted, gaps", []int64{3, 1000, 1 << 30}, true},
		// More than heapFrom segments: the merge keeps its cursors in a heap.
		{"a bulk run's forty", spaced(40, 50), false},
		{"a bulk run's forty, deleted chunks", spaced(40, 50), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(tt.offsets))))
			gone := map[int64]bool{}
			var direct segmentPostings
			var srcs []blockSource
			terms := []string{"a", "b", "c", "d"}
			for i := 0; i < 300; i++ {
				terms = append(terms, fmt.Sprintf("t%04d", r.IntN(2000)))
			}
			for _, off := range tt.offsets {
				var seg segmentPostings
				for c := int64(0); c < 50; c++ {
					dead := tt.deleted && r.IntN(4) == 0
					if dead {
						gone[c+off] = true
					}
					seen := map[string]bool{}
					for _, term := range terms {
						if seen[term] || r.IntN(8) != 0 {
							continue
						}
						seen[term] = true
						p := posting{chunk: c, tf: uint32(1 + r.IntN(4)), dl: uint32(10 + r.IntN(200))}
						seg.add(term, p)
						if !dead {
							p.chunk += off
							direct.add(term, p)
						}
					}
				}
				blocks := memBlocks(seg.blocks())
				srcs = append(srcs, &blocks)
			}
			var live func(int64) bool
			if tt.deleted {
				live = func(id int64) bool { return !gone[id] }
			}
			merged, err := mergeBlocks(srcs, tt.offsets, live)
			if err != nil {
				t.Fatal(err)
			}
			if want := direct.blocks(); !reflect.DeepEqual(merged, want) {
				t.Fatalf("merged blocks (%d) differ from blocks built posting by posting (%d)", len(merged), len(want))
			}
		})
	}
}

func TestMergeBlocksRejectsDamage(t *testing.T) {
	one := func(term string, ps ...posting) []block {
		var sp segmentPostings
		for _, p := range ps {
			sp.add(term, p)
		}
		return sp.blocks()
	}
	overlapping := [][]block{one("a", posting{chunk: 10, tf: 1, dl: 5}), one("a", posting{chunk: 0, tf: 1, dl: 5})}
	truncated := one("a", posting{chunk: 1, tf: 1, dl: 5})
	truncated[0].data = truncated[0].data[:len(truncated[0].data)-1]
	wrongKey := one("b", posting{chunk: 1, tf: 1, dl: 5})
	wrongKey[0].last = "c"
	tests := []struct {
		name    string
		blocks  [][]block
		offsets []int64
	}{
		{"postings before the list's last chunk", overlapping, []int64{0, 5}},
		{"truncated block", [][]block{truncated}, []int64{0}},
		{"block key is not its last term", [][]block{wrongKey}, []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, live := range []func(int64) bool{nil, func(int64) bool { return true }} {
				var srcs []blockSource
				for _, bs := range tt.blocks {
					m := memBlocks(bs)
					srcs = append(srcs, &m)
				}
				if _, err := mergeBlocks(srcs, tt.offsets, live); !errors.Is(err, errCorruptPostings) {
					t.Errorf("live %v: got %v, want a corrupt postings error", live != nil, err)
				}
			}
		})
	}
}

// TestTermDictSorted grows a dictionary in batches and checks that the
// order kept incrementally is the terms' byte order, and that blocks of
// segments using few or most of a shared dictionary's terms come out the
// same as from a dictionary of their own.
func TestTermDictSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := &termDict{ids: map[string]int32{}}
	for batch := 0; batch < 6; batch++ {
		for i := 0; i < 1+r.IntN(500); i++ {
			d.id(fmt.Sprintf("%x", r.Uint32()>>uint(r.IntN(28))))
		}
		order, rank := d.sorted()
		if len(order) != len(d.names) || len(rank) != len(d.names) {
			t.Fatalf("batch %d: %d ids in order, %d ranks, %d terms", batch, len(order), len(rank), len(d.names))
		}
		for i, id := range order {
			if i > 0 && d.names[order[i-1]] >= d.names[id] {
				t.Fatalf("batch %d: %q before %q", batch, d.names[order[i-1]], d.names[id])
			}
			if rank[id] != int32(i) {
				t.Fatalf("batch %d: rank of %q is %d, want %d", batch, d.names[id], rank[id], i)
			}
		}
	}
	for _, used := range []int{3, len(d.names) / 2} {
		shared, own := segmentPostings{dict: d}, segmentPostings{}
		for c := int64(0); c < 20; c++ {
			seen := map[string]bool{}
			for i := 0; i < used; i++ {
				term := d.names[r.IntN(len(d.names))]
				if seen[term] {
					continue // one posting per chunk and term
				}
				seen[term] = true
				p := posting{chunk: c, tf: 1, dl: 9}
				shared.add(term, p)
				own.add(term, p)
			}
		}
		if !reflect.DeepEqual(shared.blocks(), own.blocks()) {
			t.Errorf("%d terms of %d: blocks differ with a shared dictionary", used, len(d.names))
		}
	}
}

// TestBatchSizesArePrepared checks that multi-row INSERTs of any number of
// rows run only statements prepareWrites prepares.
func TestBatchSizesArePrepared(t *testing.T) {
	prepared := map[string]bool{}
	for _, q := range writeStatements() {
		prepared[q] = true
	}
	for _, batch := range []struct {
		size int
		sql  func(int) string
	}{{chunkBatch, insertChunksSQL}, {blockBatch, insertBlocksSQL}} {
		for left := 1; left <= 3*batch.size+1; left++ {
			total := 0
			for rest := left; rest > 0; {
				n := batchSize(batch.size, rest)
				if n < 1 || n > rest || !prepared[batch.sql(n)] {
					t.Fatalf("%d rows: a batch of %d of %d left is not prepared", left, n, rest)
				}
				total += n
				rest -= n
			}
			if total != left {
				t.Fatalf("%d rows: batches write %d", left, total)
			}
		}
	}
}

// TestLastChunk checks the merge's walk of encoded postings against
// decodePostings on lists it must accept and ones it must refuse.
func TestLastChunk(t *testing.T) {
	enc := func(ps ...posting) []byte {
		var tp termPostings
		for _, p := range ps {
			tp.add(p)
		}
		return tp.buf
	}
	big := posting{chunk: 1 << 39, tf: 1 << 31, dl: 1<<32 - 1}
	tests := []struct {
		name  string
		data  []byte
		count int
		last  int64 // -1: refused
	}{
		{"one", enc(posting{5, 1, 9}), 1, 5},
		{"several", enc(posting{0, 1, 9}, posting{3, 2, 200}, posting{300, 1, 70000}), 3, 300},
		{"large numbers", enc(posting{1, 1, 1}, big), 2, 1 << 39},
		{"zero delta", []byte{1, 1, 1, 0, 1, 1}, 2, -1},
		{"count too high", enc(posting{5, 1, 9}), 2, -1},
		{"count too low", enc(posting{5, 1, 9}, posting{6, 1, 9}), 1, -1},
		{"truncated", enc(posting{5, 1, 9}, posting{6, 1, 300})[:6], 2, -1},
		{"frequency over five bytes", []byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 1, 1}, 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d0, k := binary.Uvarint(tt.data)
			got, ok := lastChunk(tt.data[k:], tt.count, int64(d0))
			if !ok {
				got = -1
			}
			if got != tt.last {
				t.Fatalf("last chunk %d, want %d", got, tt.last)
			}
			if ok {
				var last int64
				if err := decodePostings(tt.data, tt.count, func(p posting) { last = p.chunk }); err != nil || last != got {
					t.Fatalf("decodePostings: last %d, %v", last, err)
				}
			}
		})
	}
}
