package sqlite

import (
	"slices"
	"strings"
	"sync"

	"github.com/distill-rag/distill/textproc"
)

// A vocabulary maps the words a writer meets to term ids and keeps the
// terms' byte order. It outlives a writer: a run of documents then looks
// each word up in a map that has stopped growing, stems each word once
// (without the analyzer's shared cache, which costs more per lookup), and
// sorts only the terms that are new when it encodes blocks.
//
// A writer holds one vocabulary at a time. One grown past vocabularyLimit
// words is dropped rather than kept, and at most vocabularyKeep are kept,
// bounding memory. (Not a sync.Pool: it empties at every garbage
// collection, which ingest triggers often.)
type vocabulary struct {
	words map[string]int32 // word -> term id, -1 for a stop word
	dict  termDict

	// A writer's buffers, kept with the vocabulary so that the next
	// writer does not grow them again: a page's tokens, counts by term id
	// (zero between chunks), segments' postings, and blocks' scratch.
	tokens  []idToken
	counts  []uint32
	counted []int32
	flats   [][]flatPosting
	scratch postingScratch
}

// keptPostings bounds the postings buffers a kept vocabulary holds.
const keptPostings = 1 << 19

func (v *vocabulary) takeFlat() []flatPosting {
	if n := len(v.flats); n > 0 {
		f := v.flats[n-1]
		v.flats = v.flats[:n-1]
		return f[:0]
	}
	return nil
}

func (v *vocabulary) putFlat(f []flatPosting) {
	if cap(f) > 0 && cap(f) <= keptPostings && len(v.flats) < 2 {
		v.flats = append(v.flats, f[:0])
	}
}

var vocabularies struct {
	sync.Mutex
	free []*vocabulary
}

const (
	vocabularyLimit = 1 << 17
	vocabularyKeep  = 4
)

func getVocabulary() *vocabulary {
	vocabularies.Lock()
	defer vocabularies.Unlock()
	if n := len(vocabularies.free); n > 0 {
		v := vocabularies.free[n-1]
		vocabularies.free = vocabularies.free[:n-1]
		return v
	}
	return &vocabulary{words: map[string]int32{}, dict: termDict{ids: map[string]int32{}}}
}

func putVocabulary(v *vocabulary) {
	vocabularies.Lock()
	defer vocabularies.Unlock()
	if cap(v.scratch.grouped) > keptPostings {
		v.scratch.grouped = nil
	}
	if len(v.words) <= vocabularyLimit && len(vocabularies.free) < vocabularyKeep {
		vocabularies.free = append(vocabularies.free, v)
	}
}

// id returns the term id of a lower-cased word, -1 for a stop word.
func (v *vocabulary) id(word []byte) int32 {
	if id, ok := v.words[string(word)]; ok {
		return id
	}
	s := string(word)
	id := int32(-1)
	if term := textproc.English.Stem(s); term != "" {
		id = v.dict.id(term)
	}
	v.words[s] = id
	return id
}

// sorted returns the dictionary's term ids in byte order of their terms,
// and each id's position in that order. Terms added since the last call
// are sorted and merged in.
func (d *termDict) sorted() (order, rank []int32) {
	n := len(d.names)
	if d.sortedN == n {
		return d.order, d.rank
	}
	fresh := make([]int32, 0, n-d.sortedN)
	for id := d.sortedN; id < n; id++ {
		fresh = append(fresh, int32(id))
	}
	names := d.names
	byName := func(a, b int32) int { return strings.Compare(names[a], names[b]) }
	slices.SortFunc(fresh, byName)
	merged := make([]int32, 0, n)
	i, j := 0, 0
	for i < len(d.order) && j < len(fresh) {
		if byName(d.order[i], fresh[j]) < 0 {
			merged = append(merged, d.order[i])
			i++
		} else {
			merged = append(merged, fresh[j])
			j++
		}
	}
	merged = append(append(merged, d.order[i:]...), fresh[j:]...)
	d.order = merged
	d.rank = slices.Grow(d.rank[:0], n)[:n]
	for pos, id := range merged {
		d.rank[id] = int32(pos)
	}
	d.sortedN = n
	return d.order, d.rank
}
