package sqlite

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

func segmentCount(t *testing.T, s *Store, split string) int {
	t.Helper()
	var n int
	if err := s.reader.QueryRow(`SELECT count(*) FROM bm25_segments WHERE split = ?`, split).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A bulk run writes a segment per document and merges none until it ends;
// then the run's segments are one, and every query ranks as in a store that
// merged after each write.
func TestBulkRunMergesOnceAtTheEnd(t *testing.T) {
	ctx := context.Background()
	splits := []store.Split{{Name: "chunks", Size: 200, Search: true}}
	open := func() *Store {
		s, err := OpenStore(ctx, filepath.Join(t.TempDir(), "c"), store.Options{Create: true, Splits: splits})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	words := strings.Fields("cash flow cloud revenue satellite broadband logistics package customer board buyback bond treasury order")
	write := func(s *Store, i int) {
		var b strings.Builder
		for j := 0; j < 20; j++ {
			b.WriteString(words[(i*5+j*j)%len(words)])
			b.WriteByte(' ')
		}
		text := fmt.Sprintf("%s unique%d", b.String(), i)
		src := fmt.Sprintf("/doc%03d", i)
		w, err := s.Begin(ctx, document.Document{ID: document.IDFor(src), Source: src, Type: "text"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const docs = 60
	each, bulk := open(), open()
	for i := 0; i < 10; i++ { // an older part of the collection, merged as usual
		write(each, i)
		write(bulk, i)
	}
	before := segmentCount(t, bulk, "chunks")
	end, err := bulk.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 10; i < docs; i++ {
		write(each, i)
		write(bulk, i)
	}
	if got, want := segmentCount(t, bulk, "chunks"), before+docs-10; got != want {
		t.Errorf("within the bulk run: %d segments, want %d (one a document, none merged)", got, want)
	}
	if err := end(ctx); err != nil {
		t.Fatal(err)
	}
	if err := end(ctx); err != nil { // a second call does nothing
		t.Fatal(err)
	}
	if got := segmentCount(t, bulk, "chunks"); got > before+1 {
		t.Errorf("after the bulk run: %d segments, want at most %d", got, before+1)
	}
	for _, q := range []string{"cash flow", "satellite order", "treasury bond", "unique42", "unique3"} {
		a, err := each.SearchText(ctx, "chunks", q, 100)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bulk.SearchText(ctx, "chunks", q, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("%q: %d hits merging after each write, %d after a bulk run", q, len(a), len(b))
		}
		for i := range a {
			if a[i].Source != b[i].Source || math.Abs(a[i].Score-b[i].Score) > 1e-9 {
				t.Errorf("%q rank %d: %s %.6f after each write, %s %.6f after a bulk run", q, i+1, a[i].Source, a[i].Score, b[i].Source, b[i].Score)
			}
		}
	}
	// Writes after the run merge by the tiered policy again.
	for i := docs; i < docs+2*mergeFactor; i++ {
		write(bulk, i)
	}
	if got := segmentCount(t, bulk, "chunks"); got > before+1+mergeFactor {
		t.Errorf("after the run, writes did not merge: %d segments", got)
	}
}

// Within a long bulk run the run's newest segments are merged once
// bulkSegments of them pile up, bounding what a query meanwhile reads.
func TestBulkStateBoundsSegments(t *testing.T) {
	var b bulkState
	if _, merge := b.wrote("chunks", 1); !merge {
		t.Fatal("outside a bulk run every write merges")
	}
	b.open, b.since, b.dirty, b.count, b.from = 1, 1, map[string]bool{}, map[string]int{}, map[string]int64{}
	if _, merge := b.wrote("chunks", 0); merge {
		t.Error("a deletion within a run merged")
	}
	for i := 1; i < bulkSegments; i++ {
		if _, merge := b.wrote("chunks", int64(100+i)); merge {
			t.Fatalf("write %d of the run merged", i)
		}
	}
	scope, merge := b.wrote("chunks", 5000)
	if !merge || scope.since != 101 {
		t.Fatalf("write %d: merge %v since %d, want the run's segments from chunk 101", bulkSegments, merge, scope.since)
	}
	if _, merge := b.wrote("chunks", 6000); merge {
		t.Error("the write after a merge merged again")
	}
	if b.from["chunks"] != 6000 || !b.dirty["chunks"] {
		t.Errorf("state after the merge: from %d, dirty %v", b.from["chunks"], b.dirty)
	}
}
