package weaviate_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/weaviate"
)

// countObjects counts the objects of a class that belong to a document, in
// any generation: what a cascade must leave behind.
func countObjects(t *testing.T, s *weaviate.Store, class, docID string) int {
	t.Helper()
	res, err := s.Client().Experimental().Search().WithCollection(class).WithLimit(10000).WithProperties("doc_id").
		WithWhere(filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(docID)).
		WithConsistencyLevel("ALL").Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(res)
}

func TestWriteReadSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := newWeaviate(t)
	var docs []document.Document
	var allPages [][]document.Page
	for i := 0; i < 4; i++ {
		doc, pages := corpusDoc(i, 3, "")
		writeDoc(t, s, doc, pages, true)
		docs = append(docs, doc)
		allPages = append(allPages, pages)
	}

	t.Run("documents", func(t *testing.T) {
		got, err := s.Documents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("Documents: %d, want 4", len(got))
		}
		for i, d := range got {
			if d.Source != docs[i].Source || d.ID != docs[i].ID || d.Pages != 3 || d.Hash != docs[i].Hash || d.Meta["version"] != "" {
				t.Errorf("document %d = %+v", i, d)
			}
			want := 0
			for _, p := range allPages[i] {
				want += len(chunksWithVectors(p.Text, false))
			}
			if d.Chunks != want {
				t.Errorf("document %d has %d chunks, want %d", i, d.Chunks, want)
			}
		}
		one, err := s.Document(ctx, docs[2].Source)
		if err != nil || one.ID != docs[2].ID {
			t.Fatalf("Document(%s) = %+v, %v", docs[2].Source, one, err)
		}
		if _, err := s.Document(ctx, "/nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Document(missing) error = %v, want ErrNotFound", err)
		}
	})

	t.Run("page", func(t *testing.T) {
		text, err := s.Page(ctx, docs[1].ID, 2)
		if err != nil || text != allPages[1][1].Text {
			t.Fatalf("Page = %q, %v", text, err)
		}
		if _, err := s.Page(ctx, docs[1].ID, 9); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing page: %v", err)
		}
	})

	tests := []struct {
		query string
		doc   int
	}{
		{"zeppelin airship", 0},
		{"glacier moraine", 1},
		{"where is the crevasse?", 1},
		{"clarinet", 2},
		{"volcano caldera magma", 3},
	}
	for _, tc := range tests {
		t.Run("bm25 "+tc.query, func(t *testing.T) {
			got, err := s.SearchText(ctx, "chunks", tc.query, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("got %d results, want 3", len(got))
			}
			for _, p := range got {
				if p.DocID != docs[tc.doc].ID || p.Split != "chunks" || p.Score <= 0 {
					t.Errorf("result %s (score %g) is not a chunk of %s", p.ChunkID, p.Score, docs[tc.doc].Source)
				}
				page := allPages[tc.doc][p.Page-1].Text
				if page[p.Start:p.End] != p.Text || p.Source != docs[tc.doc].Source || p.Title != docs[tc.doc].Title {
					t.Errorf("result %s does not cite its page: %+v", p.ChunkID, p)
				}
			}
			if !sort32(got) {
				t.Errorf("scores not descending: %v", got)
			}
		})
		t.Run("dense "+tc.query, func(t *testing.T) {
			got, err := s.SearchVector(ctx, "chunks", embed(tc.query), 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].DocID != docs[tc.doc].ID {
				t.Fatalf("dense top result %v, want a chunk of %s", ids(got), docs[tc.doc].ID)
			}
			if got[0].Score <= 0 || got[0].Score > 1.0001 || got[0].Score < got[1].Score {
				t.Errorf("cosine scores %g, %g", got[0].Score, got[1].Score)
			}
		})
	}

	t.Run("exact vector finds its chunk", func(t *testing.T) {
		c := chunksWithVectors(allPages[3][1].Text, true)[2]
		got, err := s.SearchVector(ctx, c.Split, c.Vector, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Text != allPages[3][1].Text[c.Start:c.End] {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("parents", func(t *testing.T) {
		children, err := s.SearchText(ctx, "children", "saxophone oboe", 4)
		if err != nil || len(children) == 0 {
			t.Fatalf("children: %v, %v", children, err)
		}
		cids := append(ids(children), docs[0].ID+":children:99999", docs[0].ID+":chunks:0")
		parents, err := s.Parents(ctx, cids)
		if err != nil {
			t.Fatal(err)
		}
		if len(parents) != len(cids) {
			t.Fatalf("%d parents for %d children", len(parents), len(cids))
		}
		for i, c := range children {
			p := parents[i]
			if p.Split != "parents" || p.DocID != c.DocID || p.Page != c.Page || c.Start < p.Start || c.End > p.End || !strings.Contains(p.Text, c.Text) {
				t.Errorf("parent of %s = %+v", c.ChunkID, p)
			}
		}
		for _, p := range parents[len(children):] {
			if p.ChunkID != "" {
				t.Errorf("a missing child or one without parent got %+v", p)
			}
		}
	})

	t.Run("bad searches", func(t *testing.T) {
		var us *weaviate.UnknownSplitError
		if _, err := s.SearchText(ctx, "nope", "x", 3); !errors.As(err, &us) {
			t.Errorf("unknown split: %v", err)
		}
		if _, err := s.SearchText(ctx, "parents", "x", 3); err == nil || !strings.Contains(err.Error(), "not indexed") {
			t.Errorf("parents split: %v", err)
		}
		if got, err := s.SearchText(ctx, "chunks", "the of and", 3); err != nil || len(got) != 0 {
			t.Errorf("stop words only: %v, %v", got, err)
		}
		var de *weaviate.DimensionError
		if _, err := s.SearchVector(ctx, "chunks", make([]float32, 5), 3); !errors.As(err, &de) || !strings.Contains(err.Error(), "weaviate:http://") {
			t.Errorf("wrong query dimension: %v", err)
		}
	})
}

func sort32(ps []document.Passage) bool {
	return slices.IsSortedFunc(ps, func(a, b document.Passage) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
}

// TestBM25AgreesWithEmbedded checks that Weaviate's BM25 over distill's
// analyzed terms finds what the embedded store finds.
func TestBM25AgreesWithEmbedded(t *testing.T) {
	ctx := context.Background()
	w, _ := newWeaviate(t)
	e := newSQLite(t)
	for i := 0; i < 6; i++ {
		doc, pages := corpusDoc(i, 4, "")
		writeDoc(t, w, doc, pages, false)
		writeDoc(t, e, doc, pages, false)
	}
	for _, q := range []string{"zeppelin", "hydrogen airship", "pear cider orchard", "beacon", "magma", "crevasse glacier"} {
		for _, split := range []string{"chunks", "children"} {
			gw, err := w.SearchText(ctx, split, q, 5)
			if err != nil {
				t.Fatal(err)
			}
			ge, err := e.SearchText(ctx, split, q, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(gw) != len(ge) || len(gw) == 0 {
				t.Fatalf("%s %q: weaviate %d results, embedded %d", split, q, len(gw), len(ge))
			}
			// Weaviate's statistics span all splits of the collection (its
			// document count and average length mix chunks, parents and
			// children), so scores differ and close calls go the other
			// way; what it ranks best the embedded store ranks high too,
			// and both answer from the right document.
			if !slices.Contains(ids(ge), gw[0].ChunkID) {
				t.Errorf("%s %q: weaviate's best %s is not in the embedded top 5 %v", split, q, gw[0].ChunkID, ids(ge))
			}
			for i := range gw {
				if gw[i].DocID != ge[0].DocID || ge[i].DocID != ge[0].DocID {
					t.Errorf("%s %q: results from different documents: %v vs %v", split, q, ids(gw), ids(ge))
				}
			}
			common := 0
			for _, id := range ids(gw) {
				if slices.Contains(ids(ge), id) {
					common++
				}
			}
			if common < 2 {
				t.Errorf("%s %q: only %d of 5 in common: %v vs %v", split, q, common, ids(gw), ids(ge))
			}
		}
	}
}

func TestReingestReplacesAndDeleteCascades(t *testing.T) {
	ctx := context.Background()
	s, _ := newWeaviate(t)
	chunkClass, pageClass, _ := s.Classes()
	doc, pages := corpusDoc(1, 3, "quokka")
	writeDoc(t, s, doc, pages, true)
	other, otherPages := corpusDoc(2, 2, "")
	writeDoc(t, s, other, otherPages, true)
	before := countObjects(t, s, chunkClass, doc.ID)

	doc2, pages2 := corpusDoc(1, 2, "wombat")
	writeDoc(t, s, doc2, pages2, true)
	if got, err := s.SearchText(ctx, "chunks", "quokka", 5); err != nil || len(got) != 0 {
		t.Fatalf("old version still found: %v, %v", ids(got), err)
	}
	got, err := s.SearchText(ctx, "chunks", "wombat", 10)
	if err != nil || len(got) != containing(pages2, "chunks", "wombat") {
		t.Fatalf("new version: %v, %v", ids(got), err)
	}
	info, err := s.Document(ctx, doc.Source)
	if err != nil || info.Pages != 2 || info.Meta["version"] != "wombat" {
		t.Fatalf("record after re-ingest: %+v, %v", info, err)
	}
	after := countObjects(t, s, chunkClass, doc.ID)
	if after != info.Chunks || after >= before {
		t.Fatalf("chunk objects after re-ingest: %d (record says %d, before %d): the old generation was not deleted", after, info.Chunks, before)
	}
	if n := countObjects(t, s, pageClass, doc.ID); n != 2 {
		t.Fatalf("page objects after re-ingest: %d, want 2", n)
	}

	n, err := s.Delete(ctx, doc.ID, "0000000000000000")
	if err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	for _, class := range []string{chunkClass, pageClass} {
		if n := countObjects(t, s, class, doc.ID); n != 0 {
			t.Errorf("%d objects of %s left in %s after delete", n, doc.ID, class)
		}
	}
	if n := countObjects(t, s, chunkClass, other.ID); n == 0 {
		t.Error("deleting one document removed another's chunks")
	}
	docs, err := s.Documents(ctx)
	if err != nil || len(docs) != 1 || docs[0].ID != other.ID {
		t.Fatalf("documents after delete: %+v, %v", docs, err)
	}
}

// TestNoPartialDocumentVisible writes a new version in small batches and
// looks at the collection between them: readers see the old version whole
// until the commit, then the new one whole; a rollback leaves nothing.
func TestNoPartialDocumentVisible(t *testing.T) {
	ctx := context.Background()
	s, _ := newWeaviate(t, "batch=5")
	chunkClass, _, _ := s.Classes()
	doc, pages := corpusDoc(4, 2, "quokka")
	writeDoc(t, s, doc, pages, true)
	old, err := s.SearchText(ctx, "chunks", "quokka", 10)
	if err != nil || len(old) != containing(pages, "chunks", "quokka") {
		t.Fatalf("old version: %v, %v", ids(old), err)
	}

	for _, commit := range []bool{false, true} {
		doc2, pages2 := corpusDoc(4, 3, "wombat")
		w, err := begin(ctx, s, doc2, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages2 {
			if err := w.AddPage(ctx, p, chunksWithVectors(p.Text, true)); err != nil {
				t.Fatal(err)
			}
			// Batches of 5 objects have gone to Weaviate by now.
			if got, err := s.SearchText(ctx, "chunks", "wombat", 10); err != nil || len(got) != 0 {
				t.Fatalf("uncommitted chunks visible: %v, %v", ids(got), err)
			}
			if got, err := s.SearchText(ctx, "chunks", "quokka", 10); err != nil || !slices.Equal(ids(got), ids(old)) {
				t.Fatalf("old version not whole while writing: %v, %v", ids(got), err)
			}
			if got, err := s.SearchVector(ctx, "chunks", embed("wombat lighthouse"), 50); err != nil || len(got) != containing(pages, "chunks", "") {
				t.Fatalf("dense search while writing: %d results, %v", len(got), err)
			} else {
				for _, p := range got {
					if strings.Contains(p.Text, "wombat") {
						t.Fatalf("uncommitted chunk %s found by dense search", p.ChunkID)
					}
				}
			}
			if info, err := s.Document(ctx, doc.Source); err != nil || info.Pages != 2 {
				t.Fatalf("record changed before commit: %+v, %v", info, err)
			}
		}
		if !commit {
			if err := w.Rollback(); err != nil {
				t.Fatal(err)
			}
			info, _ := s.Document(ctx, doc.Source)
			if n := countObjects(t, s, chunkClass, doc.ID); n != info.Chunks {
				t.Fatalf("after rollback %d chunk objects, the committed version has %d", n, info.Chunks)
			}
			continue
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SearchText(ctx, "chunks", "quokka", 10); err != nil || len(got) != 0 {
			t.Fatalf("old version after commit: %v, %v", ids(got), err)
		}
		if got, err := s.SearchText(ctx, "chunks", "wombat", 10); err != nil || len(got) != containing(pages2, "chunks", "wombat") {
			t.Fatalf("new version after commit: %v, %v", ids(got), err)
		}
	}
}

// containing counts the chunks of a split whose text holds word.
func containing(pages []document.Page, split, word string) int {
	n := 0
	for _, p := range pages {
		for _, c := range chunksWithVectors(p.Text, false) {
			if c.Split == split && strings.Contains(p.Text[c.Start:c.End], word) {
				n++
			}
		}
	}
	return n
}

func TestWrongDimension(t *testing.T) {
	ctx := context.Background()
	s, uri := newWeaviate(t)
	doc, pages := corpusDoc(0, 1, "")
	writeDoc(t, s, doc, pages, true)
	emb, err := s.Embedding(ctx)
	if err != nil || emb.Dim != dim {
		t.Fatalf("Embedding = %+v, %v", emb, err)
	}
	doc2, pages2 := corpusDoc(1, 1, "")
	w, err := begin(ctx, s, doc2, true)
	if err != nil {
		t.Fatal(err)
	}
	chunks := chunksWithVectors(pages2[0].Text, true)
	chunks[1].Vector = chunks[1].Vector[:10]
	err = w.AddPage(ctx, pages2[0], chunks)
	var de *weaviate.DimensionError
	if !errors.As(err, &de) || de.Have.Dim != dim || de.Got.Dim != 10 || !strings.Contains(err.Error(), uri[:strings.Index(uri, "&")]) {
		t.Fatalf("AddPage with a short vector: %v", err)
	}
	w.Rollback()
	if _, err := s.Document(ctx, doc2.Source); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed document visible: %v", err)
	}
	// A second process sees the recorded dimension.
	s2 := openWeaviate(t, uri, false)
	if _, err := s2.SearchVector(ctx, "chunks", make([]float32, 3), 2); !errors.As(err, &de) {
		t.Fatalf("query of the wrong dimension: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	node := sharedNode(t)

	t.Run("missing without create", func(t *testing.T) {
		_, err := weaviate.Open(ctx, node.URI("Nothing"+weaviateSuffix(t)), store.Options{})
		var ce *store.CollectionError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("schema mismatch", func(t *testing.T) {
		name := "Foreign" + weaviateSuffix(t)
		s, _ := newWeaviate(t) // any store, for its client
		err := s.Client().Schema().ClassCreator().WithClass(foreignClass(name + "Chunk")).Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = weaviate.Open(ctx, node.URI(name), store.Options{Create: true, Splits: testSplits})
		var se *weaviate.SchemaError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), `no property "terms"`) || !strings.Contains(err.Error(), "collection="+name) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("reopen keeps splits", func(t *testing.T) {
		_, uri := newWeaviate(t)
		s, err := weaviate.Open(ctx, uri, store.Options{Splits: []store.Split{{Name: "other", Size: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Splits(ctx)
		if !slices.Equal(got, testSplits) {
			t.Fatalf("splits %v", got)
		}
	})
}

func TestGraphQLSeesCollection(t *testing.T) {
	// What distill writes is ordinary Weaviate data: other tools can read it.
	ctx := context.Background()
	s, _ := newWeaviate(t)
	doc, pages := corpusDoc(5, 1, "")
	writeDoc(t, s, doc, pages, true)
	chunkClass, _, _ := s.Classes()
	res, err := s.Client().GraphQL().Get().WithClassName(chunkClass).
		WithFields(graphql.Field{Name: "doc_id"}, graphql.Field{Name: "split"}).WithLimit(100).Do(ctx)
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("GraphQL: %v %v", err, res)
	}
	got := res.Data["Get"].(map[string]any)[chunkClass].([]any)
	if len(got) == 0 {
		t.Fatal("GraphQL found no chunks")
	}
}

// TestOrphans abandons a write half way, as a crash would, and checks that
// nobody sees it, that FindOrphans reports it and RemoveOrphans removes it.
func TestOrphans(t *testing.T) {
	ctx := context.Background()
	s, _ := newWeaviate(t, "batch=4")
	doc, pages := corpusDoc(3, 2, "")
	writeDoc(t, s, doc, pages, true)
	o, err := s.FindOrphans(ctx)
	if err != nil || o.Total() != 0 || len(o.Missing) != 0 || o.Documents != 1 {
		t.Fatalf("clean collection: %+v, %v", o, err)
	}

	crashed, cpages := corpusDoc(5, 2, "quokka")
	w, err := begin(ctx, s, crashed, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cpages {
		if err := w.AddPage(ctx, p, chunksWithVectors(p.Text, true)); err != nil {
			t.Fatal(err)
		}
	}
	// No Commit, no Rollback: the process died here.
	if got, err := s.SearchText(ctx, "chunks", "quokka cider", 5); err != nil || len(got) != 0 {
		t.Fatalf("abandoned write visible: %v, %v", ids(got), err)
	}
	o, err = s.FindOrphans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chunkClass, _, _ := s.Classes()
	written := countObjects(t, s, chunkClass, crashed.ID)
	if written == 0 || o.Chunks != written || o.Pages == 0 || len(o.ByDocument) != 1 || o.ByDocument[crashed.ID] == nil {
		t.Fatalf("orphans %+v, %d chunk objects written", o, written)
	}
	rep, err := s.Check(ctx, store.CheckOptions{})
	if err != nil || rep.OK() || len(rep.Problems()) != 1 || !rep.Problems()[0].Repairable || !strings.Contains(rep.Problems()[0].Message, crashed.ID) || rep.Documents != 1 {
		t.Fatalf("Check: %+v, %v", rep, err)
	}
	rep, err = s.Check(ctx, store.CheckOptions{Repair: true})
	if err != nil || !rep.OK() || len(rep.Repaired) != 1 || rep.After == nil {
		t.Fatalf("Check --repair: %+v, %v", rep, err)
	}
	if o, err := s.FindOrphans(ctx); err != nil || o.Total() != 0 {
		t.Fatalf("after repair: %+v, %v", o, err)
	}
	if n := countObjects(t, s, chunkClass, crashed.ID); n != 0 {
		t.Fatalf("%d objects of the abandoned write left", n)
	}
	if got, err := s.SearchText(ctx, "chunks", "volcano magma", 3); err != nil || len(got) != 3 {
		t.Fatalf("the committed document suffered: %v, %v", ids(got), err)
	}

	// A chunk lost from under a record is reported too.
	where := filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
		filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(doc.ID),
		filters.Where().WithPath([]string{"seq"}).WithOperator(filters.Equal).WithValueInt(0),
	})
	if _, err := s.Client().Batch().ObjectsBatchDeleter().WithClassName(chunkClass).WithWhere(where).Do(ctx); err != nil {
		t.Fatal(err)
	}
	o, err = s.FindOrphans(ctx)
	if err != nil || len(o.Missing) != 1 || !strings.HasPrefix(o.Missing[0], doc.ID) {
		t.Fatalf("missing chunks not reported: %+v, %v", o, err)
	}
	rep, err = s.Check(ctx, store.CheckOptions{Repair: true})
	if err != nil || rep.OK() || len(rep.Problems()) != 1 || rep.Problems()[0].Repairable || !strings.Contains(rep.Problems()[0].Message, "ingest it again") {
		t.Fatalf("Check with a lost chunk: %+v, %v", rep, err)
	}
}

// TestCopyWithVectors copies an embedded collection with vectors into
// Weaviate and back: documents, pages, chunks and vectors come back
// identical, and dense search finds the same chunks in all three.
func TestCopyWithVectors(t *testing.T) {
	ctx := context.Background()
	src := newSQLite(t)
	for i := 0; i < 4; i++ {
		doc, pages := corpusDoc(i, 2, "")
		writeDoc(t, src, doc, pages, true)
	}
	w, _ := newWeaviate(t)
	rep, err := store.Copy(ctx, w, src, "embedded", w.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Documents != 4 || rep.Vectors == 0 || rep.Embedding != (store.Embedding{Model: testModel, Dim: dim}) {
		t.Fatalf("copy report %+v", rep)
	}
	back := newSQLite(t)
	if _, err := store.Copy(ctx, back, w, w.String(), "back", nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []store.VectorStore{w, back} {
		if e, err := s.Embedding(ctx); err != nil || e != rep.Embedding {
			t.Fatalf("embedding after copy: %+v, %v", e, err)
		}
	}
	docs, err := src.Documents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		want, err := src.ExportDocument(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]store.Exporter{"weaviate": w, "back": back} {
			got, err := s.ExportDocument(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s differs from the original", name, d.Source)
			}
		}
	}
	for _, q := range []string{"zeppelin hydrogen", "clarinet oboe", "volcano"} {
		want, err := src.SearchVector(ctx, "chunks", embed(q), 5)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]store.VectorStore{"weaviate": w, "back": back} {
			got, err := s.SearchVector(ctx, "chunks", embed(q), 5)
			if err != nil || !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("%s: dense %q found %v, the original %v (%v)", name, q, ids(got), ids(want), err)
			}
		}
	}
	// Another model's vectors are refused, naming both.
	if _, err := w.BeginVectors(ctx, document.Document{Source: "/x"}, "other-model"); err == nil || !strings.Contains(err.Error(), testModel) {
		t.Fatalf("another model: %v", err)
	}
	var ns *weaviate.NotSupportedError
	if _, _, err := w.Unembedded(ctx, "other-model", 0, 10); !errors.As(err, &ns) {
		t.Fatalf("reindex in place: %v", err)
	}
}
