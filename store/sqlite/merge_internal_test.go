package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

// TestMergePlanGoesStale plans a merge from a snapshot, changes the
// segments (a delete, or another merge) before it is applied, and checks
// that the plan is refused and that Merge then plans again and merges.
func TestMergePlanGoesStale(t *testing.T) {
	for _, change := range []string{"delete", "merge"} {
		t.Run(change, func(t *testing.T) {
			ctx := context.Background()
			s, err := OpenStore(ctx, filepath.Join(t.TempDir(), "c"), store.Options{Create: true, Splits: []store.Split{{Name: "chunks", Size: 100, Search: true}}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for d := 0; d < 3; d++ {
				src := fmt.Sprintf("/d%d", d)
				w, err := s.Begin(ctx, document.Document{ID: document.IDFor(src), Source: src, Type: "text"})
				if err != nil {
					t.Fatal(err)
				}
				text := fmt.Sprintf("solar lanterns %d and copper tariff %d", d, d*d)
				if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, []store.Chunk{{Split: "chunks", End: len(text), Parent: -1}}); err != nil {
					t.Fatal(err)
				}
				if err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			plan, err := s.planMerge(ctx, "chunks", mergeScope{all: true})
			if err != nil || plan == nil || len(plan.segs) != 3 {
				t.Fatalf("plan: %+v, %v", plan, err)
			}
			switch change {
			case "delete":
				if _, err := s.Delete(ctx, document.IDFor("/d1")); err != nil {
					t.Fatal(err)
				}
			case "merge":
				if err := s.Merge(ctx, "chunks", true); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := s.writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := plan.current(ctx, tx)
			tx.Rollback()
			if err != nil || ok {
				t.Fatalf("a plan made before the segments changed is current: %v, %v", ok, err)
			}
			if err := s.Merge(ctx, "chunks", true); err != nil {
				t.Fatal(err)
			}
			var segments, deleted int
			if err := s.reader.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(deleted), 0) FROM bm25_segments WHERE split = 'chunks'`).Scan(&segments, &deleted); err != nil {
				t.Fatal(err)
			}
			if segments != 1 || deleted != 0 {
				t.Fatalf("after a full merge: %d segments, %d deleted chunks", segments, deleted)
			}
			want := 3
			if change == "delete" {
				want = 2
			}
			ps, err := s.SearchText(ctx, "chunks", "lanterns", 10)
			if err != nil || len(ps) != want {
				t.Fatalf("search after the merge: %d hits, %v", len(ps), err)
			}
		})
	}
}
