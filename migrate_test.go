package distill_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
)

func TestMigrateRefusesItselfAndForeignDestinations(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	root := t.TempDir()
	db := filepath.Join(root, "c")
	eng := openEngine(t, db, "")
	defer eng.Close()
	if _, err := eng.Ingest(ctx, []string{writeLetters(t)}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(db, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "other")
	oe := openEngine(t, other, "")
	testsupport.Write(t, root, "foreign.txt", []byte("A document only the other collection has."))
	if _, err := oe.Ingest(ctx, []string{filepath.Join(root, "foreign.txt")}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	oe.Close()

	t.Chdir(root)
	for _, to := range []string{db, "./c", "c/", "sqlite:" + db, filepath.Join(root, "link"), "other"} {
		t.Run(to, func(t *testing.T) {
			_, err := eng.Migrate(ctx, to, nil)
			var de *distill.MigrateDestinationError
			if !errors.As(err, &de) {
				t.Fatalf("Migrate(%q) = %v, want a MigrateDestinationError", to, err)
			}
		})
	}
	// The source is intact after the refusals.
	if docs, err := eng.Store().Documents(ctx); err != nil || len(docs) != len(letters) {
		t.Fatalf("source after refusals: %d documents, %v", len(docs), err)
	}

	// A new destination, and the same one again (an interrupted run resumed), succeed.
	for range 2 {
		rep, err := eng.Migrate(ctx, filepath.Join(root, "copy"), nil)
		if err != nil || rep.Documents != len(letters) {
			t.Fatalf("migrate to a new collection: %+v, %v", rep, err)
		}
	}
}
