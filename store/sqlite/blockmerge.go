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
		c.key, c.terms, c.at = key, c.terms[:0], 0
		prev := []byte(nil)
		if err := eachBlockTerm(data, func(bt blockTerm) bool {
			c.terms = append(c.terms, bt)
			return true
		}); err != nil {
			return fmt.Errorf("block %q: %w", key, err)
		}
		for i, bt := range c.terms {
			if i > 0 && bytes.Compare(bt.term, prev) <= 0 {
				return fmt.Errorf("block %q: %w: term %q out of order", key, errCorruptPostings, bt.term)
			}
			prev = bt.term
		}
		if len(c.terms) > 0 && string(c.terms[len(c.terms)-1].term) != key {
			return fmt.Errorf("block %q: %w: its last term is %q", key, errCorruptPostings, c.terms[len(c.terms)-1].term)
		}
	}
	return nil
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
	for {
		// The smallest current term; k is small, so a scan beats a heap.
		var term []byte
		for _, c := range cursors {
			if t := c.term(); t != nil && (term == nil || bytes.Compare(t, term) < 0) {
				term = t
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
		for i, c := range cursors {
			t := c.term()
			if t == nil || !bytes.Equal(t, prevTerm) {
				continue
			}
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
		if count > 0 {
			bw.add(prevTerm, count, list)
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
	rest := data[k:]
	rel, p := int64(d0), rest
	for i := 0; i < count; i++ {
		for j := 0; j < 3; j++ {
			if i == 0 && j == 0 {
				continue
			}
			x, k := binary.Uvarint(p)
			if k <= 0 || (j == 0 && (x == 0 || x > 1<<40)) {
				return dst, last, errCorruptPostings
			}
			if j == 0 {
				rel += int64(x)
			}
			p = p[k:]
		}
	}
	if len(p) != 0 {
		return dst, last, errCorruptPostings
	}
	first := offset + int64(d0)
	if first <= last {
		return dst, last, errCorruptPostings
	}
	dst = binary.AppendUvarint(dst, uint64(first-max(last, 0)))
	dst = append(dst, rest...)
	return dst, offset + rel, nil
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
