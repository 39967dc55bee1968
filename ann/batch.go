package ann

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// AddBatch inserts many vectors with several goroutines (workers; 0 means
// GOMAXPROCS), which is how an index is rebuilt from stored vectors. The
// index is locked against searches meanwhile. Keys must be new.
func (ix *Index) AddBatch(keys []int64, vecs [][]float32, workers int) error {
	if len(keys) != len(vecs) {
		return fmt.Errorf("%d keys for %d vectors", len(keys), len(vecs))
	}
	seen := make(map[int64]bool, len(keys))
	for i, v := range vecs {
		if len(v) != ix.dim {
			return &DimensionError{Got: len(v), Want: ix.dim}
		}
		if seen[keys[i]] {
			return fmt.Errorf("add %d: %w", keys[i], ErrDuplicateKey)
		}
		seen[keys[i]] = true
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, k := range keys {
		if _, dup := ix.byKey[k]; dup {
			return fmt.Errorf("add %d: %w", k, ErrDuplicateKey)
		}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	first := uint32(len(ix.keys))
	// All the data goes in first, so the arrays never move while the
	// workers link nodes; levels are drawn in order, so they depend on the
	// seed only.
	for i, v := range vecs {
		ix.appendNode(keys[i], v, ix.randomLevel())
	}
	end := uint32(len(ix.keys))
	if workers == 1 || end-first < 1000 {
		for n := first; n < end; n++ {
			ix.insertNode(n)
		}
		return nil
	}
	ix.stripes = make([]sync.Mutex, 4096)
	defer func() { ix.stripes = nil }()
	next := atomic.Uint32{}
	next.Store(first)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= end {
					return
				}
				ix.insertNode(n)
			}
		}()
	}
	wg.Wait()
	return nil
}
