package sqlite

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
)

// A segment's postings are stored as a few large blocks rather than one row
// per term: a document then writes tens of rows instead of tens of
// thousands, and merges decode and re-encode blocks in Go instead of
// inserting into a B-tree term by term.
//
// A block holds the posting lists of a run of consecutive terms (in byte
// order) and is keyed by its segment and its last term, so the block that
// may hold a term is the first one whose last term is not smaller. Its
// layout, all integers uvarints:
//
//	count of terms
//	per term: length, bytes, number of postings, length of its postings
//	the terms' postings, concatenated
//
// A term's postings are, per chunk in increasing order, the chunk's offset
// from the previous one (the first from the segment's first chunk id), its
// term frequency and its length in terms. The length rides along so that
// scoring never has to look a chunk up.
type posting struct {
	chunk int64 // relative to the segment's first chunk id in blocks
	tf    uint32
	dl    uint32
}

// blockTarget is the size of postings at which a block is closed. A query
// reads one block per term per segment, so blocks stay small enough that
// reading one costs about what reading the term's own postings did.
const blockTarget = 2 << 10

// termPostings is one term's encoded postings while a segment is built.
type termPostings struct {
	buf   []byte
	last  int64
	count int
}

func (t *termPostings) add(p posting) {
	t.buf = binary.AppendUvarint(t.buf, uint64(p.chunk-t.last))
	t.buf = binary.AppendUvarint(t.buf, uint64(p.tf))
	t.buf = binary.AppendUvarint(t.buf, uint64(p.dl))
	t.last = p.chunk
	t.count++
}

// termDict numbers the terms a writer meets, so that counting and
// collecting postings index slices instead of hashing strings per posting.
type termDict struct {
	ids   map[string]int32
	names []string

	// The ids in byte order of their terms, and each id's position in it,
	// for the first sortedN ids; see sorted.
	order, rank []int32
	sortedN     int
}

func newTermDict() *termDict { return &termDict{ids: map[string]int32{}} }

func (d *termDict) id(term string) int32 {
	id, ok := d.ids[term]
	if !ok {
		id = int32(len(d.names))
		d.ids[term] = id
		d.names = append(d.names, term)
	}
	return id
}

// segmentPostings accumulates a segment's postings in memory, in the
// order they are added, which must be by increasing chunk (relative id),
// one posting per chunk and term. blocks groups them by term: appending
// to one flat slice and grouping once costs less than growing a buffer per
// term.
type segmentPostings struct {
	dict    *termDict // may be shared by the segments of one writer
	flat    []flatPosting
	count   int
	scratch *postingScratch // buffers blocks reuses; nil allocates them
}

// flatPosting is a posting of term id.
type flatPosting struct {
	chunk  int64
	id     int32
	tf, dl uint32
}

// postingScratch holds the buffers of segmentPostings.blocks: counts and
// positions indexed by term id (counts are all zero between uses), the
// postings grouped by term, and one term's encoding.
type postingScratch struct {
	counts, pos []int32
	used        []int32
	grouped     []flatPosting
	buf         []byte
}

func (s *segmentPostings) add(term string, p posting) {
	if s.dict == nil {
		s.dict = newTermDict()
	}
	s.addID(s.dict.id(term), p)
}

func (s *segmentPostings) addID(id int32, p posting) {
	s.flat = append(s.flat, flatPosting{chunk: p.chunk, id: id, tf: p.tf, dl: p.dl})
	s.count++
}

// block is one stored block: its last term and its encoding.
type block struct {
	last string
	data []byte
}

// blocks packs the postings into blocks of about blockTarget bytes, terms
// in byte order.
func (s *segmentPostings) blocks() []block {
	if len(s.flat) == 0 {
		return nil
	}
	sc := s.scratch
	if sc == nil {
		sc = &postingScratch{}
	}
	n := len(s.dict.names)
	if len(sc.counts) < n {
		sc.counts = append(sc.counts, make([]int32, n-len(sc.counts))...)
		sc.pos = append(sc.pos, make([]int32, n-len(sc.pos))...)
	}
	counts, pos := sc.counts, sc.pos
	used := sc.used[:0]
	for _, p := range s.flat {
		if counts[p.id] == 0 {
			used = append(used, p.id)
		}
		counts[p.id]++
	}
	off := int32(0)
	for _, id := range used {
		pos[id] = off
		off += counts[id]
	}
	grouped := slices.Grow(sc.grouped[:0], len(s.flat))[:len(s.flat)]
	for _, p := range s.flat {
		grouped[pos[p.id]] = p
		pos[p.id]++
	}
	// pos[id] is now the end of the term's postings.
	var bw blockWriter
	add := func(id int32) {
		ps := grouped[pos[id]-counts[id] : pos[id]]
		buf, last := sc.buf[:0], int64(0)
		for _, p := range ps {
			buf = binary.AppendUvarint(buf, uint64(p.chunk-last))
			buf = binary.AppendUvarint(buf, uint64(p.tf))
			buf = binary.AppendUvarint(buf, uint64(p.dl))
			last = p.chunk
		}
		sc.buf = buf
		bw.addString(s.dict.names[id], len(ps), buf)
	}
	switch d := s.dict; {
	case len(used)*8 >= n:
		// Most of the dictionary is used: walk it in order.
		order, _ := d.sorted()
		for _, id := range order {
			if counts[id] > 0 {
				add(id)
			}
		}
	case d.sortedN == n:
		// The dictionary's order is known: sort by rank, comparing numbers.
		rank := d.rank
		slices.SortFunc(used, func(a, b int32) int { return int(rank[a]) - int(rank[b]) })
		for _, id := range used {
			add(id)
		}
	default:
		// A small segment with terms the order does not hold yet: sorting
		// its own terms costs less than merging them into the order of the
		// whole vocabulary, which grows with every document of a run.
		names := d.names
		slices.SortFunc(used, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
		for _, id := range used {
			add(id)
		}
	}
	for _, id := range used {
		counts[id] = 0
	}
	sc.used, sc.grouped = used, grouped[:0]
	return bw.blocks()
}

var errCorruptPostings = errors.New("corrupt posting list")

// blockTerm is one dictionary entry of a block. term aliases the block.
type blockTerm struct {
	term     []byte
	count    int
	postings []byte
}

// eachBlockTerm calls fn for every term of a block, in order, with its
// postings still encoded. fn returning false stops the walk.
func eachBlockTerm(data []byte, fn func(bt blockTerm) bool) error {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return errCorruptPostings
	}
	// Two passes over the dictionary: the first finds where the postings
	// start, the second hands out each term with its postings.
	walk := func(visit func(term []byte, count, size uint64) bool) (int, bool) {
		pos := k
		for i := uint64(0); i < n; i++ {
			l, m := binary.Uvarint(data[pos:])
			if m <= 0 || l > uint64(len(data)-pos-m) {
				return 0, false
			}
			pos += m
			term := data[pos : pos+int(l)]
			pos += int(l)
			c, m1 := binary.Uvarint(data[pos:])
			if m1 <= 0 {
				return 0, false
			}
			pos += m1
			b, m2 := binary.Uvarint(data[pos:])
			if m2 <= 0 || c == 0 || c > b {
				return 0, false
			}
			pos += m2
			if !visit(term, c, b) {
				return pos, true
			}
		}
		return pos, true
	}
	end, ok := walk(func([]byte, uint64, uint64) bool { return true })
	if !ok {
		return errCorruptPostings
	}
	body := data[end:]
	stopped, short := false, false
	walk(func(term []byte, count, size uint64) bool {
		if size > uint64(len(body)) {
			short = true
			return false
		}
		if !fn(blockTerm{term: term, count: int(count), postings: body[:size]}) {
			stopped = true
			return false
		}
		body = body[size:]
		return true
	})
	if short {
		return errCorruptPostings
	}
	if !stopped && len(body) != 0 {
		return errCorruptPostings
	}
	return nil
}

// lookupBlock finds term's postings in a block without copying the terms.
func lookupBlock(data []byte, term string) (blockTerm, bool, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return blockTerm{}, false, errCorruptPostings
	}
	pos := k
	next := func() (uint64, bool) {
		x, k := binary.Uvarint(data[pos:])
		if k <= 0 {
			return 0, false
		}
		pos += k
		return x, true
	}
	var offset, at, size uint64
	count, found := 0, false
	for i := uint64(0); i < n; i++ {
		l, ok := next()
		if !ok || l > uint64(len(data)-pos) {
			return blockTerm{}, false, errCorruptPostings
		}
		match := !found && string(data[pos:pos+int(l)]) == term
		pos += int(l)
		c, ok1 := next()
		b, ok2 := next()
		if !ok1 || !ok2 || c == 0 || c > b {
			return blockTerm{}, false, errCorruptPostings
		}
		if match {
			found, at, size, count = true, offset, b, int(c)
		}
		offset += b
	}
	body := data[pos:]
	if offset != uint64(len(body)) {
		return blockTerm{}, false, errCorruptPostings
	}
	if !found {
		return blockTerm{}, false, nil
	}
	return blockTerm{term: []byte(term), count: count, postings: body[at : at+size]}, true, nil
}

// decodePostings calls fn for every posting of one term's encoded postings.
// Chunk ids come out relative to the segment's first chunk.
func decodePostings(data []byte, count int, fn func(posting)) error {
	var id int64
	for i := 0; i < count; i++ {
		var v [3]uint64
		for j := range v {
			x, k := binary.Uvarint(data)
			if k <= 0 {
				return errCorruptPostings
			}
			v[j] = x
			data = data[k:]
		}
		if v[0] > 1<<40 || (i > 0 && v[0] == 0) {
			return errCorruptPostings
		}
		id += int64(v[0])
		fn(posting{chunk: id, tf: uint32(v[1]), dl: uint32(v[2])})
	}
	if len(data) != 0 {
		return errCorruptPostings
	}
	return nil
}
