package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/distill-rag/distill/document"
)

// Exporter reads back whole committed documents, with their pages and their
// chunks (vectors included), so that a collection can be copied to another
// store without loading or embedding anything again.
type Exporter interface {
	// ExportDocument returns a document as it was written: its record, its
	// pages in order and each page's chunks as AddPage received them.
	ExportDocument(ctx context.Context, docID string) (ExportedDocument, error)
}

// ExportedDocument is one document read back by an Exporter.
type ExportedDocument struct {
	Document document.Document
	Pages    []ExportedPage
}

// ExportedPage is one page with its chunks, Parent indexing the same slice.
type ExportedPage struct {
	Page   document.Page
	Chunks []Chunk
}

// CopyProgress reports a copy after each document.
type CopyProgress struct {
	Done, Total int
	Document    DocumentInfo
	Chunks      int // chunks copied so far
}

// CopyReport is what a copy did.
type CopyReport struct {
	Documents int       `json:"documents"`
	Pages     int       `json:"pages"`
	Chunks    int       `json:"chunks"`
	Vectors   int       `json:"vectors"`
	Embedding Embedding `json:"embedding"`
}

// IncompatibleError reports two collections that cannot be copied into one
// another as they are.
type IncompatibleError struct {
	From, To string
	Reason   string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("cannot copy %s to %s: %s", e.From, e.To, e.Reason)
}

// UserError marks the error as the user's to fix.
func (e *IncompatibleError) UserError() {}

// Copy copies every document of src into dst with its pages, chunks and
// vectors, through dst's ordinary write path: each document becomes
// visible in dst whole, replacing a document with the same source, or not
// at all. src must be an Exporter. fromName and toName name the stores in
// errors. Both must have the same splits, and dst no vectors from another
// model.
func Copy(ctx context.Context, dst, src Store, fromName, toName string, progress func(CopyProgress)) (CopyReport, error) {
	var rep CopyReport
	incompatible := func(format string, args ...any) error {
		return &IncompatibleError{From: fromName, To: toName, Reason: fmt.Sprintf(format, args...)}
	}
	exp, ok := src.(Exporter)
	if !ok {
		return rep, incompatible("the source store cannot export its documents")
	}
	srcSplits, err := src.Splits(ctx)
	if err != nil {
		return rep, err
	}
	dstSplits, err := dst.Splits(ctx)
	if err != nil {
		return rep, err
	}
	if !sameSplits(srcSplits, dstSplits) {
		return rep, incompatible("the splits differ (%s versus %s); copy into a new collection", describeSplits(srcSplits), describeSplits(dstSplits))
	}
	if rep.Embedding, err = copyEmbedding(ctx, dst, src, incompatible); err != nil {
		return rep, err
	}
	docs, err := src.Documents(ctx)
	if err != nil {
		return rep, err
	}
	for i, info := range docs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		ed, err := exp.ExportDocument(ctx, info.ID)
		if err != nil {
			return rep, fmt.Errorf("read %s from %s: %w", info.Source, fromName, err)
		}
		if err := writeExported(ctx, dst, ed, rep.Embedding.Model); err != nil {
			return rep, fmt.Errorf("write %s to %s: %w", info.Source, toName, err)
		}
		rep.Documents++
		for _, p := range ed.Pages {
			rep.Pages++
			rep.Chunks += len(p.Chunks)
			for _, c := range p.Chunks {
				if c.Vector != nil {
					rep.Vectors++
				}
			}
		}
		if progress != nil {
			progress(CopyProgress{Done: i + 1, Total: len(docs), Document: info, Chunks: rep.Chunks})
		}
	}
	return rep, nil
}

func writeExported(ctx context.Context, dst Store, ed ExportedDocument, model string) (err error) {
	var w DocumentWriter
	if model != "" {
		w, err = dst.(VectorWriter).BeginVectors(ctx, ed.Document, model)
	} else {
		w, err = dst.Begin(ctx, ed.Document)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.Rollback()
		}
	}()
	for _, p := range ed.Pages {
		if err = w.AddPage(ctx, p.Page, p.Chunks); err != nil {
			return err
		}
	}
	return w.Commit(ctx)
}

// copyEmbedding checks that dst can take the source's vectors: it keeps
// vectors, and has none or the same model's. The model is then recorded
// by the first document written with it.
func copyEmbedding(ctx context.Context, dst, src Store, incompatible func(string, ...any) error) (Embedding, error) {
	vs, ok := src.(VectorStore)
	if !ok {
		return Embedding{}, nil
	}
	emb, err := vs.Embedding(ctx)
	if err != nil || emb == (Embedding{}) {
		return emb, err
	}
	if emb.Model == "" {
		return emb, incompatible("the source's %d-dimension vectors name no embedding model", emb.Dim)
	}
	vd, ok := dst.(VectorWriter)
	if !ok {
		return emb, incompatible("the source has %d-dimension vectors from %q and the destination cannot store vectors", emb.Dim, emb.Model)
	}
	have, err := vd.Embedding(ctx)
	if err != nil {
		return emb, err
	}
	if have.Model != "" && have.Model != emb.Model {
		return emb, incompatible("the source's vectors come from %q (%d dimensions), the destination's from %q (%d dimensions)", emb.Model, emb.Dim, have.Model, have.Dim)
	}
	return emb, nil
}

func sameSplits(a, b []Split) bool {
	key := func(s []Split) []Split {
		out := slices.Clone(s)
		slices.SortFunc(out, func(x, y Split) int {
			switch {
			case x.Name < y.Name:
				return -1
			case x.Name > y.Name:
				return 1
			}
			return 0
		})
		return out
	}
	return slices.Equal(key(a), key(b))
}

func describeSplits(splits []Split) string {
	s := ""
	for i, sp := range splits {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d/%d", sp.Name, sp.Size, sp.Overlap)
		if sp.Parent != "" {
			s += " of " + sp.Parent
		}
	}
	if s == "" {
		return "none"
	}
	return s
}
