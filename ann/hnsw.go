// Package ann is the approximate nearest neighbour index behind dense
// retrieval: a hierarchical navigable small world graph (HNSW, Malkov and
// Yashunin 2016) over unit vectors, ranked by cosine similarity. It keeps
// vectors and links in flat arrays, either as float32 or as int8 codes
// (plus 4-bit codes that steer the walk on layer 0), whose approximate
// scores callers re-rank with the exact vectors (Rerank). A million
// 1024-dimension vectors take under half their raw float32 size that way.
// Comparisons run on AVX2 where the CPU has it.
//
// Deletes are tombstones: a deleted vector still routes searches but is
// never returned, and Compact rebuilds the graph without them once they
// pile up. Keys are the caller's (chunk row ids), never reused.
package ann

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"unsafe"

	"github.com/viterin/vek/vek32"
)

// Parameters shape the graph. The zero value takes the defaults.
type Parameters struct {
	// M is the number of links a node keeps on the upper layers; layer 0
	// keeps 2M. Default 32: on vectors of intrinsic dimension 32, 16 needed
	// twice the candidates for the same recall at 1M vectors, and lost.
	M int
	// EfConstruction is the candidate list size when inserting. Default 128.
	EfConstruction int
	// EfSearch is the candidate list size when searching (at least k).
	// Default 128: recall@10 0.96 at 1,000,000 vectors of 1024 dimensions
	// (Int8, re-ranked; docs/vectors.md).
	EfSearch int
	// Seed makes level assignment reproducible.
	Seed uint64
	// Storage is how the index keeps vectors: Float32 (exact scores) or
	// Int8 (a quarter of the memory and faster searches; scores are
	// approximate, so callers re-rank the best hits with Rerank).
	Storage Storage
}

// Storage is the representation of vectors inside an index.
type Storage uint8

const (
	// Float32 keeps the normalized vectors as they are.
	Float32 Storage = iota
	// Int8 keeps one byte per dimension and a scale per vector.
	Int8
)

func (p Parameters) withDefaults() Parameters {
	if p.M <= 0 {
		p.M = 32
	}
	if p.EfConstruction <= 0 {
		p.EfConstruction = 128
	}
	if p.EfSearch <= 0 {
		p.EfSearch = 128
	}
	return p
}

// Result is one hit: the key and its cosine similarity to the query.
type Result struct {
	Key   int64
	Score float32
}

// Index is an HNSW graph. It is safe for concurrent use: searches run in
// parallel, inserts and deletes take the index exclusively.
type Index struct {
	mu     sync.RWMutex
	dim    int
	params Parameters
	m0     int
	mult   float64
	rng    *rand.Rand

	keys    []int64
	vecs    []float32 // Float32: node i's vector is vecs[i*dim:(i+1)*dim], normalized
	codes   []int8    // Int8: node i's codes are codes[i*dim:(i+1)*dim]
	scales  []float32 // Int8: node i's vector ≈ scales[i]·codes
	nibbles []byte    // Int8, dim a multiple of 64: 4-bit codes (nibbles.go)
	scales4 []float32 // their scales
	levels  []uint8
	links0  []uint32   // node i's layer 0 links: links0[i*m0 : i*m0+count0[i]]
	count0  []uint8    //
	upper   [][]uint32 // node i's links on layers 1..levels[i]: per layer a count then M slots
	deleted []bool
	byKey   map[int64]uint32
	live    int

	entry    uint32
	maxLevel int
	empty    bool

	visitedPool sync.Pool

	// During AddBatch: locks striped over the nodes' links, and the lock
	// of the entry point and top level.
	stripes []sync.Mutex
	entryMu sync.RWMutex
}

// New returns an empty index for vectors of dim dimensions.
func New(dim int, p Parameters) *Index {
	p = p.withDefaults()
	return &Index{
		dim: dim, params: p, m0: 2 * p.M, mult: 1 / math.Log(float64(p.M)),
		rng:   rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)),
		byKey: map[int64]uint32{}, empty: true,
	}
}

// Dim returns the vectors' dimension.
func (ix *Index) Dim() int { return ix.dim }

// Len returns the number of live (not deleted) vectors.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Deleted returns the number of tombstones the graph still holds.
func (ix *Index) Deleted() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.keys) - ix.live
}

// Has reports whether key is in the index and not deleted.
func (ix *Index) Has(key int64) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	_, ok := ix.byKey[key]
	return ok
}

// Vector returns a copy of key's vector as the index holds it (normalized),
// for checking the index against where the vectors are stored.
func (ix *Index) Vector(key int64) ([]float32, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	node, ok := ix.byKey[key]
	if !ok {
		return nil, false
	}
	return ix.vector(node), true
}

// vector returns a copy of node's normalized vector (decoded from its
// codes in an Int8 index).
func (ix *Index) vector(node uint32) []float32 {
	if ix.params.Storage != Int8 {
		return append([]float32(nil), ix.vec(node)...)
	}
	v := make([]float32, ix.dim)
	dequantize(ix.code(node), ix.scales[node], v)
	Normalize(v)
	return v
}

// Storage returns how the index keeps vectors.
func (ix *Index) Storage() Storage { return ix.params.Storage }

// SetEfSearch changes the search candidate list size.
func (ix *Index) SetEfSearch(ef int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ef > 0 {
		ix.params.EfSearch = ef
	}
}

// DimensionError is a vector whose length is not the index's dimension.
type DimensionError struct {
	Got, Want int
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("vector has %d dimensions, the index holds %d", e.Got, e.Want)
}

// ErrDuplicateKey is returned when adding a key that is already present.
var ErrDuplicateKey = errors.New("key already in the index")

// Normalize scales v to unit length in place; a zero vector stays zero.
func Normalize(v []float32) {
	n := float32(math.Sqrt(float64(dot(v, v))))
	if n == 0 || n == 1 {
		return
	}
	inv := 1 / n
	for i := range v {
		v[i] *= inv
	}
}

func dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return vek32.Dot(a, b)
}

func (ix *Index) vec(i uint32) []float32 {
	off := int(i) * ix.dim
	return ix.vecs[off : off+ix.dim : off+ix.dim]
}

func (ix *Index) code(i uint32) []int8 {
	off := int(i) * ix.dim
	return ix.codes[off : off+ix.dim : off+ix.dim]
}

func (ix *Index) nibble(i uint32) []byte {
	half := ix.dim / 2
	off := int(i) * half
	return ix.nibbles[off : off+half : off+half]
}

// walkNibbles turns the 4-bit walk off, for benchmarks that measure it.
var walkNibbles = true

// hasNibbles reports whether the index keeps 4-bit codes.
func (ix *Index) hasNibbles() bool {
	return walkNibbles && ix.params.Storage == Int8 && ix.dim%64 == 0
}

// appendNibbles adds node n's 4-bit codes, made from its int8 ones.
func (ix *Index) appendNibbles(n uint32) {
	ix.nibbles = append(ix.nibbles, make([]byte, ix.dim/2)...)
	ix.scales4 = append(ix.scales4, packNibbles(ix.code(n), ix.scales[n], ix.nibble(n)))
}

// query is a search's vector in the index's representation.
type query struct {
	vec   []float32
	code  []int8
	scale float32
	sum   int32 // of code, for comparing with 4-bit codes
	// nibbles makes sim compare with the 4-bit codes.
	nibbles bool
}

// newQuery makes a query of a normalized vector.
func (ix *Index) newQuery(v []float32) *query {
	if ix.params.Storage != Int8 {
		return &query{vec: v}
	}
	q := &query{code: make([]int8, len(v))}
	q.scale = quantize(v, q.code)
	for _, c := range q.code {
		q.sum += int32(c)
	}
	return q
}

// nodeQuery makes a query of a node's own vector, for linking it.
func (ix *Index) nodeQuery(n uint32) *query {
	if ix.params.Storage != Int8 {
		return &query{vec: ix.vec(n)}
	}
	return &query{code: ix.code(n), scale: ix.scales[n]}
}

// sim is the cosine similarity of the query and node n.
func (ix *Index) sim(q *query, n uint32) float32 {
	if q.nibbles {
		return q.scale * ix.scales4[n] * float32(dotNibbles(ix.nibble(n), q.code)-nibbleOffset*q.sum)
	}
	if q.code != nil {
		return q.scale * ix.scales[n] * float32(dotInt8(q.code, ix.code(n)))
	}
	return dot(q.vec, ix.vec(n))
}

// simNodes is the cosine similarity of nodes a and b.
func (ix *Index) simNodes(a, b uint32) float32 {
	if ix.params.Storage == Int8 {
		return ix.scales[a] * ix.scales[b] * float32(dotInt8(ix.code(a), ix.code(b)))
	}
	return dot(ix.vec(a), ix.vec(b))
}

// prefetchLinesPerNode is how many cache lines of each neighbour's codes
// a search asks for ahead (experiment knob).
var prefetchLinesPerNode = 4

// prefetchNode starts loading what q compares with node n into the cache.
func (ix *Index) prefetchNode(q *query, n uint32) {
	switch {
	case prefetchLinesPerNode <= 0:
	case q.nibbles:
		prefetchLines((*int8)(unsafe.Pointer(&ix.nibbles[int(n)*ix.dim/2])), min(prefetchLinesPerNode, (ix.dim/2+63)/64))
	case q.code != nil:
		prefetchLines(&ix.codes[int(n)*ix.dim], min(prefetchLinesPerNode, (ix.dim+63)/64))
	}
}

func (ix *Index) links(i uint32, level int) []uint32 {
	if level == 0 {
		off := int(i) * ix.m0
		return ix.links0[off : off+int(ix.count0[i])]
	}
	l := ix.upper[i][(level-1)*(ix.params.M+1):]
	return l[1 : 1+l[0]]
}

func (ix *Index) setLinks(i uint32, level int, ids []uint32) {
	if level == 0 {
		off := int(i) * ix.m0
		copy(ix.links0[off:off+ix.m0], ids)
		ix.count0[i] = uint8(len(ids))
		return
	}
	l := ix.upper[i][(level-1)*(ix.params.M+1):]
	l[0] = uint32(len(ids))
	copy(l[1:1+ix.params.M], ids)
}

func (ix *Index) maxLinks(level int) int {
	if level == 0 {
		return ix.m0
	}
	return ix.params.M
}

// Grow makes room for n more vectors, so that a bulk load allocates once
// instead of doubling its arrays (and briefly holding both copies).
func (ix *Index) Grow(n int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.keys = slices.Grow(ix.keys, n)
	if ix.params.Storage == Int8 {
		ix.codes = slices.Grow(ix.codes, n*ix.dim)
		adviseHugePages(ix.codes)
		ix.scales = slices.Grow(ix.scales, n)
		if ix.hasNibbles() {
			ix.nibbles = slices.Grow(ix.nibbles, n*ix.dim/2)
			adviseHugePages(ix.nibbles)
			ix.scales4 = slices.Grow(ix.scales4, n)
		}
	} else {
		ix.vecs = slices.Grow(ix.vecs, n*ix.dim)
		adviseHugePages(ix.vecs)
	}
	ix.levels = slices.Grow(ix.levels, n)
	ix.links0 = slices.Grow(ix.links0, n*ix.m0)
	adviseHugePages(ix.links0)
	ix.count0 = slices.Grow(ix.count0, n)
	ix.upper = slices.Grow(ix.upper, n)
	ix.deleted = slices.Grow(ix.deleted, n)
}

// Add inserts a vector under key. The vector is copied and normalized.
func (ix *Index) Add(key int64, v []float32) error {
	if len(v) != ix.dim {
		return &DimensionError{Got: len(v), Want: ix.dim}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, dup := ix.byKey[key]; dup {
		return fmt.Errorf("add %d: %w", key, ErrDuplicateKey)
	}
	ix.insert(key, v)
	return nil
}

func (ix *Index) randomLevel() int {
	u := 1 - ix.rng.Float64() // (0, 1]
	return min(int(-math.Log(u)*ix.mult), 255)
}

func (ix *Index) insert(key int64, v []float32) {
	node := uint32(len(ix.keys))
	ix.appendNode(key, v, ix.randomLevel())
	ix.insertNode(node)
}

// appendNode adds a node's data to the arrays, without links.
func (ix *Index) appendNode(key int64, v []float32, level int) {
	node := uint32(len(ix.keys))
	ix.keys = append(ix.keys, key)
	if ix.params.Storage == Int8 {
		unit := append([]float32(nil), v...)
		Normalize(unit)
		ix.codes = append(ix.codes, make([]int8, ix.dim)...)
		ix.scales = append(ix.scales, quantize(unit, ix.code(node)))
		if ix.hasNibbles() {
			ix.appendNibbles(node)
		}
	} else {
		ix.vecs = append(ix.vecs, v...)
		Normalize(ix.vecs[int(node)*ix.dim:])
	}
	ix.levels = append(ix.levels, uint8(level))
	ix.links0 = append(ix.links0, make([]uint32, ix.m0)...)
	ix.count0 = append(ix.count0, 0)
	var up []uint32
	if level > 0 {
		up = make([]uint32, level*(ix.params.M+1))
	}
	ix.upper = append(ix.upper, up)
	ix.deleted = append(ix.deleted, false)
	ix.byKey[key] = node
	ix.live++
}

// insertNode links an appended node into the graph. In a parallel build
// (ix.stripes set) it takes the locks of the nodes whose links it reads or
// writes, and the entry lock when it raises the top level.
func (ix *Index) insertNode(node uint32) {
	level := int(ix.levels[node])
	parallel := ix.stripes != nil
	if parallel {
		ix.entryMu.RLock()
	}
	ep, maxLevel, empty := ix.entry, ix.maxLevel, ix.empty
	if parallel {
		ix.entryMu.RUnlock()
		if level > maxLevel || empty {
			ix.entryMu.Lock()
			defer ix.entryMu.Unlock()
			ep, maxLevel, empty = ix.entry, ix.maxLevel, ix.empty
		}
	}
	if empty {
		ix.entry, ix.maxLevel, ix.empty = node, level, false
		return
	}
	q := ix.nodeQuery(node)
	epSim := ix.sim(q, ep)
	for l := maxLevel; l > level; l-- {
		ep, epSim = ix.greedy(q, ep, epSim, l)
	}
	vis := ix.visited()
	defer ix.visitedPool.Put(vis)
	for l := min(level, maxLevel); l >= 0; l-- {
		found := ix.searchLayer(q, ep, epSim, ix.params.EfConstruction, l, vis, false)
		neighbors := ix.selectNeighbors(found, ix.params.M)
		ids := make([]uint32, len(neighbors))
		for i, c := range neighbors {
			ids[i] = c.id
		}
		ix.lock(node)
		ix.setLinks(node, l, ids)
		ix.unlock(node)
		for _, c := range neighbors {
			ix.lock(c.id)
			ix.link(c.id, node, c.sim, l)
			ix.unlock(c.id)
		}
		ep, epSim = found[0].id, found[0].sim
	}
	if level > maxLevel {
		ix.entry, ix.maxLevel = node, level
	}
}

func (ix *Index) lock(i uint32) {
	if ix.stripes != nil {
		ix.stripes[i%uint32(len(ix.stripes))].Lock()
	}
}

func (ix *Index) unlock(i uint32) {
	if ix.stripes != nil {
		ix.stripes[i%uint32(len(ix.stripes))].Unlock()
	}
}

// linksOf returns node i's links on level: the array itself, or in a
// parallel build a copy taken under the node's lock.
func (ix *Index) linksOf(i uint32, level int, buf []uint32) []uint32 {
	if ix.stripes == nil {
		return ix.links(i, level)
	}
	ix.lock(i)
	buf = append(buf[:0], ix.links(i, level)...)
	ix.unlock(i)
	return buf
}

// link adds a link from a to b on level, pruning a's links with the
// neighbour selection heuristic when they overflow.
func (ix *Index) link(a, b uint32, sim float32, level int) {
	cur := ix.links(a, level)
	max := ix.maxLinks(level)
	if len(cur) < max {
		ids := append(append(make([]uint32, 0, len(cur)+1), cur...), b)
		ix.setLinks(a, level, ids)
		return
	}
	cands := make([]candidate, 0, len(cur)+1)
	cands = append(cands, candidate{b, sim})
	for _, n := range cur {
		cands = append(cands, candidate{n, ix.simNodes(a, n)})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].sim > cands[j].sim })
	kept := ix.selectNeighbors(cands, max)
	ids := make([]uint32, len(kept))
	for i, c := range kept {
		ids[i] = c.id
	}
	ix.setLinks(a, level, ids)
}

// selectNeighbors is the HNSW heuristic: take candidates best first, and
// keep one only if it is closer to the query than to every one kept, so
// links spread in all directions instead of crowding into one cluster.
// Candidates must be sorted best first. Pruned candidates fill remaining
// slots, as hnswlib's keepPrunedConnections does, so that nodes in dense
// regions stay well connected.
func (ix *Index) selectNeighbors(cands []candidate, m int) []candidate {
	if len(cands) <= m {
		return cands
	}
	kept := make([]candidate, 0, m)
	var pruned []candidate
	for _, c := range cands {
		if len(kept) == m {
			break
		}
		good := true
		for _, k := range kept {
			if ix.simNodes(c.id, k.id) > c.sim {
				good = false
				break
			}
		}
		if good {
			kept = append(kept, c)
		} else {
			pruned = append(pruned, c)
		}
	}
	for _, c := range pruned {
		if len(kept) == m {
			break
		}
		kept = append(kept, c)
	}
	return kept
}

// greedy walks level from ep to the node closest to q.
func (ix *Index) greedy(q *query, ep uint32, epSim float32, level int) (uint32, float32) {
	var buf [64]uint32
	for changed := true; changed; {
		changed = false
		for _, n := range ix.linksOf(ep, level, buf[:0]) {
			if s := ix.sim(q, n); s > epSim {
				ep, epSim, changed = n, s, true
			}
		}
	}
	return ep, epSim
}

type candidate struct {
	id  uint32
	sim float32
}

// searchLayer is the beam search of one layer: it returns up to ef nodes,
// best first. With skipDeleted, tombstones route the search but are not
// returned.
func (ix *Index) searchLayer(q *query, ep uint32, epSim float32, ef, level int, vis *visited, skipDeleted bool) []candidate {
	vis.reset(len(ix.keys))
	vis.mark(ep)
	cands := maxHeap{{ep, epSim}}
	var results minHeap
	if !skipDeleted || !ix.deleted[ep] {
		results.push(candidate{ep, epSim})
	}
	for len(cands) > 0 {
		c := cands.pop()
		if len(results) >= ef && c.sim < results[0].sim {
			break
		}
		vis.buf = ix.linksOf(c.id, level, vis.buf)
		// Keep only the unseen neighbours and ask for their vectors up
		// front, so the memory fetches overlap instead of queueing.
		vis.fresh = vis.fresh[:0]
		for _, n := range vis.buf {
			if !vis.seen(n) {
				vis.mark(n)
				ix.prefetchNode(q, n)
				vis.fresh = append(vis.fresh, n)
			}
		}
		for _, n := range vis.fresh {
			s := ix.sim(q, n)
			if len(results) < ef || s > results[0].sim {
				cands.push(candidate{n, s})
				if !skipDeleted || !ix.deleted[n] {
					results.push(candidate{n, s})
					if len(results) > ef {
						results.pop()
					}
				}
			}
		}
	}
	out := make([]candidate, len(results))
	for i := len(results) - 1; i >= 0; i-- {
		out[i] = results.pop()
	}
	return out
}

// Search returns the k live vectors most similar to q, best first.
func (ix *Index) Search(q []float32, k int) ([]Result, error) {
	if len(q) != ix.dim {
		return nil, &DimensionError{Got: len(q), Want: ix.dim}
	}
	q = append([]float32(nil), q...)
	Normalize(q)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.empty || ix.live == 0 || k <= 0 {
		return nil, nil
	}
	qq := ix.newQuery(q)
	ep := ix.entry
	epSim := ix.sim(qq, ep)
	for l := ix.maxLevel; l > 0; l-- {
		ep, epSim = ix.greedy(qq, ep, epSim, l)
	}
	vis := ix.visited()
	defer ix.visitedPool.Put(vis)
	if ix.hasNibbles() && len(ix.nibbles) == len(ix.codes)/2 {
		// Walk layer 0 with the 4-bit codes, then rank what it found by
		// the int8 ones.
		walk := *qq
		walk.nibbles = true
		found := ix.searchLayer(&walk, ep, ix.sim(&walk, ep), max(ix.params.EfSearch, k), 0, vis, true)
		for i := range found {
			found[i].sim = ix.sim(qq, found[i].id)
		}
		slices.SortFunc(found, func(a, b candidate) int { return cmp.Compare(b.sim, a.sim) })
		return ix.results(found[:min(k, len(found))]), nil
	}
	found := ix.searchLayer(qq, ep, epSim, max(ix.params.EfSearch, k), 0, vis, true)
	if len(found) > k {
		found = found[:k]
	}
	return ix.results(found), nil
}

// SearchExact compares q with every live vector: the ground truth that
// Search approximates, and the faster choice for small collections.
func (ix *Index) SearchExact(q []float32, k int) ([]Result, error) {
	if len(q) != ix.dim {
		return nil, &DimensionError{Got: len(q), Want: ix.dim}
	}
	q = append([]float32(nil), q...)
	Normalize(q)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if k <= 0 {
		return nil, nil
	}
	qq := ix.newQuery(q)
	var top minHeap
	for i := range ix.keys {
		if ix.deleted[i] {
			continue
		}
		s := ix.sim(qq, uint32(i))
		if len(top) < k {
			top.push(candidate{uint32(i), s})
		} else if s > top[0].sim {
			top[0] = candidate{uint32(i), s}
			top.fix()
		}
	}
	out := make([]candidate, len(top))
	for i := len(top) - 1; i >= 0; i-- {
		out[i] = top.pop()
	}
	return ix.results(out), nil
}

func (ix *Index) results(cs []candidate) []Result {
	out := make([]Result, len(cs))
	for i, c := range cs {
		out[i] = Result{Key: ix.keys[c.id], Score: c.sim}
	}
	return out
}

// Delete removes key; it reports whether it was there.
func (ix *Index) Delete(key int64) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	node, ok := ix.byKey[key]
	if !ok {
		return false
	}
	delete(ix.byKey, key)
	ix.deleted[node] = true
	ix.live--
	return true
}

// NeedsCompaction reports whether tombstones make up a quarter of the graph.
func (ix *Index) NeedsCompaction() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	dead := len(ix.keys) - ix.live
	return dead > 0 && dead*4 >= len(ix.keys)
}

// Compact rebuilds the graph from the live vectors, dropping tombstones.
func (ix *Index) Compact() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	fresh := New(ix.dim, ix.params)
	fresh.rng = ix.rng
	keys := make([]int64, 0, ix.live)
	vecs := make([][]float32, 0, ix.live)
	for i, key := range ix.keys {
		if !ix.deleted[i] {
			keys, vecs = append(keys, key), append(vecs, ix.vector(uint32(i)))
		}
	}
	fresh.Grow(len(keys))
	fresh.AddBatch(keys, vecs, 0) // cannot fail: the keys and dimensions are the index's own
	ix.keys, ix.vecs, ix.levels, ix.links0, ix.count0 = fresh.keys, fresh.vecs, fresh.levels, fresh.links0, fresh.count0
	ix.codes, ix.scales, ix.nibbles, ix.scales4 = fresh.codes, fresh.scales, fresh.nibbles, fresh.scales4
	ix.upper, ix.deleted, ix.byKey, ix.live = fresh.upper, fresh.deleted, fresh.byKey, fresh.live
	ix.entry, ix.maxLevel, ix.empty = fresh.entry, fresh.maxLevel, fresh.empty
	ix.visitedPool = sync.Pool{}
}

// Keys returns the live keys in insertion order.
func (ix *Index) Keys() []int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]int64, 0, ix.live)
	for i, k := range ix.keys {
		if !ix.deleted[i] {
			out = append(out, k)
		}
	}
	return out
}

// MemoryBytes estimates the heap the index holds.
func (ix *Index) MemoryBytes() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := int64(cap(ix.vecs))*4 + int64(cap(ix.codes)) + int64(cap(ix.scales))*4 + int64(cap(ix.nibbles)) + int64(cap(ix.scales4))*4 + int64(cap(ix.keys))*8 + int64(cap(ix.links0))*4 + int64(cap(ix.count0)) +
		int64(cap(ix.levels)) + int64(cap(ix.deleted)) + int64(cap(ix.upper))*24
	for _, u := range ix.upper {
		n += int64(cap(u)) * 4
	}
	n += int64(len(ix.byKey)) * 24 // map entries with buckets' overhead, roughly
	return n
}

// visited marks the nodes a search has seen, by generation so that it
// never needs clearing.
type visited struct {
	gen   uint32
	marks []uint32
	buf   []uint32 // links being expanded, in a parallel build
	fresh []uint32 // the unseen ones among them
}

func (ix *Index) visited() *visited {
	if v, ok := ix.visitedPool.Get().(*visited); ok {
		return v
	}
	return &visited{}
}

func (v *visited) reset(n int) {
	if len(v.marks) < n {
		v.marks = append(v.marks, make([]uint32, n-len(v.marks)+n/4)...)
		adviseHugePages(v.marks)
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

func (v *visited) seen(i uint32) bool { return v.marks[i] == v.gen }
func (v *visited) mark(i uint32)      { v.marks[i] = v.gen }

// maxHeap pops the most similar candidate first.
type maxHeap []candidate

func (h *maxHeap) push(c candidate) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].sim >= s[i].sim {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *maxHeap) pop() candidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, best := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].sim > s[best].sim {
			best = l
		}
		if r < len(s) && s[r].sim > s[best].sim {
			best = r
		}
		if best == i {
			break
		}
		s[i], s[best] = s[best], s[i]
		i = best
	}
	*h = s
	return top
}

// minHeap keeps the least similar candidate on top, to be replaced.
type minHeap []candidate

func (h *minHeap) push(c candidate) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].sim <= s[i].sim {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() candidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.fix()
	return top
}

// fix restores the heap after its top changed.
func (h *minHeap) fix() {
	s := *h
	for i := 0; ; {
		l, r, best := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].sim < s[best].sim {
			best = l
		}
		if r < len(s) && s[r].sim < s[best].sim {
			best = r
		}
		if best == i {
			break
		}
		s[i], s[best] = s[best], s[i]
		i = best
	}
}

// SearchKeys compares q with the vectors of keys only (keys not in the
// index are skipped): exact search over a subset, such as the chunks a
// metadata filter allows. It costs one comparison per key, so it is the
// fast choice when the subset is small.
func (ix *Index) SearchKeys(q []float32, keys []int64, k int) ([]Result, error) {
	if len(q) != ix.dim {
		return nil, &DimensionError{Got: len(q), Want: ix.dim}
	}
	q = append([]float32(nil), q...)
	Normalize(q)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if k <= 0 {
		return nil, nil
	}
	qq := ix.newQuery(q)
	var top minHeap
	for _, key := range keys {
		node, ok := ix.byKey[key]
		if !ok {
			continue
		}
		s := ix.sim(qq, node)
		if len(top) < k {
			top.push(candidate{node, s})
		} else if s > top[0].sim {
			top[0] = candidate{node, s}
			top.fix()
		}
	}
	out := make([]candidate, len(top))
	for i := len(top) - 1; i >= 0; i-- {
		out[i] = top.pop()
	}
	return ix.results(out), nil
}
