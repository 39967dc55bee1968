package distill

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/distill-rag/distill/store"
)

// PageText is one page of a document, as a context's start and end offsets
// count in it.
type PageText struct {
	DocID  string `json:"doc_id"`
	Source string `json:"source"`
	Page   int    `json:"page"`
	Pages  int    `json:"pages"` // how many pages the document has stored
	Text   string `json:"text"`
}

// NoDocumentError names a document id the collection does not hold.
type NoDocumentError struct{ DocID string }

func (e *NoDocumentError) Error() string {
	return fmt.Sprintf("no document %q in the collection (list them with distill ls)", e.DocID)
}

// UserError marks a mistake in the user's input.
func (e *NoDocumentError) UserError() {}

// NoPageError names a page a document does not have. Pages keep their
// numbers in the original file, and blank or skipped pages are not stored.
type NoPageError struct {
	DocID string
	Page  int
}

func (e *NoPageError) Error() string {
	if e.Page < 1 {
		return fmt.Sprintf("page %d of document %q: pages are numbered from 1", e.Page, e.DocID)
	}
	return fmt.Sprintf("document %q has no page %d (blank pages and pages left out by --pages are not stored)", e.DocID, e.Page)
}

// UserError marks a mistake in the user's input.
func (e *NoPageError) UserError() {}

// Document returns the document with the given id.
func (e *Engine) Document(ctx context.Context, docID string) (store.DocumentInfo, error) {
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return store.DocumentInfo{}, err
	}
	for _, d := range docs {
		if d.ID == docID {
			return d, nil
		}
	}
	return store.DocumentInfo{}, &NoDocumentError{DocID: docID}
}

// Page returns the text of page n (from 1) of a document.
func (e *Engine) Page(ctx context.Context, docID string, n int) (PageText, error) {
	d, err := e.Document(ctx, docID)
	if err != nil {
		return PageText{}, err
	}
	if n < 1 {
		return PageText{}, &NoPageError{DocID: docID, Page: n}
	}
	text, err := e.store.Page(ctx, d.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return PageText{}, &NoPageError{DocID: docID, Page: n}
	}
	if err != nil {
		return PageText{}, err
	}
	return PageText{DocID: d.ID, Source: d.Source, Page: n, Pages: d.Pages, Text: text}, nil
}

var citeRef = regexp.MustCompile(`\[(\d+)\]`)

// Cited returns the ranks of the contexts the answer cites as [n], in
// increasing order, each once; numbers that name no context are left out.
func (r *Result) Cited() []int {
	seen := map[int]bool{}
	var ranks []int
	for _, m := range citeRef.FindAllStringSubmatch(r.Answer, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > len(r.Contexts) || seen[n] {
			continue
		}
		seen[n] = true
		ranks = append(ranks, n)
	}
	sort.Ints(ranks)
	return ranks
}
