package distill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
)

// TextDocumentError is a text document that cannot be ingested as given:
// a bad name or an empty text.
type TextDocumentError struct {
	Name   string
	Reason string
}

func (e *TextDocumentError) Error() string {
	return fmt.Sprintf("document %q: %s", e.Name, e.Reason)
}

// UserError marks a mistake in the user's input.
func (e *TextDocumentError) UserError() {}

// IngestText adds a document given as text. name is its source, a file
// name whose extension says how the text is read (.md as Markdown, .html
// as HTML, .txt or none as plain text); a document of the same name is
// replaced, as re-ingesting a file replaces it. It returns the outcome for
// the document; a document that fails to load is an error.
func (e *Engine) IngestText(ctx context.Context, name, text string, opts ingest.Options) (ingest.FileResult, error) {
	if err := checkTextName(name); err != nil {
		return ingest.FileResult{}, err
	}
	if strings.TrimSpace(text) == "" {
		return ingest.FileResult{}, &TextDocumentError{Name: name, Reason: "the text is empty"}
	}
	head := text
	if len(head) > 512 {
		head = head[:512]
	}
	if _, err := loader.Detect(name, []byte(head)); err != nil {
		return ingest.FileResult{}, err
	}
	// The loaders read files, so the text is staged in one named as the
	// document, which ingestion then names by name rather than by path.
	dir, err := os.MkdirTemp("", "distill-text-")
	if err != nil {
		return ingest.FileResult{}, fmt.Errorf("staging %s: %w", name, err)
	}
	defer os.RemoveAll(dir)
	staged := filepath.Join(dir, name)
	if err := os.WriteFile(staged, []byte(text), 0o600); err != nil {
		return ingest.FileResult{}, fmt.Errorf("staging %s: %w", name, err)
	}
	opts.SourceName = func(string) string { return name }
	rep, err := e.Ingest(ctx, []string{staged}, opts)
	if err != nil {
		return ingest.FileResult{}, err
	}
	if len(rep.Files) != 1 {
		return ingest.FileResult{}, fmt.Errorf("ingesting %s: %d results for one document", name, len(rep.Files))
	}
	res := rep.Files[0]
	if res.Status == ingest.Failed {
		if err := res.Err(); err != nil {
			return res, err
		}
		return res, errors.New(res.Error)
	}
	return res, nil
}

// checkTextName accepts a file name (never a path) for a text document.
func checkTextName(name string) error {
	bad := func(reason string) error { return &TextDocumentError{Name: name, Reason: reason} }
	switch {
	case strings.TrimSpace(name) == "":
		return &TextDocumentError{Reason: "a document needs a name, such as notes.md"}
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return bad("give a file name such as notes.md, not a path")
	case len(name) > 255:
		return bad("the name is longer than 255 bytes")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return bad("the name has control characters")
	}
	return nil
}
