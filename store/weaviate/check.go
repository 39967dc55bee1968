package weaviate

import (
	"context"
	"fmt"
	"sort"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/distill-rag/distill/store"
)

// Orphans are page and chunk objects no document record makes visible:
// what an interrupted write or delete leaves behind, or a write still in
// progress.
type Orphans struct {
	// ByDocument counts orphaned objects per document id and generation.
	ByDocument map[string]map[string]int `json:"by_document"`
	Chunks     int                       `json:"chunks"`
	Pages      int                       `json:"pages"`
	// Documents and Objects count what was scanned.
	Documents int `json:"documents"`
	Objects   int `json:"objects"`
	// Missing lists documents whose record names objects that are not
	// there (a record written over a failed write would do that).
	Missing []string `json:"missing,omitempty"`
}

// Total is the number of orphaned objects.
func (o *Orphans) Total() int { return o.Chunks + o.Pages }

// FindOrphans scans every page and chunk object and reports those of no
// visible generation, and documents whose chunks are not all there. A
// write running meanwhile shows up as orphans until it commits.
func (s *Store) FindOrphans(ctx context.Context) (*Orphans, error) {
	recs, err := s.records(ctx)
	if err != nil {
		return nil, err
	}
	live := make(map[string]string, len(recs))
	wantChunks := make(map[string]int, len(recs))
	for _, r := range recs {
		live[r.info.ID] = r.gen
		wantChunks[r.info.ID] = r.info.Chunks
	}
	o := &Orphans{ByDocument: map[string]map[string]int{}, Documents: len(recs)}
	haveChunks := map[string]int{}
	for _, class := range []string{s.names.chunk, s.names.page} {
		err := s.scan(ctx, class, func(docID, gen string) {
			o.Objects++
			if live[docID] == gen {
				if class == s.names.chunk {
					haveChunks[docID]++
				}
				return
			}
			if o.ByDocument[docID] == nil {
				o.ByDocument[docID] = map[string]int{}
			}
			o.ByDocument[docID][gen]++
			if class == s.names.chunk {
				o.Chunks++
			} else {
				o.Pages++
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for id, n := range wantChunks {
		if haveChunks[id] != n {
			o.Missing = append(o.Missing, fmt.Sprintf("%s: record says %d chunks, %d found", id, n, haveChunks[id]))
		}
	}
	sort.Strings(o.Missing)
	return o, nil
}

// scan walks every object of a class with Weaviate's cursor.
func (s *Store) scan(ctx context.Context, class string, fn func(docID, gen string)) error {
	after := ""
	for {
		res, err := s.search(ctx, "scan "+class, func(q *graphql.Search) *graphql.Search {
			q = q.WithCollection(class).WithLimit(1000).WithProperties(propDocID, propGen).WithMetadata(&graphql.Metadata{ID: true})
			if after != "" {
				q = q.WithAfter(after)
			}
			return q
		})
		if err != nil {
			return err
		}
		for _, r := range res {
			fn(str(r.Properties[propDocID]), str(r.Properties[propGen]))
		}
		if len(res) < 1000 {
			return nil
		}
		after = res[len(res)-1].ID
	}
}

// RemoveOrphans deletes the objects FindOrphans reported. Run it when no
// write is in progress: a running write's objects look orphaned until it
// commits.
func (s *Store) RemoveOrphans(ctx context.Context, o *Orphans) (int, error) {
	removed := 0
	for docID, gens := range o.ByDocument {
		for gen := range gens {
			where := and(whereText(propDocID, filters.Equal, docID), whereText(propGen, filters.Equal, gen))
			for _, class := range []string{s.names.chunk, s.names.page} {
				n, err := s.deleteWhere(ctx, "remove orphans of "+docID, class, where)
				removed += n
				if err != nil {
					return removed, err
				}
			}
		}
	}
	return removed, nil
}

var _ store.Checker = (*Store)(nil)

// maxProblems bounds the problems one check lists; the rest are counted.
const maxProblems = 50

// Check verifies the collection for distill check: that its classes are
// still what distill writes ("schema"), and that every page and chunk
// object belongs to a visible document and every document has all its
// chunks ("links"). With opts.Repair it removes the orphaned objects and
// checks again; missing chunks can only be re-ingested. Run a repair when
// no ingest is running: a write in progress looks orphaned until it
// commits.
func (s *Store) Check(ctx context.Context, opts store.CheckOptions) (*store.CheckReport, error) {
	rep := &store.CheckReport{}
	if opts.Progress != nil {
		opts.Progress(store.CheckProgress{Check: "schema and links", Total: 1})
	}
	checks, orphans, err := s.check(ctx, rep)
	if err != nil {
		return nil, err
	}
	rep.Checks = checks
	if !opts.Repair || orphans.Total() == 0 {
		return rep, nil
	}
	n, err := s.RemoveOrphans(ctx, orphans)
	if err != nil {
		return rep, err
	}
	rep.Repaired = append(rep.Repaired, fmt.Sprintf("removed %d orphaned objects", n))
	after, _, err := s.check(ctx, rep)
	if err != nil {
		return rep, err
	}
	rep.After = after
	return rep, nil
}

func (s *Store) check(ctx context.Context, rep *store.CheckReport) ([]store.CheckResult, *Orphans, error) {
	schema := store.CheckResult{Name: "schema"}
	for _, want := range s.classes() {
		have, err := s.Client().Schema().ClassGetter().WithClassName(want.Class).Do(ctx)
		if err != nil {
			if isNotFound(err) {
				schema.Problems = append(schema.Problems, store.Problem{Check: "schema", Message: "class " + want.Class + " is missing"})
				continue
			}
			return nil, nil, s.fail("check the schema", err)
		}
		for _, p := range compareClass(want, have) {
			schema.Problems = append(schema.Problems, store.Problem{Check: "schema", Message: p})
		}
	}
	o, err := s.FindOrphans(ctx)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.records(ctx)
	if err != nil {
		return nil, nil, err
	}
	rep.Documents, rep.Pages, rep.Chunks = len(recs), 0, 0
	for _, r := range recs {
		rep.Pages += r.info.Pages
		rep.Chunks += r.info.Chunks
	}
	links := store.CheckResult{Name: "links"}
	add := func(repairable bool, format string, args ...any) {
		if len(links.Problems) >= maxProblems {
			links.Truncated++
			return
		}
		links.Problems = append(links.Problems, store.Problem{Check: "links", Message: fmt.Sprintf(format, args...), Repairable: repairable})
	}
	docIDs := make([]string, 0, len(o.ByDocument))
	for id := range o.ByDocument {
		docIDs = append(docIDs, id)
	}
	sort.Strings(docIDs)
	for _, id := range docIDs {
		n := 0
		for _, c := range o.ByDocument[id] {
			n += c
		}
		add(true, "document %s: %d page and chunk objects of no visible version (an interrupted write or delete, or one in progress)", id, n)
	}
	for _, m := range o.Missing {
		add(false, "document %s; remove it (distill rm) and ingest it again", m)
	}
	return []store.CheckResult{schema, links}, o, nil
}
