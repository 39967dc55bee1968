package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

func strfmtUUID(s string) strfmt.UUID { return strfmt.UUID(s) }

// upsert writes objects in batches of cfg.Batch. Object ids are derived from
// content identity, so a repeated batch overwrites instead of duplicating:
// batches that fail transiently, whole or per object, are sent again.
func (s *Store) upsert(ctx context.Context, op string, objs []*models.Object) error {
	for len(objs) > 0 {
		n := min(len(objs), s.cfg.Batch)
		if err := s.upsertBatch(ctx, op, objs[:n]); err != nil {
			return err
		}
		objs = objs[n:]
	}
	return nil
}

func (s *Store) upsertBatch(ctx context.Context, op string, objs []*models.Object) error {
	pending := objs
	return s.retry(ctx, op, func(ctx context.Context) error {
		res, err := s.Client().Batch().ObjectsBatcher().WithObjects(pending...).WithConsistencyLevel(s.cfg.Consistency).Do(ctx)
		if err != nil {
			return err
		}
		var failed []*models.Object
		var first error
		for i, r := range res {
			if msg := objectError(r); msg != "" {
				failed = append(failed, pending[i])
				if first == nil {
					first = &ObjectError{Class: r.Object.Class, Msg: msg}
				}
			}
		}
		if first == nil {
			return nil
		}
		pending = failed
		return first
	})
}

// ObjectError is Weaviate refusing one object of a batch.
type ObjectError struct {
	Class string
	Msg   string
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("Weaviate refused an object of class %s: %s", e.Class, e.Msg)
}

func objectError(r models.ObjectsGetResponse) string {
	if r.Result == nil || r.Result.Errors == nil {
		return ""
	}
	var msgs []string
	for _, e := range r.Result.Errors.Error {
		if e != nil {
			msgs = append(msgs, e.Message)
		}
	}
	if len(msgs) == 0 && r.Result.Status != nil && *r.Result.Status == models.ObjectsGetResponseAO2ResultStatusFAILED {
		msgs = append(msgs, "failed")
	}
	return strings.Join(msgs, "; ")
}

// getObject reads one object's properties by id.
func (s *Store) getObject(ctx context.Context, class, id string) (map[string]any, bool, error) {
	var obj *models.Object
	err := s.retry(ctx, "read "+class+" "+id, func(ctx context.Context) error {
		objs, err := s.Client().Data().ObjectsGetter().WithClassName(class).WithID(id).WithConsistencyLevel(s.cfg.Consistency).Do(ctx)
		if err != nil {
			return err
		}
		if len(objs) > 0 {
			obj = objs[0]
		}
		return nil
	})
	if isNotFound(errors.Unwrap(err)) || isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if obj == nil {
		return nil, false, nil
	}
	props, _ := obj.Properties.(map[string]any)
	return props, true, nil
}

// deleteWhere deletes the objects of a class that match a filter. Weaviate
// deletes at most its QUERY_MAXIMUM_RESULTS objects per request, so it
// repeats until nothing matches.
func (s *Store) deleteWhere(ctx context.Context, op, class string, where *filters.WhereBuilder) (int, error) {
	total := 0
	for {
		var res *models.BatchDeleteResponse
		err := s.retry(ctx, op, func(ctx context.Context) error {
			var err error
			res, err = s.Client().Batch().ObjectsBatchDeleter().WithClassName(class).WithWhere(where).
				WithConsistencyLevel(s.cfg.Consistency).WithOutput("minimal").Do(ctx)
			return err
		})
		if err != nil {
			return total, err
		}
		if res == nil || res.Results == nil {
			return total, nil
		}
		total += int(res.Results.Successful)
		if res.Results.Failed > 0 {
			return total, s.fail(op, fmt.Errorf("Weaviate failed to delete %d of %d objects of class %s", res.Results.Failed, res.Results.Matches, class))
		}
		if res.Results.Limit == 0 || res.Results.Matches < res.Results.Limit {
			return total, nil
		}
	}
}

// search runs a gRPC search with retries.
func (s *Store) search(ctx context.Context, op string, build func(*graphql.Search) *graphql.Search) ([]graphql.SearchResult, error) {
	var out []graphql.SearchResult
	err := s.retry(ctx, op, func(ctx context.Context) error {
		q := s.Client().Experimental().Search().WithConsistencyLevel(s.cfg.Consistency)
		var err error
		out, err = build(q).Do(ctx)
		return err
	})
	return out, err
}

func whereText(prop string, op filters.WhereOperator, vals ...string) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{prop}).WithOperator(op).WithValueText(vals...)
}

func whereInt(prop string, op filters.WhereOperator, vals ...int64) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{prop}).WithOperator(op).WithValueInt(vals...)
}

func and(ws ...*filters.WhereBuilder) *filters.WhereBuilder {
	if len(ws) == 1 {
		return ws[0]
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ws)
}

// Property values come back as float64 (REST JSON), int64 (gRPC) or
// json.Number; num and str read any of them.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return 0
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
