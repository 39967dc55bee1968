package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"strings"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/loader"
	"github.com/distill-rag/distill/store"
)

// Record is a document that is already text, such as one line of a
// benchmark corpus: it needs no loader.
type Record struct {
	Source string // unique name; the document id derives from it
	Title  string
	Pages  []string // page texts, numbered from 1
	Meta   map[string]string
}

// Hash is the hex SHA-256 of the record's title and pages, which decides
// whether a stored record is unchanged.
func (r Record) Hash() string {
	h := sha256.New()
	h.Write([]byte(r.Title))
	for _, p := range r.Pages {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Records writes text records, each in its own transaction, skipping those
// stored with the same content and metadata, so an interrupted run resumes
// where it stopped. Per-record failures are in the report.
func (in *Ingester) Records(ctx context.Context, recs []Record, opts Options) (*Report, error) {
	if err := CheckSplits(in.Splits); err != nil {
		return nil, err
	}
	if len(recs) > 1 {
		defer in.Bulk(ctx)()
	}
	rep := &Report{Files: make([]FileResult, 0, len(recs))}
	var done int
	var doneBytes, total int64
	for _, r := range recs {
		for _, p := range r.Pages {
			total += int64(len(p))
		}
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := in.record(ctx, r)
		rep.Files = append(rep.Files, res)
		done++
		doneBytes += res.Bytes
		if opts.Progress != nil {
			opts.Progress(Progress{Done: done, Total: len(recs), DoneBytes: doneBytes, TotalBytes: total, File: res})
		}
	}
	return rep, nil
}

func (in *Ingester) record(ctx context.Context, r Record) FileResult {
	res := FileResult{Source: r.Source, DocID: document.IDFor(r.Source)}
	for _, p := range r.Pages {
		res.Bytes += int64(len(p))
	}
	fail := func(err error) FileResult {
		res.Status, res.err = Failed, err
		res.Error = err.Error()
		return res
	}
	if strings.TrimSpace(strings.Join(r.Pages, "")) == "" {
		return fail(&loader.Error{Source: r.Source, Reason: "has no text"})
	}
	hash := r.Hash()
	old, err := in.Store.Document(ctx, r.Source)
	switch {
	case err == nil && old.Hash == hash && maps.Equal(old.Meta, r.Meta):
		res.Status, res.Pages, res.Chunks = Unchanged, old.Pages, old.Chunks
		return res
	case err == nil:
		res.Status = Updated
	case errors.Is(err, store.ErrNotFound):
		res.Status = Added
	default:
		return fail(err)
	}
	doc := document.Document{ID: res.DocID, Source: r.Source, Title: r.Title, Type: "text", Hash: hash, Size: res.Bytes, Meta: r.Meta}
	w, err := in.Store.Begin(ctx, doc)
	if err != nil {
		return fail(err)
	}
	for i, text := range r.Pages {
		chunks := Chunks(in.Splits, text)
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: text}, chunks); err != nil {
			w.Rollback()
			return fail(err)
		}
		res.Pages++
		res.Chunks += len(chunks)
	}
	if err := w.Commit(ctx); err != nil {
		w.Rollback()
		return fail(err)
	}
	return res
}
