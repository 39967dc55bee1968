package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
	"github.com/distill-rag/distill/store/storetest"
)

func TestConformance(t *testing.T) {
	var dir string
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, opts store.Options) store.Store {
			dir = filepath.Join(t.TempDir(), "c")
			s, err := sqlite.OpenStore(context.Background(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Gone: func(t *testing.T) bool {
			entries, err := os.ReadDir(dir)
			return os.IsNotExist(err) || (err == nil && len(entries) == 0)
		},
	})
}
