package distill

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/distill-rag/distill/store"
)

// MigrateDestinationError refuses a migration destination: the collection
// itself (under any spelling or symlink), or a store that already holds
// documents the collection does not have.
type MigrateDestinationError struct {
	To     string
	Reason string
}

func (e *MigrateDestinationError) Error() string {
	return fmt.Sprintf("cannot migrate to %s: %s", e.To, e.Reason)
}

// UserError marks a mistake in the user's input.
func (e *MigrateDestinationError) UserError() {}

// Migrate copies the collection, with its vectors (nothing is loaded or
// embedded again), into the store at uri, creating it with the
// collection's splits when it does not exist; see store.Copy.
//
// The destination must be another collection than this one, and either
// new, empty or holding only documents this collection also has (an
// interrupted migration, which simply runs again: those documents are
// replaced). Anything else is refused before a byte is written, so that a
// typo cannot merge two collections or overwrite the source.
func (e *Engine) Migrate(ctx context.Context, uri string, progress func(store.CopyProgress)) (store.CopyReport, error) {
	if sameCollection(e.db, uri) {
		return store.CopyReport{}, &MigrateDestinationError{To: uri, Reason: "it is the collection being copied"}
	}
	dst, err := store.Open(ctx, uri, store.Options{Create: true, Splits: e.splits})
	if err != nil {
		return store.CopyReport{}, err
	}
	defer dst.Close()
	to := uri
	if n, ok := dst.(fmt.Stringer); ok {
		to = n.String()
	}
	if to == e.DB() && !isPathStore(uri) {
		return store.CopyReport{}, &MigrateDestinationError{To: uri, Reason: "it is the collection being copied"}
	}
	if err := e.checkMigrateDestination(ctx, dst, uri); err != nil {
		return store.CopyReport{}, err
	}
	return store.Copy(ctx, dst, e.store, e.DB(), to, progress)
}

// checkMigrateDestination refuses a destination holding a document whose
// source the collection does not have.
func (e *Engine) checkMigrateDestination(ctx context.Context, dst store.Store, uri string) error {
	there, err := dst.Documents(ctx)
	if err != nil {
		return fmt.Errorf("migrate: listing %s: %w", uri, err)
	}
	if len(there) == 0 {
		return nil
	}
	here, err := e.store.Documents(ctx)
	if err != nil {
		return fmt.Errorf("migrate: listing the collection: %w", err)
	}
	have := make(map[string]bool, len(here))
	for _, d := range here {
		have[d.Source] = true
	}
	for _, d := range there {
		if !have[d.Source] {
			return &MigrateDestinationError{To: uri, Reason: fmt.Sprintf("it is not empty: it holds %d documents, among them %s, which this collection does not have; choose a new or empty destination", len(there), d.Source)}
		}
	}
	return nil
}

func isPathStore(uri string) bool {
	scheme, _ := store.ParseURI(uri)
	return scheme == "sqlite"
}

// sameCollection says whether two embedded-store URIs name one directory,
// however spelled: "./x", "x/", an absolute path or a symlink to it.
func sameCollection(a, b string) bool {
	if !isPathStore(a) || !isPathStore(b) {
		return false
	}
	_, pa := store.ParseURI(a)
	_, pb := store.ParseURI(b)
	sa, errA := os.Stat(pa)
	sb, errB := os.Stat(pb)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return canonical(pa) == canonical(pb)
}

func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}
