package sqlite

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// blockWriter packs the posting lists of terms given in increasing order
// into blocks of about blockTarget bytes, as segmentPostings.blocks does.
// A merge feeds it as it walks its inputs, so merged terms are never
// hashed or sorted.
type blockWriter struct {
	out   []block
	names []byte // the open block's terms, concatenated
	dict  []blockEntry
	body  []byte // the open block's postings, concatenated
	size  int
}

type blockEntry struct{ termLen, count, size int }

// add appends a term's encoded postings; terms must come in increasing
// byte order.
func (bw *blockWriter) add(term []byte, count int, postings []byte) {
	bw.open(len(term), len(postings))
	bw.names = append(bw.names, term...)
	bw.push(len(term), count, postings)
}

// addString is add for a term held as a string.
func (bw *blockWriter) addString(term string, count int, postings []byte) {
	bw.open(len(term), len(postings))
	bw.names = append(bw.names, term...)
	bw.push(len(term), count, postings)
}

// open closes the open block if a term of termLen bytes with size bytes
// of postings would take it past the target.
func (bw *blockWriter) open(termLen, size int) {
	// a dictionary entry is the term and three short uvarints
	n := termLen + 6 + size
	if len(bw.dict) > 0 && bw.size+n > blockTarget {
		bw.close()
	}
	bw.size += n
}

func (bw *blockWriter) push(termLen, count int, postings []byte) {
	bw.dict = append(bw.dict, blockEntry{termLen, count, len(postings)})
	bw.body = append(bw.body, postings...)
}

// close encodes the open block.
func (bw *blockWriter) close() {
	if len(bw.dict) == 0 {
		return
	}
	buf := make([]byte, 0, bw.size+len(bw.dict)*6+8)
	buf = binary.AppendUvarint(buf, uint64(len(bw.dict)))
	names := bw.names
	for _, e := range bw.dict {
		buf = binary.AppendUvarint(buf, uint64(e.termLen))
		buf = append(buf, names[:e.termLen]...)
		names = names[e.termLen:]
		buf = binary.AppendUvarint(buf, uint64(e.count))
		buf = binary.AppendUvarint(buf, uint64(e.size))
	}
	buf = append(buf, bw.body...)
	last := bw.dict[len(bw.dict)-1].termLen
	bw.out = append(bw.out, block{last: string(bw.names[len(bw.names)-last:]), data: buf})
	bw.names, bw.dict, bw.body, bw.size = bw.names[:0], bw.dict[:0], bw.body[:0], 0
}

// blocks closes the open block and returns them all.
func (bw *blockWriter) blocks() []block {
	bw.close()
	return bw.out
}

// blockSource yields a segment's blocks in order of their last term; data
// is only used until the next call.
type blockSource interface {
	next() (key string, data []byte, ok bool, err error)
}

// segmentCursor walks the terms of one input segment of a merge.
type segmentCursor struct {
	src    blockSource
	offset int64 // the segment's first chunk, relative to the merged segment's
	key    string
	terms  []blockTerm // the current block's terms, aliasing its data
	at     int
}

// term is the cursor's current term, or nil when it is done.
func (c *segmentCursor) term() []byte {
	if c.at < len(c.terms) {
		return c.terms[c.at].term
	}
	return nil
}

// advance moves to the next term, loading the next block when needed.
func (c *segmentCursor) advance() error {
	c.at++
	for c.at >= len(c.terms) {
		key, data, ok, err := c.src.next()
		if err != nil || !ok {
			c.terms, c.at = c.terms[:0], 0
			return err
		}
		c.key, c.at = key, 0
		if c.terms, err = parseBlock(data, c.terms[:0]); err != nil {
			return fmt.Errorf("block %q: %w", key, err)
		}
		if len(c.terms) > 0 && string(c.terms[len(c.terms)-1].term) != key {
			return fmt.Errorf("block %q: %w: its last term is %q", key, errCorruptPostings, c.terms[len(c.terms)-1].term)
		}
	}
	return nil
}

// parseBlock appends a block's terms to dst, in one pass over its
// dictionary, checking that they are in increasing order. The terms and
// postings alias data.
func parseBlock(data []byte, dst []blockTerm) ([]blockTerm, error) {
	n, pos := binary.Uvarint(data)
	if pos <= 0 || n > uint64(len(data)) {
		return dst, errCorruptPostings
	}
	first := len(dst)
	var size uint64 // of the postings so far
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(data[pos:])
		if k <= 0 || l > uint64(len(data)-pos-k) {
			return dst, errCorruptPostings
		}
		pos += k
		term := data[pos : pos+int(l)]
		pos += int(l)
		c, k1 := binary.Uvarint(data[pos:])
		if k1 <= 0 {
			return dst, errCorruptPostings
		}
		pos += k1
		b, k2 := binary.Uvarint(data[pos:])
		if k2 <= 0 || c == 0 || c > b || b > uint64(len(data)) {
			return dst, errCorruptPostings
		}
		pos += k2
		if len(dst) > first && bytes.Compare(term, dst[len(dst)-1].term) <= 0 {
			return dst, fmt.Errorf("%w: term %q out of order", errCorruptPostings, term)
		}
		// postings holds the offset into the body until the body is known
		dst = append(dst, blockTerm{term: term, count: int(c), postings: data[:0:size]})
		size += b
		if size > uint64(len(data)) {
			return dst, errCorruptPostings
		}
	}
	body := data[pos:]
	if size != uint64(len(body)) {
		return dst, errCorruptPostings
	}
	for i := first; i < len(dst); i++ {
		at := cap(dst[i].postings)
		end := len(body)
		if i+1 < len(dst) {
			end = cap(dst[i+1].postings)
		}
		dst[i].postings = body[at:end:end]
	}
	return dst, nil
}

// mergeBlocks merges the postings of neighbouring segments, given in
// order of their chunk ranges, into blocks of one segment whose first chunk
// is at offset 0. Each term's lists are concatenated: when live is nil
// (nothing deleted) only the first delta of each list is re-encoded and the
// rest is copied; otherwise postings are decoded and those of chunks that
// live reports gone (given the chunk's offset from the merged segment's
// first) are dropped.
func mergeBlocks(srcs []blockSource, offsets []int64, live func(chunk int64) bool) ([]block, error) {
	cursors := make([]*segmentCursor, len(srcs))
	for i, src := range srcs {
		c := &segmentCursor{src: src, offset: offsets[i], at: -1}
		if err := c.advance(); err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		cursors[i] = c
	}
	var (
		bw       blockWriter
		list     []byte // the merged postings of the current term
		prevTerm []byte
	)
	// The cursors at the smallest current term: for a tiered merge of a
	// few segments a scan of all of them beats a heap; a bulk run's merge
	// of a thousand segments needs the heap.
	var heap *cursorHeap
	if len(cursors) > heapFrom {
		heap = newCursorHeap(cursors)
	}
	var at []int
	for {
		var term []byte
		at = at[:0]
		if heap != nil {
			term, at = heap.smallest(at)
		} else {
			for _, c := range cursors {
				if t := c.term(); t != nil && (term == nil || bytes.Compare(t, term) < 0) {
					term = t
				}
			}
			for i, c := range cursors {
				if t := c.term(); t != nil && bytes.Equal(t, term) {
					at = append(at, i)
				}
			}
		}
		if term == nil {
			return bw.blocks(), nil
		}
		if prevTerm != nil && bytes.Compare(term, prevTerm) <= 0 {
			return nil, fmt.Errorf("%w: term %q after %q", errCorruptPostings, term, prevTerm)
		}
		prevTerm = append(prevTerm[:0], term...)
		list = list[:0]
		count := 0
		last := int64(-1) // the merged list's last chunk
		for _, i := range at {
			c := cursors[i]
			bt := c.terms[c.at]
			var err error
			if live == nil {
				list, last, err = appendList(list, last, bt.postings, bt.count, c.offset)
				count += bt.count
			} else {
				var n int
				list, last, n, err = appendLive(list, last, bt.postings, bt.count, c.offset, live)
				count += n
			}
			if err != nil {
				return nil, fmt.Errorf("segment %d block %q term %q: %w", i, c.key, prevTerm, err)
			}
			if err := c.advance(); err != nil {
				return nil, fmt.Errorf("segment %d: %w", i, err)
			}
		}
		if heap != nil {
			heap.push(at)
		}
		if count > 0 {
			bw.add(prevTerm, count, list)
		}
	}
}

// heapFrom is the number of segments above which mergeBlocks keeps its
// cursors in a heap.
const heapFrom = 16

// cursorHeap is a binary min-heap of cursor indexes by current term (ties
// by index, so that a term's postings are appended in segment order).
type cursorHeap struct {
	cursors []*segmentCursor
	idx     []int
}

func newCursorHeap(cursors []*segmentCursor) *cursorHeap {
	h := &cursorHeap{cursors: cursors}
	for i, c := range cursors {
		if c.term() != nil {
			h.idx = append(h.idx, i)
		}
	}
	for i := len(h.idx)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	return h
}

func (h *cursorHeap) less(a, b int) bool {
	ia, ib := h.idx[a], h.idx[b]
	if c := bytes.Compare(h.cursors[ia].term(), h.cursors[ib].term()); c != 0 {
		return c < 0
	}
	return ia < ib
}

func (h *cursorHeap) down(i int) {
	n := len(h.idx)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.idx[i], h.idx[m] = h.idx[m], h.idx[i]
		i = m
	}
}

func (h *cursorHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.idx[i], h.idx[p] = h.idx[p], h.idx[i]
		i = p
	}
}

// smallest pops every cursor at the smallest term, appending their indexes
// to at in increasing order, and returns the term (nil when all are done).
// The term aliases a cursor's block: it is valid until the cursors advance.
func (h *cursorHeap) smallest(at []int) ([]byte, []int) {
	if len(h.idx) == 0 {
		return nil, at
	}
	term := h.cursors[h.idx[0]].term()
	for len(h.idx) > 0 && bytes.Equal(h.cursors[h.idx[0]].term(), term) {
		at = append(at, h.idx[0])
		last := len(h.idx) - 1
		h.idx[0] = h.idx[last]
		h.idx = h.idx[:last]
		h.down(0)
	}
	// Popped in (term, index) order: at is increasing already.
	return term, at
}

// push puts back the cursors of at that still have terms.
func (h *cursorHeap) push(at []int) {
	for _, i := range at {
		if h.cursors[i].term() != nil {
			h.idx = append(h.idx, i)
			h.up(len(h.idx) - 1)
		}
	}
}

// appendList appends one segment's encoded postings of a term (count of
// them, chunk ids relative to offset) to a merged list whose last chunk is
// last (-1 when empty): only the first delta is re-encoded, the rest is
// copied after a walk that finds the list's last chunk and checks the
// encoding.
func appendList(dst []byte, last int64, data []byte, count int, offset int64) ([]byte, int64, error) {
	if count == 0 {
		return dst, last, nil
	}
	d0, k := binary.Uvarint(data)
	if k <= 0 || d0 > 1<<40 {
		return dst, last, errCorruptPostings
	}
	rel, ok := lastChunk(data[k:], count, int64(d0))
	if !ok {
		return dst, last, errCorruptPostings
	}
	first := offset + int64(d0)
	if first <= last {
		return dst, last, errCorruptPostings
	}
	dst = binary.AppendUvarint(dst, uint64(first-max(last, 0)))
	dst = append(dst, data[k:]...)
	return dst, offset + rel, nil
}

// lastChunk walks encoded postings whose first chunk delta (first) is
// already read, and returns the last chunk, relative as the deltas are. It
// reports false unless p holds exactly count postings with positive deltas
// of at most 2^40 and term frequencies and lengths of at most five bytes.
// Most numbers take one byte, which it reads without a call.
func lastChunk(p []byte, count int, first int64) (int64, bool) {
	rel, pos := first, 0
	for i := 0; i < count; i++ {
		if i > 0 {
			if pos >= len(p) {
				return 0, false
			}
			var x uint64
			if b := p[pos]; b < 0x80 {
				x = uint64(b)
				pos++
			} else {
				var k int
				x, k = binary.Uvarint(p[pos:])
				if k <= 0 {
					return 0, false
				}
				pos += k
			}
			if x == 0 || x > 1<<40 {
				return 0, false
			}
			rel += int64(x)
		}
		// skip the term frequency and the length
		for j := 0; j < 2; j++ {
			end := pos
			for end < len(p) && p[end] >= 0x80 {
				end++
			}
			if end >= len(p) || end-pos >= 5 {
				return 0, false
			}
			pos = end + 1
		}
	}
	return rel, pos == len(p)
}

// appendLive appends the postings of live chunks only, re-encoding them,
// and returns how many it kept.
func appendLive(dst []byte, last int64, data []byte, count int, offset int64, live func(int64) bool) ([]byte, int64, int, error) {
	kept, disordered := 0, false
	err := decodePostings(data, count, func(p posting) {
		id := offset + p.chunk
		if disordered || !live(id) {
			return
		}
		if id <= last {
			disordered = true
			return
		}
		dst = binary.AppendUvarint(dst, uint64(id-max(last, 0)))
		dst = binary.AppendUvarint(dst, uint64(p.tf))
		dst = binary.AppendUvarint(dst, uint64(p.dl))
		last = id
		kept++
	})
	if err == nil && disordered {
		err = errCorruptPostings
	}
	return dst, last, kept, err
}
