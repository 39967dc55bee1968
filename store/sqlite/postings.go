package sqlite

import (
	"encoding/binary"
	"errors"
	"sort"
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
const blockTarget = 8 << 10

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

// segmentPostings accumulates a segment's postings in memory. Chunks must
// be added in increasing order of their relative id.
type segmentPostings struct {
	terms map[string]*termPostings
	count int
}

func (s *segmentPostings) add(term string, p posting) {
	if s.terms == nil {
		s.terms = map[string]*termPostings{}
	}
	t := s.terms[term]
	if t == nil {
		t = &termPostings{}
		s.terms[term] = t
	}
	t.add(p)
	s.count++
}

// block is one stored block: its last term and its encoding.
type block struct {
	last string
	data []byte
}

// blocks packs the postings into blocks of about blockTarget bytes.
func (s *segmentPostings) blocks() []block {
	terms := make([]string, 0, len(s.terms))
	for t := range s.terms {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	var out []block
	for start := 0; start < len(terms); {
		end, size := start, 0
		for end < len(terms) {
			// a dictionary entry is the term and three short uvarints
			n := len(terms[end]) + 6 + len(s.terms[terms[end]].buf)
			if end > start && size+n > blockTarget {
				break
			}
			size += n
			end++
		}
		out = append(out, block{last: terms[end-1], data: encodeBlock(terms[start:end], s.terms, size)})
		start = end
	}
	return out
}

func encodeBlock(terms []string, postings map[string]*termPostings, size int) []byte {
	buf := make([]byte, 0, size+len(terms)*12+8)
	buf = binary.AppendUvarint(buf, uint64(len(terms)))
	for _, t := range terms {
		tp := postings[t]
		buf = binary.AppendUvarint(buf, uint64(len(t)))
		buf = append(buf, t...)
		buf = binary.AppendUvarint(buf, uint64(tp.count))
		buf = binary.AppendUvarint(buf, uint64(len(tp.buf)))
	}
	for _, t := range terms {
		buf = append(buf, postings[t].buf...)
	}
	return buf
}

var errCorruptPostings = errors.New("corrupt posting list")

// blockTerm is one dictionary entry of a block.
type blockTerm struct {
	term     string
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
	dict := data[k:]
	// The postings start after the dictionary; find it first.
	type entry struct {
		term         string
		count, bytes uint64
	}
	pos := 0
	next := func() (uint64, bool) {
		x, k := binary.Uvarint(dict[pos:])
		if k <= 0 {
			return 0, false
		}
		pos += k
		return x, true
	}
	entries := make([]entry, 0, n)
	for i := uint64(0); i < n; i++ {
		l, ok := next()
		if !ok || l > uint64(len(dict)-pos) {
			return errCorruptPostings
		}
		term := string(dict[pos : pos+int(l)])
		pos += int(l)
		c, ok1 := next()
		b, ok2 := next()
		if !ok1 || !ok2 {
			return errCorruptPostings
		}
		entries = append(entries, entry{term, c, b})
	}
	body := dict[pos:]
	for _, e := range entries {
		if e.bytes > uint64(len(body)) || e.count > e.bytes {
			return errCorruptPostings
		}
		if !fn(blockTerm{term: e.term, count: int(e.count), postings: body[:e.bytes]}) {
			return nil
		}
		body = body[e.bytes:]
	}
	if len(body) != 0 {
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
		if !ok1 || !ok2 || c > b {
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
	return blockTerm{term: term, count: count, postings: body[at : at+size]}, true, nil
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
