package ann

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// The file format is a header, the flat arrays, and a CRC-32C of all that
// precedes it, so a torn or corrupted file is detected on load instead of
// answering wrongly. All numbers are little endian.
const (
	magic         = "DSTLHNSW"
	formatVersion = 2 // 2 added the storage (float32 or int8 codes)
)

// ErrCorrupt is returned by Read for a file that is not a whole, intact index.
var ErrCorrupt = errors.New("corrupt vector index")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf [8]byte
	err error
}

func (e *encoder) write(p []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(p)
	_, e.err = e.w.Write(p)
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.write(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.write(e.buf[:8])
}

// Write stores the index, with meta (the caller's own header: which model
// and which changes the index reflects), in w.
func (ix *Index) Write(w io.Writer, meta []byte) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20), crc: crc32.New(castagnoli)}
	e.write([]byte(magic))
	e.u32(formatVersion)
	e.u32(uint32(len(meta)))
	e.write(meta)
	n := len(ix.keys)
	for _, v := range []uint64{uint64(ix.dim), uint64(ix.params.M), uint64(ix.params.EfConstruction), uint64(ix.params.EfSearch),
		uint64(n), uint64(ix.entry), uint64(ix.maxLevel), boolU64(ix.empty), uint64(ix.params.Storage)} {
		e.u64(v)
	}
	chunk := make([]byte, 0, 1<<16)
	flush := func() {
		e.write(chunk)
		chunk = chunk[:0]
	}
	for i := 0; i < n; i++ {
		chunk = binary.LittleEndian.AppendUint64(chunk, uint64(ix.keys[i]))
		var flags byte
		if ix.deleted[i] {
			flags = 1
		}
		chunk = append(chunk, ix.levels[i], ix.count0[i], flags)
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	for _, f := range ix.vecs {
		chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(f))
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	for _, c := range ix.codes {
		chunk = append(chunk, byte(c))
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	for _, f := range ix.scales {
		chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(f))
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	for _, l := range ix.links0 {
		chunk = binary.LittleEndian.AppendUint32(chunk, l)
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	for _, up := range ix.upper {
		for _, l := range up {
			chunk = binary.LittleEndian.AppendUint32(chunk, l)
		}
		if len(chunk) > 1<<15 {
			flush()
		}
	}
	flush()
	if e.err != nil {
		return e.err
	}
	binary.LittleEndian.PutUint32(e.buf[:4], e.crc.Sum32())
	if _, err := e.w.Write(e.buf[:4]); err != nil {
		return err
	}
	return e.w.Flush()
}

func boolU64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

type decoder struct {
	r       *bufio.Reader
	crc     hash.Hash32
	err     error
	version uint32
}

func (d *decoder) read(p []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		d.err = ErrCorrupt
		return
	}
	d.crc.Write(p)
}

func (d *decoder) u32() uint32 {
	var b [4]byte
	d.read(b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func (d *decoder) u64() uint64 {
	var b [8]byte
	d.read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// ReadMeta reads only the caller's header of an index file.
func ReadMeta(r io.Reader) ([]byte, error) {
	d := &decoder{r: bufio.NewReader(r), crc: crc32.New(castagnoli)}
	return d.header()
}

func (d *decoder) header() ([]byte, error) {
	var m [len(magic)]byte
	d.read(m[:])
	if d.err != nil || string(m[:]) != magic {
		return nil, fmt.Errorf("%w: not an index file", ErrCorrupt)
	}
	if d.version = d.u32(); d.version < 1 || d.version > formatVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorrupt, d.version, formatVersion)
	}
	n := d.u32()
	if n > 1<<20 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrCorrupt, n)
	}
	meta := make([]byte, n)
	d.read(meta)
	return meta, d.err
}

// Read loads an index written by Write, returning it and the caller's header.
func Read(r io.Reader) (*Index, []byte, error) {
	size := remaining(r)
	d := &decoder{r: bufio.NewReaderSize(r, 1<<20), crc: crc32.New(castagnoli)}
	meta, err := d.header()
	if err != nil {
		return nil, nil, err
	}
	h := make([]uint64, 8, 9)
	if d.version >= 2 {
		h = h[:9]
	}
	for i := range h {
		h[i] = d.u64()
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	dim, m, efc, efs, n, entry, maxLevel, empty := int(h[0]), int(h[1]), int(h[2]), int(h[3]), int(h[4]), uint32(h[5]), int(h[6]), h[7] == 1
	storage := Float32
	if len(h) > 8 {
		storage = Storage(h[8])
	}
	if dim <= 0 || dim > 1<<16 || m <= 0 || m > 127 || n < 0 || n > 1<<31 || (n > 0 && int(entry) >= n) || maxLevel > 255 || storage > Int8 {
		return nil, nil, fmt.Errorf("%w: implausible header", ErrCorrupt)
	}
	perVector := 11 + 4*2*m
	if storage == Int8 {
		perVector += dim + 4
	} else {
		perVector += 4 * dim
	}
	// Arrays are allocated whole when the input is known to hold them (a
	// file), and otherwise grow as their data arrives, so that a damaged
	// count cannot demand gigabytes either way.
	prealloc := func(total int) int { return min(total, readAhead) }
	if size >= 0 {
		if int64(n)*int64(perVector) > size {
			return nil, nil, fmt.Errorf("%w: %d vectors of %d dimensions do not fit in %d bytes", ErrCorrupt, n, dim, size)
		}
		prealloc = func(total int) int { return total }
	}
	ix := New(dim, Parameters{M: m, EfConstruction: efc, EfSearch: efs, Storage: storage})
	ix.entry, ix.maxLevel, ix.empty = entry, maxLevel, empty
	ix.keys = make([]int64, 0, prealloc(n))
	ix.levels = make([]uint8, 0, prealloc(n))
	ix.count0 = make([]uint8, 0, prealloc(n))
	ix.deleted = make([]bool, 0, prealloc(n))
	rec := make([]byte, 11)
	for i := 0; i < n; i++ {
		d.read(rec)
		if d.err != nil {
			return nil, nil, d.err
		}
		ix.keys = append(ix.keys, int64(binary.LittleEndian.Uint64(rec)))
		ix.levels, ix.count0, ix.deleted = append(ix.levels, rec[8]), append(ix.count0, rec[9]), append(ix.deleted, rec[10] == 1)
		if int(ix.count0[i]) > ix.m0 {
			return nil, nil, fmt.Errorf("%w: node %d has %d links", ErrCorrupt, i, ix.count0[i])
		}
		if !ix.deleted[i] {
			ix.byKey[ix.keys[i]] = uint32(i)
			ix.live++
		}
	}
	if storage == Int8 {
		ix.codes = make([]int8, 0, prealloc(n*dim))
		adviseHugePages(ix.codes)
		buf := make([]byte, readAhead)
		for i := 0; i < n*dim; {
			k := min(len(buf), n*dim-i)
			d.read(buf[:k])
			if d.err != nil {
				return nil, nil, d.err
			}
			for _, b := range buf[:k] {
				ix.codes = append(ix.codes, int8(b))
			}
			i += k
		}
		ix.scales = make([]float32, 0, prealloc(n))
		if err := readU32s(d, n, func(v uint32) { ix.scales = append(ix.scales, math.Float32frombits(v)) }); err != nil {
			return nil, nil, err
		}
		if ix.hasNibbles() { // derived, so not in the file
			ix.nibbles = make([]byte, 0, prealloc(n*dim/2))
			adviseHugePages(ix.nibbles)
			ix.scales4 = make([]float32, 0, prealloc(n))
			for i := range n {
				ix.appendNibbles(uint32(i))
			}
		}
	} else {
		ix.vecs = make([]float32, 0, prealloc(n*dim))
		adviseHugePages(ix.vecs)
		if err := readU32s(d, n*dim, func(v uint32) { ix.vecs = append(ix.vecs, math.Float32frombits(v)) }); err != nil {
			return nil, nil, err
		}
	}
	ix.links0 = make([]uint32, 0, prealloc(n*ix.m0))
	adviseHugePages(ix.links0)
	if err := readU32s(d, n*ix.m0, func(v uint32) { ix.links0 = append(ix.links0, v) }); err != nil {
		return nil, nil, err
	}
	ix.upper = make([][]uint32, n)
	for i := 0; i < n; i++ {
		if ix.levels[i] == 0 {
			continue
		}
		up := make([]uint32, 0, int(ix.levels[i])*(m+1))
		if err := readU32s(d, cap(up), func(v uint32) { up = append(up, v) }); err != nil {
			return nil, nil, err
		}
		ix.upper[i] = up
	}
	sum := d.crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(d.r, tail[:]); err != nil || binary.LittleEndian.Uint32(tail[:]) != sum {
		return nil, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if err := ix.validate(); err != nil {
		return nil, nil, err
	}
	return ix, meta, nil
}

// readAhead bounds what Read allocates before the data is there, when it
// cannot tell how much there is.
const readAhead = 1 << 16

// remaining returns how many bytes are left to read from r, or -1 when r
// cannot tell.
func remaining(r io.Reader) int64 {
	switch r := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader
		return int64(r.Len())
	case *os.File:
		st, err := r.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		at, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return st.Size() - at
	}
	return -1
}

// readU32s reads n numbers, handing each to add in order.
func readU32s(d *decoder, n int, add func(uint32)) error {
	buf := make([]byte, readAhead)
	for i := 0; i < n; {
		k := min(len(buf)/4, n-i)
		d.read(buf[:k*4])
		if d.err != nil {
			return d.err
		}
		for j := 0; j < k; j++ {
			add(binary.LittleEndian.Uint32(buf[j*4:]))
		}
		i += k
	}
	return nil
}

// validate checks that every link points at a node, so a search can never
// index out of range even if a file passed its checksum by accident.
func (ix *Index) validate() error {
	n := uint32(len(ix.keys))
	for i := range ix.keys {
		if int(ix.levels[i]) > ix.maxLevel {
			return fmt.Errorf("%w: node %d above the top level", ErrCorrupt, i)
		}
		for l := 0; l <= int(ix.levels[i]); l++ {
			if l > 0 && ix.upper[i][(l-1)*(ix.params.M+1)] > uint32(ix.params.M) {
				return fmt.Errorf("%w: node %d has too many links", ErrCorrupt, i)
			}
			for _, t := range ix.links(uint32(i), l) {
				if t >= n {
					return fmt.Errorf("%w: node %d links to %d of %d", ErrCorrupt, i, t, n)
				}
			}
		}
	}
	return nil
}
