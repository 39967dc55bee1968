package embedcache

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/distill-rag/distill/model"
)

// TestCacheEvictsLeastRecentlyUsed: past the cap the vectors used longest
// ago go until the pages in use are within the cap; one read since stays.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	var tick int64 = 1000
	clock = func() int64 { tick++; return tick }
	defer func() { clock = func() int64 { return time.Now().Unix() } }()
	const capBytes = 1 << 20 // about 190 vectors: a 1 KiB vector takes an overflow page
	c, err := OpenMax(filepath.Join(t.TempDir(), "e.db"), capBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vec := make([]float32, 256) // 1 KiB a vector
	put := func(from, to int) {
		var texts []string
		var vecs [][]float32
		for i := from; i < to; i++ {
			texts = append(texts, fmt.Sprint("text ", i))
			vecs = append(vecs, vec)
		}
		if err := c.Put(ctx, "m", model.ForDocuments, texts, vecs); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 150; n += 10 { // each batch a tick later
		put(n, n+10)
	}
	if u, _ := c.Usage(ctx); u.Entries != 150 {
		t.Fatalf("%d vectors under the cap, want 150", u.Entries)
	}
	if got, _ := c.Get(ctx, "m", model.ForDocuments, []string{"text 0"}); got[0] == nil { // text 0 is used again
		t.Fatal("text 0 not cached")
	}
	for n := 150; n < 250; n += 10 {
		put(n, n+10)
	}
	u, err := c.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Bytes > capBytes || u.Entries >= 250 || u.Entries == 0 {
		t.Fatalf("after 250 vectors under a 1 MiB cap: %d vectors, %d bytes in use", u.Entries, u.Bytes)
	}
	got, err := c.Get(ctx, "m", model.ForDocuments, []string{"text 0", "text 1", "text 249"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] == nil || got[1] != nil || got[2] == nil {
		t.Fatalf("kept text 0 (read last): %v, text 1 (used longest ago): %v, text 249 (newest): %v", got[0] != nil, got[1] != nil, got[2] != nil)
	}
	if err := c.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if u, _ := c.Usage(ctx); u.Entries != 0 {
		t.Fatalf("%d vectors after Clear", u.Entries)
	}
}
