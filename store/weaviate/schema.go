package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/distill-rag/distill/store"
)

// SchemaVersion is the layout of the classes this code writes; a collection
// written by a newer distill is refused.
const SchemaVersion = 1

// VectorName is the named vector chunks carry.
const VectorName = "embedding"

type classNames struct{ chunk, page, doc string }

func namesFor(collection string) classNames {
	return classNames{chunk: collection + "Chunk", page: collection + "Page", doc: collection + "Document"}
}

// Property names. "chunk_start"/"chunk_end" because "start"/"end" read
// badly in GraphQL.
const (
	propKind      = "kind"
	propDocID     = "doc_id"
	propGen       = "gen"
	propSplit     = "split"
	propSeq       = "seq"
	propPage      = "page"
	propStart     = "chunk_start"
	propEnd       = "chunk_end"
	propParentSeq = "parent_seq"
	propText      = "text"
	propTerms     = "terms"
	propSource    = "source"
	propTitle     = "title"
	propMeta      = "meta"
	propType      = "type"
	propHash      = "hash"
	propSize      = "size"
	propPages     = "pages"
	propChunks    = "chunks"
	propIngested  = "ingested"
	propLayout    = "layout"
	propNumber    = "number"
	propSplits    = "splits"
	propVersion   = "schema_version"
	propEmbModel  = "embedding_model"
	propEmbDim    = "embedding_dim"
)

const (
	kindDocument = "document"
	kindMeta     = "meta"
)

type index int

const (
	stored     index = iota // kept, not indexed
	filterable              // exact-match filters
	searchable              // BM25 over whitespace-separated terms
)

func prop(name, dataType string, ix index) *models.Property {
	t, f := true, false
	p := &models.Property{Name: name, DataType: []string{dataType}, IndexFilterable: &f, IndexSearchable: &f, IndexRangeFilters: &f}
	switch ix {
	case filterable:
		p.IndexFilterable = &t
		if dataType == "text" {
			p.Tokenization = models.PropertyTokenizationField
		}
	case searchable:
		p.IndexSearchable = &t
		p.Tokenization = models.PropertyTokenizationWhitespace
	}
	return p
}

// classes returns the classes a collection needs, chunks first.
func (s *Store) classes() []*models.Class {
	chunk := &models.Class{
		Class:       s.names.chunk,
		Description: "distill chunks of collection " + s.cfg.Collection,
		Properties: []*models.Property{
			prop(propDocID, "text", filterable),
			prop(propGen, "text", filterable),
			prop(propSplit, "text", filterable),
			prop(propSeq, "int", filterable),
			prop(propPage, "int", stored),
			prop(propStart, "int", stored),
			prop(propEnd, "int", stored),
			prop(propParentSeq, "int", stored),
			prop(propText, "text", stored),
			// The chunk's terms as distill's analyzer produces them
			// (lowercased, stemmed, no stop words), so that Weaviate's BM25
			// ranks with the same analysis as the embedded store.
			prop(propTerms, "text", searchable),
			prop(propSource, "text", stored),
			prop(propTitle, "text", stored),
			prop(propMeta, "text", stored),
		},
		InvertedIndexConfig: &models.InvertedIndexConfig{
			Bm25:      &models.BM25Config{K1: 1.2, B: 0.75},
			Stopwords: &models.StopwordConfig{Preset: "none"},
		},
		VectorConfig: map[string]models.VectorConfig{
			VectorName: {
				Vectorizer:        map[string]any{"none": map[string]any{}},
				VectorIndexType:   "hnsw",
				VectorIndexConfig: map[string]any{"distance": "cosine"},
			},
		},
	}
	page := &models.Class{
		Class:       s.names.page,
		Description: "distill pages of collection " + s.cfg.Collection,
		Properties: []*models.Property{
			prop(propDocID, "text", filterable),
			prop(propGen, "text", filterable),
			prop(propNumber, "int", filterable),
			prop(propText, "text", stored),
		},
		VectorConfig: map[string]models.VectorConfig{
			"none": {Vectorizer: map[string]any{"none": map[string]any{}}, VectorIndexType: "flat"},
		},
	}
	doc := &models.Class{
		Class:       s.names.doc,
		Description: "distill documents of collection " + s.cfg.Collection,
		Properties: []*models.Property{
			prop(propKind, "text", filterable),
			prop(propDocID, "text", filterable),
			prop(propSource, "text", filterable),
			prop(propGen, "text", stored),
			prop(propTitle, "text", stored),
			prop(propType, "text", stored),
			prop(propHash, "text", stored),
			prop(propSize, "int", stored),
			prop(propMeta, "text", stored),
			prop(propPages, "int", stored),
			prop(propChunks, "int", stored),
			prop(propIngested, "int", stored),
			prop(propLayout, "text", stored),
			prop(propSplits, "text", stored),
			prop(propVersion, "int", stored),
			prop(propEmbModel, "text", stored),
			prop(propEmbDim, "int", stored),
		},
		VectorConfig: map[string]models.VectorConfig{
			"none": {Vectorizer: map[string]any{"none": map[string]any{}}, VectorIndexType: "flat"},
		},
	}
	for _, c := range []*models.Class{chunk, page, doc} {
		if s.cfg.Replicas > 0 {
			c.ReplicationConfig = &models.ReplicationConfig{Factor: int64(s.cfg.Replicas)}
			if s.cfg.Replicas > 1 {
				// A delete that reached only some replicas wins over the
				// older object on the others when they are repaired.
				c.ReplicationConfig.DeletionStrategy = models.ReplicationConfigDeletionStrategyTimeBasedResolution
			}
		}
		if s.cfg.Shards > 0 {
			c.ShardingConfig = map[string]any{"desiredCount": s.cfg.Shards}
		}
	}
	return []*models.Class{chunk, page, doc}
}

// collectionMeta is the collection's own record, an object of the document
// class with a fixed id.
type collectionMeta struct {
	Version   int
	Splits    []store.Split
	Embedding store.Embedding
}

var idNamespace = uuid.MustParse("6f0a2b8e-4c51-4d8f-9a43-5d1e7c2b9f10")

// objectID derives an object's id from what identifies it, so writes are
// idempotent and retries never duplicate anything.
func objectID(parts ...string) string {
	return uuid.NewSHA1(idNamespace, []byte(strings.Join(parts, "\x00"))).String()
}

func (s *Store) metaID() string { return objectID(s.names.doc, kindMeta) }

func (s *Store) docUUID(docID string) string { return objectID(s.names.doc, kindDocument, docID) }

func (s *Store) pageUUID(docID, gen string, number int) string {
	return objectID(s.names.page, docID, gen, fmt.Sprint(number))
}

func (s *Store) chunkUUID(docID, gen, split string, seq int) string {
	return objectID(s.names.chunk, docID, gen, split, fmt.Sprint(seq))
}

// SchemaError reports Weaviate classes that exist under the collection's
// names but are not what distill writes.
type SchemaError struct {
	Store    string
	Problems []string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s: the Weaviate classes do not match what distill writes (%s); they were made by another program or another version: choose another ?collection= name", e.Store, strings.Join(e.Problems, "; "))
}

// UserError marks the error as the user's to fix.
func (e *SchemaError) UserError() {}

// open checks the classes and reads the collection record, creating both
// when asked to.
func (s *Store) open(ctx context.Context, opts store.Options) error {
	want := s.classes()
	var missing []*models.Class
	var problems []string
	for _, c := range want {
		var have *models.Class
		err := s.retry(ctx, "read the schema", func(ctx context.Context) error {
			var err error
			have, err = s.Client().Schema().ClassGetter().WithClassName(c.Class).Do(ctx)
			return err
		})
		if isNotFound(err) {
			missing = append(missing, c)
			continue
		}
		if err != nil {
			return err
		}
		problems = append(problems, compareClass(c, have)...)
		if c.Class == s.names.chunk && have.InvertedIndexConfig != nil && have.InvertedIndexConfig.UsingBlockMaxWAND {
			s.blockMax = true
		}
	}
	if len(problems) > 0 {
		return &SchemaError{Store: s.cfg.String(), Problems: problems}
	}
	if len(missing) > 0 && !opts.Create {
		reason := "does not exist in Weaviate (ingest documents first, or check --store)"
		if len(missing) < len(want) {
			reason = fmt.Sprintf("is incomplete in Weaviate: class %s is missing", missing[0].Class)
		}
		return &store.CollectionError{Path: s.cfg.String(), Reason: reason}
	}
	for _, c := range missing {
		err := s.retry(ctx, "create class "+c.Class, func(ctx context.Context) error {
			return s.Client().Schema().ClassCreator().WithClass(c).Do(ctx)
		})
		if err != nil && !alreadyExists(err) {
			return err
		}
	}
	meta, found, err := s.readMeta(ctx)
	if err != nil {
		return err
	}
	switch {
	case !found && !opts.Create:
		return &store.CollectionError{Path: s.cfg.String(), Reason: "has classes but no distill collection record (not a distill collection)"}
	case !found:
		if len(opts.Splits) == 0 {
			return &store.CollectionError{Path: s.cfg.String(), Reason: "has no splits recorded and none were given"}
		}
		meta = collectionMeta{Version: SchemaVersion, Splits: append([]store.Split(nil), opts.Splits...)}
		if err := s.writeMeta(ctx, meta); err != nil {
			return err
		}
	case meta.Version > SchemaVersion:
		return &store.CollectionError{Path: s.cfg.String(), Reason: fmt.Sprintf("schema version %d is newer than this distill understands (%d); upgrade distill", meta.Version, SchemaVersion)}
	}
	s.meta = meta
	if s.blockMax || len(missing) > 0 && s.checkBlockMax(ctx) {
		slog.Warn("Weaviate ranks BM25 with BlockMax WAND for this collection, which in Weaviate 1.35 was seen to miss the best chunks at small limits; start Weaviate with USE_INVERTED_SEARCHABLE=false before creating collections (see docs/weaviate.md)", "store", s.cfg.String())
	}
	return nil
}

// checkBlockMax reads back a class just created to see how Weaviate ranks
// BM25 in it: the server, not the client, decides.
func (s *Store) checkBlockMax(ctx context.Context) bool {
	c, err := s.Client().Schema().ClassGetter().WithClassName(s.names.chunk).Do(ctx)
	s.blockMax = err == nil && c.InvertedIndexConfig != nil && c.InvertedIndexConfig.UsingBlockMaxWAND
	return s.blockMax
}

// compareClass lists how an existing class differs from the one distill
// would create, in what matters for reading and writing it.
func compareClass(want, have *models.Class) []string {
	var out []string
	props := map[string]*models.Property{}
	for _, p := range have.Properties {
		props[p.Name] = p
	}
	for _, w := range want.Properties {
		h, ok := props[w.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("class %s has no property %q", want.Class, w.Name))
		case !slices.Equal(h.DataType, w.DataType):
			out = append(out, fmt.Sprintf("class %s property %q is %s, not %s", want.Class, w.Name, strings.Join(h.DataType, ","), strings.Join(w.DataType, ",")))
		case w.Tokenization != "" && h.Tokenization != w.Tokenization:
			out = append(out, fmt.Sprintf("class %s property %q is tokenized %q, not %q", want.Class, w.Name, h.Tokenization, w.Tokenization))
		case isTrue(w.IndexSearchable) && !isTrue(h.IndexSearchable), isTrue(w.IndexFilterable) && !isTrue(h.IndexFilterable):
			out = append(out, fmt.Sprintf("class %s property %q is not indexed for %s", want.Class, w.Name, indexKind(w)))
		}
	}
	for name := range want.VectorConfig {
		if _, ok := have.VectorConfig[name]; !ok {
			out = append(out, fmt.Sprintf("class %s has no named vector %q", want.Class, name))
		}
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }

func indexKind(p *models.Property) string {
	if isTrue(p.IndexSearchable) {
		return "search"
	}
	return "filters"
}

func isNotFound(err error) bool {
	var ce *fault.WeaviateClientError
	return errors.As(err, &ce) && ce.IsUnexpectedStatusCode && ce.StatusCode == 404
}

func alreadyExists(err error) bool {
	var ce *fault.WeaviateClientError
	return errors.As(err, &ce) && ce.IsUnexpectedStatusCode && ce.StatusCode == 422 && strings.Contains(ce.Msg, "already exists")
}

func (s *Store) readMeta(ctx context.Context) (collectionMeta, bool, error) {
	var m collectionMeta
	props, found, err := s.getObject(ctx, s.names.doc, s.metaID())
	if err != nil || !found {
		return m, found, err
	}
	m.Version = int(num(props[propVersion]))
	if err := json.Unmarshal([]byte(str(props[propSplits])), &m.Splits); err != nil {
		return m, true, &store.CollectionError{Path: s.cfg.String(), Reason: "corrupt splits record: " + err.Error()}
	}
	m.Embedding = store.Embedding{Model: str(props[propEmbModel]), Dim: int(num(props[propEmbDim]))}
	return m, true, nil
}

func (s *Store) writeMeta(ctx context.Context, m collectionMeta) error {
	splits, _ := json.Marshal(m.Splits)
	obj := &models.Object{
		Class: s.names.doc,
		ID:    strfmtUUID(s.metaID()),
		Properties: map[string]any{
			propKind:     kindMeta,
			propSplits:   string(splits),
			propVersion:  m.Version,
			propEmbModel: m.Embedding.Model,
			propEmbDim:   m.Embedding.Dim,
		},
	}
	return s.upsert(ctx, "write the collection record", []*models.Object{obj})
}

// Embedding returns the model the collection's vectors come from.
func (s *Store) Embedding(context.Context) (store.Embedding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta.Embedding, nil
}

// recordEmbeddingLocked records the collection's embedding model and
// dimension with its first vector.
func (s *Store) recordEmbeddingLocked(ctx context.Context, e store.Embedding) error {
	have := s.meta.Embedding
	if have == e {
		return nil
	}
	if have.Dim != 0 && (have.Dim != e.Dim || have.Model != "" && e.Model != "" && have.Model != e.Model) {
		return &DimensionError{Store: s.cfg.String(), Have: have, Got: e}
	}
	m := s.meta
	m.Embedding = e
	if m.Embedding.Model == "" {
		m.Embedding.Model = have.Model
	}
	if err := s.writeMeta(ctx, m); err != nil {
		return err
	}
	s.meta = m
	return nil
}

// DimensionError reports vectors that do not fit the collection's.
type DimensionError struct {
	Store string
	Have  store.Embedding
	Got   store.Embedding
	Where string // the chunk, when one is at fault
}

func (e *DimensionError) Error() string {
	where := ""
	if e.Where != "" {
		where = " (" + e.Where + ")"
	}
	model := func(m store.Embedding) string {
		if m.Model == "" {
			return ""
		}
		return " from " + m.Model
	}
	return fmt.Sprintf("%s: vectors of %d dimensions%s do not fit the collection, which holds %d-dimension vectors%s%s; use the collection's embedding model or a new collection",
		e.Store, e.Got.Dim, model(e.Got), e.Have.Dim, model(e.Have), where)
}

// UserError marks the error as the user's to fix.
func (e *DimensionError) UserError() {}
