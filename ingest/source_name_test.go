package ingest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

func TestSourceNameNamesUploads(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), store.Options{Create: true, Splits: cfg.Splits})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := ingest.Ingester{Store: st, Splits: cfg.Splits}
	tmp := t.TempDir()
	good := testsupport.Write(t, tmp, "1/notes.txt", []byte("The lighthouse keeper logged 41 ships in May."))
	empty := testsupport.Write(t, tmp, "2/empty.txt", nil)
	names := map[string]string{good: "notes.txt", empty: "empty.txt"}
	opts := ingest.Options{SourceName: func(path string) string { return names[path] }}
	rep, err := in.Ingest(ctx, []string{good, empty}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file   ingest.FileResult
		source string
		status ingest.Status
	}{
		{rep.Files[0], "notes.txt", ingest.Added},
		{rep.Files[1], "empty.txt", ingest.Failed},
	}
	for _, tt := range tests {
		if tt.file.Source != tt.source || tt.file.Status != tt.status || tt.file.DocID != document.IDFor(tt.source) {
			t.Errorf("file = %+v, want source %s, status %s", tt.file, tt.source, tt.status)
		}
	}
	if err := rep.Files[1].Err(); err == nil || err.Error() != "empty.txt: is empty" {
		t.Errorf("failure names %v, want the upload's name", err)
	}
	if _, err := st.Document(ctx, "notes.txt"); err != nil {
		t.Errorf("stored under the upload name: %v", err)
	}
	if _, err := st.Document(ctx, good); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("stored under the temporary path: %v", err)
	}
	// The same content under the same name is a no-op, wherever it lies.
	again := testsupport.Write(t, tmp, "3/notes.txt", []byte("The lighthouse keeper logged 41 ships in May."))
	names[again] = "notes.txt"
	rep, err = in.Ingest(ctx, []string{again}, opts)
	if err != nil || rep.Files[0].Status != ingest.Unchanged {
		t.Errorf("re-upload: %v %+v", err, rep)
	}
}
