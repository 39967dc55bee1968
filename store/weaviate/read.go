package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
)

var docProps = []string{propKind, propDocID, propSource, propGen, propTitle, propType, propHash, propSize, propMeta, propPages, propChunks, propIngested, propLayout}

// docRecord is a document record as stored.
type docRecord struct {
	info   store.DocumentInfo
	gen    string
	layout layout
}

func readDocRecord(props map[string]any) (docRecord, error) {
	r := docRecord{
		info: store.DocumentInfo{
			ID:       str(props[propDocID]),
			Source:   str(props[propSource]),
			Title:    str(props[propTitle]),
			Type:     str(props[propType]),
			Hash:     str(props[propHash]),
			Size:     int64(num(props[propSize])),
			Pages:    int(num(props[propPages])),
			Chunks:   int(num(props[propChunks])),
			Meta:     store.DecodeMeta(str(props[propMeta])),
			Ingested: time.Unix(int64(num(props[propIngested])), 0).UTC(),
		},
		gen: str(props[propGen]),
	}
	if l := str(props[propLayout]); l != "" {
		if err := json.Unmarshal([]byte(l), &r.layout); err != nil {
			return r, fmt.Errorf("document %s has a corrupt layout record: %w", r.info.ID, err)
		}
	}
	return r, nil
}

// Document returns the record for source.
func (s *Store) Document(ctx context.Context, source string) (store.DocumentInfo, error) {
	res, err := s.search(ctx, "read document "+source, func(q *graphql.Search) *graphql.Search {
		return q.WithCollection(s.names.doc).WithLimit(1).WithProperties(docProps...).
			WithWhere(and(whereText(propKind, filters.Equal, kindDocument), whereText(propSource, filters.Equal, source)))
	})
	if err != nil {
		return store.DocumentInfo{}, err
	}
	if len(res) == 0 {
		return store.DocumentInfo{}, store.ErrNotFound
	}
	r, err := readDocRecord(res[0].Properties)
	return r.info, s.fail("read document "+source, err)
}

// records lists every document record, in no particular order, with a
// cursor: a collection may hold more documents than one query returns.
func (s *Store) records(ctx context.Context) ([]docRecord, error) {
	var out []docRecord
	after := ""
	for {
		res, err := s.search(ctx, "list documents", func(q *graphql.Search) *graphql.Search {
			q = q.WithCollection(s.names.doc).WithLimit(1000).WithProperties(docProps...).WithMetadata(&graphql.Metadata{ID: true})
			if after != "" {
				q = q.WithAfter(after)
			}
			return q
		})
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if str(r.Properties[propKind]) != kindDocument {
				continue
			}
			rec, err := readDocRecord(r.Properties)
			if err != nil {
				return nil, s.fail("list documents", err)
			}
			out = append(out, rec)
		}
		if len(res) < 1000 {
			return out, nil
		}
		after = res[len(res)-1].ID
	}
}

// Documents lists the documents ordered by source.
func (s *Store) Documents(ctx context.Context) ([]store.DocumentInfo, error) {
	recs, err := s.records(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]store.DocumentInfo, len(recs))
	for i, r := range recs {
		out[i] = r.info
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// record reads one document's record by id.
func (s *Store) record(ctx context.Context, docID string) (docRecord, bool, error) {
	props, found, err := s.getObject(ctx, s.names.doc, s.docUUID(docID))
	if err != nil || !found {
		return docRecord{}, found, err
	}
	r, err := readDocRecord(props)
	return r, true, s.fail("read document "+docID, err)
}

// liveGenerations returns the visible generation of each document that has
// a record.
func (s *Store) liveGenerations(ctx context.Context, docIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(docIDs))
	if len(docIDs) == 0 {
		return out, nil
	}
	res, err := s.search(ctx, "read documents", func(q *graphql.Search) *graphql.Search {
		return q.WithCollection(s.names.doc).WithLimit(len(docIDs)).WithProperties(propDocID, propGen, propKind).
			WithWhere(and(whereText(propKind, filters.Equal, kindDocument), whereText(propDocID, filters.ContainsAny, docIDs...)))
	})
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		out[str(r.Properties[propDocID])] = str(r.Properties[propGen])
	}
	return out, nil
}

// Page returns the text of one page of a document.
func (s *Store) Page(ctx context.Context, docID string, number int) (string, error) {
	rec, found, err := s.record(ctx, docID)
	if err != nil {
		return "", err
	}
	if !found {
		return "", store.ErrNotFound
	}
	props, found, err := s.getObject(ctx, s.names.page, s.pageUUID(docID, rec.gen, number))
	if err != nil {
		return "", err
	}
	if !found {
		return "", store.ErrNotFound
	}
	return str(props[propText]), nil
}

var chunkProps = []string{propDocID, propGen, propSplit, propSeq, propPage, propStart, propEnd, propParentSeq, propText, propSource, propTitle, propMeta}

func passageOf(props map[string]any) document.Passage {
	p := document.Passage{
		DocID:  str(props[propDocID]),
		Source: str(props[propSource]),
		Title:  str(props[propTitle]),
		Page:   int(num(props[propPage])),
		Split:  str(props[propSplit]),
		Start:  int(num(props[propStart])),
		End:    int(num(props[propEnd])),
		Text:   str(props[propText]),
		Meta:   store.DecodeMeta(str(props[propMeta])),
	}
	p.ChunkID = store.ChunkID(p.DocID, p.Split, int(num(props[propSeq])))
	return p
}

// chunksByID fetches chunk objects by object id, in batches.
func (s *Store) chunksByID(ctx context.Context, ids []string, vectors bool) (map[string]graphql.SearchResult, error) {
	out := make(map[string]graphql.SearchResult, len(ids))
	const batch = 500
	for len(ids) > 0 {
		n := min(len(ids), batch)
		part := ids[:n]
		ids = ids[n:]
		md := &graphql.Metadata{ID: true}
		if vectors {
			md.Vectors = []string{VectorName}
		}
		res, err := s.search(ctx, "read chunks", func(q *graphql.Search) *graphql.Search {
			return q.WithCollection(s.names.chunk).WithLimit(len(part)).WithProperties(chunkProps...).WithMetadata(md).
				WithWhere(whereText("_id", filters.ContainsAny, part...))
		})
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			out[r.ID] = r
		}
	}
	return out, nil
}

// Parents returns the parent chunk of each child, aligned with childIDs.
func (s *Store) Parents(ctx context.Context, childIDs []string) ([]document.Passage, error) {
	type child struct {
		docID, split string
		seq          int
	}
	children := make([]child, len(childIDs))
	var docIDs []string
	seen := map[string]bool{}
	for i, cid := range childIDs {
		docID, split, seq, err := store.ParseChunkID(cid)
		if err != nil {
			return nil, err
		}
		children[i] = child{docID, split, seq}
		if !seen[docID] {
			seen[docID] = true
			docIDs = append(docIDs, docID)
		}
	}
	gens, err := s.liveGenerations(ctx, docIDs)
	if err != nil {
		return nil, err
	}
	childUUIDs := make([]string, len(children))
	var want []string
	for i, c := range children {
		if gen, ok := gens[c.docID]; ok {
			childUUIDs[i] = s.chunkUUID(c.docID, gen, c.split, c.seq)
			want = append(want, childUUIDs[i])
		}
	}
	found, err := s.chunksByID(ctx, want, false)
	if err != nil {
		return nil, err
	}
	parentUUIDs := make([]string, len(children))
	want = want[:0]
	for i, c := range children {
		r, ok := found[childUUIDs[i]]
		if !ok {
			continue
		}
		sp, _ := s.split(c.split)
		parentSeq := int(num(r.Properties[propParentSeq]))
		if sp.Parent == "" || parentSeq < 0 {
			continue
		}
		parentUUIDs[i] = s.chunkUUID(c.docID, gens[c.docID], sp.Parent, parentSeq)
		want = append(want, parentUUIDs[i])
	}
	parents, err := s.chunksByID(ctx, want, false)
	if err != nil {
		return nil, err
	}
	out := make([]document.Passage, len(children))
	for i := range children {
		if r, ok := parents[parentUUIDs[i]]; ok && parentUUIDs[i] != "" {
			out[i] = passageOf(r.Properties)
		}
	}
	return out, nil
}

// ExportDocument reads a committed document back with its pages and chunks,
// vectors included.
func (s *Store) ExportDocument(ctx context.Context, docID string) (store.ExportedDocument, error) {
	var ed store.ExportedDocument
	rec, found, err := s.record(ctx, docID)
	if err != nil {
		return ed, err
	}
	if !found {
		return ed, store.ErrNotFound
	}
	ed.Document = document.Document{
		ID: rec.info.ID, Source: rec.info.Source, Title: rec.info.Title, Type: rec.info.Type,
		Hash: rec.info.Hash, Size: rec.info.Size, Meta: rec.info.Meta,
	}
	pageIdx := map[int]int{}
	for _, n := range rec.layout.Pages {
		props, found, err := s.getObject(ctx, s.names.page, s.pageUUID(docID, rec.gen, n))
		if err != nil {
			return ed, err
		}
		if !found {
			return ed, s.fail("export "+rec.info.Source, fmt.Errorf("page %d is missing", n))
		}
		pageIdx[n] = len(ed.Pages)
		ed.Pages = append(ed.Pages, store.ExportedPage{Page: document.Page{Number: n, Text: str(props[propText])}})
	}
	splits, _ := s.Splits(ctx)
	var ids []string
	for _, sp := range store.ParentsFirst(splits) {
		for seq := 0; seq < rec.layout.Splits[sp.Name]; seq++ {
			ids = append(ids, s.chunkUUID(docID, rec.gen, sp.Name, seq))
		}
	}
	found2, err := s.chunksByID(ctx, ids, true)
	if err != nil {
		return ed, err
	}
	// index of each chunk in its page's slice, by split and seq, to point
	// children at their parents.
	type key struct {
		split string
		seq   int
	}
	type place struct{ page, idx int }
	at := map[key]place{}
	for _, sp := range store.ParentsFirst(splits) {
		for seq := 0; seq < rec.layout.Splits[sp.Name]; seq++ {
			r, ok := found2[s.chunkUUID(docID, rec.gen, sp.Name, seq)]
			if !ok {
				return ed, s.fail("export "+rec.info.Source, fmt.Errorf("chunk %s is missing", store.ChunkID(docID, sp.Name, seq)))
			}
			pi, ok := pageIdx[int(num(r.Properties[propPage]))]
			if !ok {
				return ed, s.fail("export "+rec.info.Source, fmt.Errorf("chunk %s names a page the document does not have", store.ChunkID(docID, sp.Name, seq)))
			}
			c := store.Chunk{Split: sp.Name, Start: int(num(r.Properties[propStart])), End: int(num(r.Properties[propEnd])), Parent: -1}
			if ps := int(num(r.Properties[propParentSeq])); sp.Parent != "" && ps >= 0 {
				pl, ok := at[key{sp.Parent, ps}]
				if !ok || pl.page != pi {
					return ed, s.fail("export "+rec.info.Source, fmt.Errorf("chunk %s names a parent that is not on its page", store.ChunkID(docID, sp.Name, seq)))
				}
				c.Parent = pl.idx
			}
			if v, ok := r.Vectors[VectorName]; ok {
				c.Vector = v.GetVector()
			}
			pg := &ed.Pages[pi]
			at[key{sp.Name, seq}] = place{pi, len(pg.Chunks)}
			pg.Chunks = append(pg.Chunks, c)
		}
	}
	return ed, nil
}
