package weaviate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/textproc"
)

// searchSplit checks that split can be searched.
func (s *Store) searchSplit(split string) error {
	sp, ok := s.split(split)
	if !ok {
		return s.unknownSplit(split)
	}
	if !sp.Search {
		return fmt.Errorf("%s: split %q is not indexed for search (it only holds parents)", s.cfg, split)
	}
	return nil
}

// queryText is the query in the analysis the chunks' terms were indexed
// with (see the terms property).
func queryText(query string) string { return strings.Join(textproc.QueryTerms(query), " ") }

// SearchText ranks the chunks of split against query with Weaviate's BM25.
func (s *Store) SearchText(ctx context.Context, split, query string, k int) ([]document.Passage, error) {
	return s.SearchTextFiltered(ctx, split, query, k, nil)
}

// SearchTextFiltered is SearchText over the chunks f allows: see
// chunkFilter for how the filter reaches Weaviate.
func (s *Store) SearchTextFiltered(ctx context.Context, split, query string, k int, f *store.Filter) ([]document.Passage, error) {
	if err := s.searchSplit(split); err != nil {
		return nil, err
	}
	q := queryText(query)
	if k <= 0 || q == "" {
		return nil, nil
	}
	where, keep, none, err := s.chunkFilter(ctx, split, f)
	if err != nil || none {
		return nil, err
	}
	return s.searchLive(ctx, "BM25 search of "+split, k, func(search *graphql.Search, limit int) *graphql.Search {
		return search.WithBM25((&graphql.BM25ArgumentBuilder{}).WithQuery(q).WithProperties(propTerms)).
			WithWhere(where).WithLimit(limit).
			WithMetadata(&graphql.Metadata{ID: true, Score: true})
	}, func(r graphql.SearchResult) float64 { return float64(r.Metadata.Score) }, keep)
}

// SearchVector ranks the chunks of split by cosine similarity to vec.
func (s *Store) SearchVector(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error) {
	return s.SearchVectorFiltered(ctx, split, vec, k, nil)
}

// SearchVectorFiltered is SearchVector over the chunks f allows; Weaviate
// filters during its HNSW search (or scans the allowed vectors when they
// are few, its flat-search cutoff).
func (s *Store) SearchVectorFiltered(ctx context.Context, split string, vec []float32, k int, f *store.Filter) ([]document.Passage, error) {
	if err := s.searchSplit(split); err != nil {
		return nil, err
	}
	if err := s.queryVector(vec); err != nil || k <= 0 {
		return nil, err
	}
	where, keep, none, err := s.chunkFilter(ctx, split, f)
	if err != nil || none {
		return nil, err
	}
	return s.searchLive(ctx, "vector search of "+split, k, func(search *graphql.Search, limit int) *graphql.Search {
		return search.WithNearVector((&graphql.NearVectorArgumentBuilder{}).WithVector(vec).WithTargetVectors(VectorName)).
			WithWhere(where).WithLimit(limit).
			WithMetadata(&graphql.Metadata{ID: true, Distance: true})
	}, func(r graphql.SearchResult) float64 { return 1 - float64(r.Metadata.Distance) }, keep)
}

// chunkFilter turns f into a native Weaviate where filter on the chunks of
// split: the document-level conditions (source, doc_id, type, ingested,
// meta keys) are matched against the document records, and the chunks of
// the matching documents are selected with doc_id ContainsAny. The page
// property is stored but not indexed for filtering (collections made
// before filters exist), so page conditions are kept by searchLive, which
// deepens the search until k chunks pass. none reports that no document
// passes. A key no document has is a *store.FilterError.
func (s *Store) chunkFilter(ctx context.Context, split string, f *store.Filter) (where *filters.WhereBuilder, keep func(document.Passage) bool, none bool, err error) {
	where = whereText(propSplit, filters.Equal, split)
	if f.Empty() {
		return where, nil, false, nil
	}
	docs, err := s.Documents(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if err := f.Check(docs); err != nil {
		return nil, nil, false, err
	}
	var ids []string
	for _, d := range docs {
		if f.MatchDocument(d) {
			ids = append(ids, d.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil, true, nil
	}
	if len(ids) < len(docs) {
		where = and(where, whereText(propDocID, filters.ContainsAny, ids...))
	}
	if f.HasPage() {
		keep = func(p document.Passage) bool { return f.MatchPage(p.Page) }
	}
	return where, keep, false, nil
}

// queryVector checks a query vector against the collection's dimension.
func (s *Store) queryVector(vec []float32) error {
	s.mu.Lock()
	have := s.meta.Embedding
	s.mu.Unlock()
	if len(vec) == 0 {
		return fmt.Errorf("%s: empty query vector", s.cfg)
	}
	if have.Dim == 0 {
		return &NoVectorsError{Store: s.cfg.String()}
	}
	if have.Dim != len(vec) {
		return &DimensionError{Store: s.cfg.String(), Have: have, Got: store.Embedding{Dim: len(vec)}, Where: "the query"}
	}
	return nil
}

// NoVectorsError reports a vector search of a collection ingested without
// an embedding model.
type NoVectorsError struct{ Store string }

func (e *NoVectorsError) Error() string {
	return e.Store + ": the collection has no vectors (it was ingested without an embedding model); ingest it again with --embed"
}

// UserError marks the error as the user's to fix.
func (e *NoVectorsError) UserError() {}

// searchLive runs a search and keeps the chunks of visible generations,
// asking for more when hidden ones (a write in progress, or leftovers of an
// interrupted one) took places in the top k.
func (s *Store) searchLive(ctx context.Context, op string, k int, build func(*graphql.Search, int) *graphql.Search, score func(graphql.SearchResult) float64, keep func(document.Passage) bool) ([]document.Passage, error) {
	limit := k + 8
	for {
		res, err := s.search(ctx, op, func(q *graphql.Search) *graphql.Search {
			return build(q.WithCollection(s.names.chunk).WithProperties(chunkProps...), limit)
		})
		if err != nil {
			return nil, err
		}
		var docIDs []string
		seen := map[string]bool{}
		for _, r := range res {
			if id := str(r.Properties[propDocID]); !seen[id] {
				seen[id] = true
				docIDs = append(docIDs, id)
			}
		}
		gens, err := s.liveGenerations(ctx, docIDs)
		if err != nil {
			return nil, err
		}
		type hit struct {
			p   document.Passage
			seq int
		}
		var hits []hit
		for _, r := range res {
			if gens[str(r.Properties[propDocID])] != str(r.Properties[propGen]) {
				continue
			}
			p := passageOf(r.Properties)
			if keep != nil && !keep(p) {
				continue
			}
			p.Score = score(r)
			hits = append(hits, hit{p, int(num(r.Properties[propSeq]))})
		}
		// Weaviate orders equal scores by its internal ids, which depend
		// on the order a batch happened to be applied in; order them by
		// document and position instead, so results are reproducible.
		sort.SliceStable(hits, func(i, j int) bool {
			a, b := hits[i], hits[j]
			if a.p.Score != b.p.Score {
				return a.p.Score > b.p.Score
			}
			if a.p.DocID != b.p.DocID {
				return a.p.DocID < b.p.DocID
			}
			return a.seq < b.seq
		})
		if len(hits) >= k || len(res) < limit {
			out := make([]document.Passage, 0, min(k, len(hits)))
			for _, h := range hits[:min(k, len(hits))] {
				out = append(out, h.p)
			}
			return out, nil
		}
		limit *= 4
	}
}
