package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

// bulkRecorder is a store that records its bulk runs and the commits made
// within them.
type bulkRecorder struct {
	store.Store
	mu                   sync.Mutex
	begun, ended, inside int
	outside              int
	open                 bool
}

func (b *bulkRecorder) BeginBulk(context.Context) (func(context.Context) error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.begun++
	b.open = true
	return func(context.Context) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.ended++
		b.open = false
		return nil
	}, nil
}

func (b *bulkRecorder) Begin(ctx context.Context, doc document.Document) (store.DocumentWriter, error) {
	w, err := b.Store.Begin(ctx, doc)
	if err != nil {
		return nil, err
	}
	return &countingWriter{DocumentWriter: w, b: b}, nil
}

type countingWriter struct {
	store.DocumentWriter
	b *bulkRecorder
}

func (w *countingWriter) Commit(ctx context.Context) error {
	if err := w.DocumentWriter.Commit(ctx); err != nil {
		return err
	}
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if w.b.open {
		w.b.inside++
	} else {
		w.b.outside++
	}
	return nil
}

// A run of many files or records is one bulk run of the store; a single
// file is not.
func TestManyDocumentsAreOneBulkRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.txt", i)), []byte(text(i, 0)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name                         string
		run                          func(in *ingest.Ingester) (*ingest.Report, error)
		begun, inside, outside, docs int
	}{
		{"a directory", func(in *ingest.Ingester) (*ingest.Report, error) {
			return in.Ingest(ctx, []string{dir}, ingest.Options{})
		}, 1, 5, 0, 5},
		{"one file", func(in *ingest.Ingester) (*ingest.Report, error) {
			return in.Ingest(ctx, []string{filepath.Join(dir, "f0.txt")}, ingest.Options{})
		}, 0, 0, 1, 1},
		{"records", func(in *ingest.Ingester) (*ingest.Report, error) {
			return in.Records(ctx, []ingest.Record{{Source: "r1", Pages: []string{text(1, 1)}}, {Source: "r2", Pages: []string{text(2, 1)}}}, ingest.Options{})
		}, 1, 2, 0, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &bulkRecorder{Store: openStore(t, filepath.Join(t.TempDir(), "c"))}
			rep, err := c.run(&ingest.Ingester{Store: rec, Splits: splits})
			if err != nil {
				t.Fatal(err)
			}
			if n := rep.Count(ingest.Added); n != c.docs {
				t.Fatalf("%d added, want %d", n, c.docs)
			}
			if rec.begun != c.begun || rec.ended != c.begun || rec.inside != c.inside || rec.outside != c.outside {
				t.Errorf("bulk runs begun %d ended %d, commits inside %d outside %d; want %d runs, %d inside, %d outside",
					rec.begun, rec.ended, rec.inside, rec.outside, c.begun, c.inside, c.outside)
			}
		})
	}
}
