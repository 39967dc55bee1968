package sqlite

import (
	"encoding/binary"
	"errors"
)

// A posting list is the chunks of one segment that contain one term, in
// increasing chunk id order: a uvarint count, then per chunk the id delta,
// the term frequency and the chunk's length in terms, all uvarints. The
// length rides along so that scoring never has to look a chunk up.
type posting struct {
	chunk int64
	tf    uint32
	dl    uint32
}

// postingsBuilder appends postings in increasing chunk order.
type postingsBuilder struct {
	buf   []byte
	last  int64
	count int
}

func (b *postingsBuilder) add(p posting) {
	b.buf = binary.AppendUvarint(b.buf, uint64(p.chunk-b.last))
	b.buf = binary.AppendUvarint(b.buf, uint64(p.tf))
	b.buf = binary.AppendUvarint(b.buf, uint64(p.dl))
	b.last = p.chunk
	b.count++
}

func (b *postingsBuilder) bytes() []byte {
	out := binary.AppendUvarint(make([]byte, 0, len(b.buf)+4), uint64(b.count))
	return append(out, b.buf...)
}

var errCorruptPostings = errors.New("corrupt posting list")

// decodePostings calls fn for every posting in data.
func decodePostings(data []byte, fn func(posting)) error {
	n, k := binary.Uvarint(data)
	if k <= 0 {
		return errCorruptPostings
	}
	data = data[k:]
	var id int64
	for i := uint64(0); i < n; i++ {
		var v [3]uint64
		for j := range v {
			x, k := binary.Uvarint(data)
			if k <= 0 {
				return errCorruptPostings
			}
			v[j] = x
			data = data[k:]
		}
		id += int64(v[0])
		fn(posting{chunk: id, tf: uint32(v[1]), dl: uint32(v[2])})
	}
	if len(data) != 0 {
		return errCorruptPostings
	}
	return nil
}

// postingsCount returns the number of postings without decoding them.
func postingsCount(data []byte) int {
	n, k := binary.Uvarint(data)
	if k <= 0 {
		return 0
	}
	return int(n)
}
