// Package store defines what distill keeps for a collection and how it is
// searched, independent of where it is kept. Providers (the embedded SQLite
// store, Weaviate) implement Store and register an opener for their URI
// scheme, in the way database/sql drivers do.
//
// # The store contract
//
// Required of every driver: Store (documents written through Begin and a
// DocumentWriter, atomic per document and replacing the same source;
// Document, Documents, Delete, Page, Parents, Splits; BM25 SearchText
// scoped to one split, best first, at most k) and safety for concurrent
// use. Optional capabilities are interfaces a driver declares by
// implementing them; callers detect each with a type assertion on the
// Store and fall back or refuse when it is missing:
//
//   - Emptier: Empty without listing documents (fallback: Documents).
//   - VectorStore, VectorWriter: embeddings, SearchVector, BeginVectors,
//     re-embedding (Unembedded, PutVectors, ActivateEmbedding).
//   - FilterSearcher: metadata filters applied before top k.
//   - Checker: verify and repair (distill check).
//   - Exporter: read documents back as written, for Copy.
//   - Destroyer: remove the whole collection, nothing left behind.
//   - Resplitter: change splits in place.
//   - read-only: Options.ReadOnly; writes fail with *ReadOnlyError.
//
// The conformance suite in store/storetest runs the contract against a
// driver; both built-in drivers run it, and a capability's subtests are
// skipped for a driver that does not implement it.
package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/distill-rag/distill/document"
)

// Store keeps the documents of one collection with their pages and chunks,
// and searches them. Implementations are safe for concurrent use.
type Store interface {
	// Splits returns the chunkings the collection was built with.
	Splits(ctx context.Context) ([]Split, error)
	// Document returns the record for a source, or ErrNotFound.
	Document(ctx context.Context, source string) (DocumentInfo, error)
	// Documents lists the collection's documents ordered by source.
	Documents(ctx context.Context) ([]DocumentInfo, error)
	// Begin starts writing a document. Nothing is visible until Commit,
	// which atomically replaces any document with the same source.
	Begin(ctx context.Context, doc document.Document) (DocumentWriter, error)
	// Delete removes documents by id with their pages and chunks; it
	// returns how many existed.
	Delete(ctx context.Context, docIDs ...string) (int, error)
	// SearchText ranks the chunks of a split against a query with BM25.
	SearchText(ctx context.Context, split, query string, k int) ([]document.Passage, error)
	// Parents returns the parent chunk of each child chunk id, aligned with
	// childIDs; a child without a parent yields a zero Passage.
	Parents(ctx context.Context, childIDs []string) ([]document.Passage, error)
	// Page returns the text of one page of a document.
	Page(ctx context.Context, docID string, number int) (string, error)
	// Close releases the store.
	Close() error
}

// Emptier is a Store that can tell it holds no document without listing
// every one; stores without it are asked for their Documents.
type Emptier interface {
	Empty(ctx context.Context) (bool, error)
}

// DocumentWriter receives one document's pages and chunks.
type DocumentWriter interface {
	// AddPage stores a page and its chunks for every split.
	AddPage(ctx context.Context, page document.Page, chunks []Chunk) error
	// Commit makes the document visible, replacing an older version.
	Commit(ctx context.Context) error
	// Rollback discards everything written; it is safe after Commit.
	Rollback() error
}

// Split is a named chunking of every page, with the splitter's parameters.
// A split with a Parent is cut from each chunk of that split instead of from
// the page (the parent document retriever's children).
type Split struct {
	Name    string `json:"name" yaml:"name"`
	Size    int    `json:"size" yaml:"size"`
	Overlap int    `json:"overlap" yaml:"overlap"`
	Parent  string `json:"parent,omitempty" yaml:"parent,omitempty"`
	// Search says whether the split is indexed for search; a split that
	// only serves as parents need not be.
	Search bool `json:"search" yaml:"search"`
}

// Chunk is one chunk of a page in a split. Parent indexes the chunk of the
// parent split (in the same AddPage call) that this chunk was cut from.
type Chunk struct {
	Split      string
	Start, End int // byte offsets in the page
	Parent     int // index into the same chunks slice, or -1
	// Vector is the chunk's embedding, set for searched splits when the
	// collection has an embedding model (see VectorStore).
	Vector []float32
}

// Embedding is the model a collection's vectors come from.
type Embedding struct {
	Model string `json:"model"`
	Dim   int    `json:"dim"`
}

// VectorStore is a Store that also keeps chunk embeddings and searches
// them. The embedded store and Weaviate implement it.
type VectorStore interface {
	Store
	// Embedding returns the collection's embedding model, or the zero
	// Embedding when it has no vectors.
	Embedding(ctx context.Context) (Embedding, error)
	// SearchVector ranks the chunks of a split by cosine similarity to vec.
	SearchVector(ctx context.Context, split string, vec []float32, k int) ([]document.Passage, error)
}

// VectorWriter is a VectorStore that accepts vectors: with documents as
// they are ingested, and chunk by chunk when a collection is re-embedded
// with another model (distill reindex).
type VectorWriter interface {
	VectorStore
	// BeginVectors is Begin for a document whose searched chunks carry
	// vectors from model. It fails with an *EmbeddingMismatchError when
	// the collection is embedded with another model, and when the
	// collection holds documents without vectors; a driver may report it
	// from AddPage or Commit instead (the embedded store buffers the
	// document and opens its transaction late), storing nothing.
	BeginVectors(ctx context.Context, doc document.Document, model string) (DocumentWriter, error)
	// Unembedded returns up to limit chunks of searched splits that have
	// no vector from model, in increasing ID order after the ID after, and
	// how many there are in all.
	Unembedded(ctx context.Context, model string, after int64, limit int) (chunks []ChunkText, remaining int, err error)
	// PutVectors stores vectors from model for existing chunks, in one
	// transaction; chunks deleted meanwhile are skipped.
	PutVectors(ctx context.Context, model string, vecs []ChunkVector) error
	// ActivateEmbedding makes model the collection's embedding once every
	// searched chunk has a vector from it, and drops the previous model's
	// vectors, in one transaction.
	ActivateEmbedding(ctx context.Context, model string) (Embedding, error)
}

// ChunkText is a chunk to embed: the store's reference to it and its text.
type ChunkText struct {
	ID    int64
	Split string
	Text  string
}

// ChunkVector is a chunk's vector.
type ChunkVector struct {
	ID     int64
	Vector []float32
}

// EmbeddingMismatchError reports vectors or a query from another model, or
// of another dimension, than the collection's.
type EmbeddingMismatchError struct {
	Collection Embedding // what the collection holds (zero: no vectors)
	Got        Embedding // what was offered (Dim 0: not known yet)
	Reason     string    // how to fix it
}

func (e *EmbeddingMismatchError) Error() string {
	describe := func(em Embedding) string {
		if em.Model == "" && em.Dim == 0 {
			return "no embedding model"
		}
		if em.Dim == 0 {
			return em.Model
		}
		if em.Model == "" {
			return fmt.Sprintf("%d dimensions", em.Dim)
		}
		return fmt.Sprintf("%s (%d dimensions)", em.Model, em.Dim)
	}
	msg := fmt.Sprintf("the collection is embedded with %s, not %s", describe(e.Collection), describe(e.Got))
	if e.Got == (Embedding{}) {
		msg = "the collection is embedded with " + describe(e.Collection)
	}
	if e.Collection.Model == "" && e.Collection.Dim == 0 {
		msg = "the collection has no embeddings"
	}
	if e.Reason != "" {
		msg += "; " + e.Reason
	}
	return msg
}

// UserError marks the mismatch as the user's to fix.
func (e *EmbeddingMismatchError) UserError() {}

// DocumentInfo describes a stored document.
type DocumentInfo struct {
	ID       string            `json:"doc_id"`
	Source   string            `json:"source"`
	Title    string            `json:"title,omitempty"`
	Type     string            `json:"type"`
	Hash     string            `json:"hash"`
	Size     int64             `json:"bytes"`
	Pages    int               `json:"pages"`
	Chunks   int               `json:"chunks"`
	Meta     map[string]string `json:"meta,omitempty"`
	Ingested time.Time         `json:"ingested"`
}

// ErrNotFound is returned for a document, page or chunk that does not exist.
var ErrNotFound = errors.New("not found")

// CollectionError reports a collection that cannot be opened as asked:
// missing, not a distill collection, or built by an incompatible version.
type CollectionError struct {
	Path   string
	Reason string
}

func (e *CollectionError) Error() string { return fmt.Sprintf("collection %s: %s", e.Path, e.Reason) }

// ReadOnlyError is a write to a collection that is open read-only: on a
// read-only file system, without write permission, or opened read-only on
// purpose. Reads still work.
type ReadOnlyError struct {
	Collection string
	Reason     string // why it is read-only, or what needs write access
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("collection %s is read-only (%s): it can be searched but not changed", e.Collection, e.Reason)
}

// UserError marks it as a condition the message explains.
func (e *ReadOnlyError) UserError() {}

// Options are what an opener needs besides the URI.
type Options struct {
	// Create makes a new, empty collection when none exists.
	Create bool
	// ReadOnly opens the collection for reading only; every write fails
	// with a *ReadOnlyError. A store also opens read-only by itself when
	// it cannot write where the collection is.
	ReadOnly bool
	// Splits are recorded in a new collection.
	Splits []Split
}

// Opener opens the store named by a URI of its scheme.
type Opener func(ctx context.Context, uri string, opts Options) (Store, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a store provider available under a URI scheme.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("store: Register called twice for scheme " + scheme)
	}
	openers[scheme] = open
}

// Open opens the store named by uri: "scheme:rest", or a plain path for
// the embedded store ("sqlite" scheme).
func Open(ctx context.Context, uri string, opts Options) (Store, error) {
	scheme, uri := ParseURI(uri)
	openersMu.RLock()
	open, ok := openers[scheme]
	openersMu.RUnlock()
	if !ok {
		return nil, &UnknownSchemeError{Scheme: scheme, Known: Schemes()}
	}
	return open(ctx, uri, opts)
}

// ParseURI splits a store URI into its scheme and what the scheme's opener
// receives: the path for the embedded store ("sqlite:PATH", "file:PATH" or
// a plain PATH), the whole URI for any other scheme. A one-letter scheme is
// a Windows drive, and a "scheme" holding '/', '\' or '.' is part of a path.
func ParseURI(uri string) (scheme, target string) {
	i := strings.Index(uri, ":")
	if i <= 1 || strings.ContainsAny(uri[:i], `/\.`) {
		return "sqlite", uri
	}
	switch scheme = uri[:i]; scheme {
	case "sqlite", "file":
		return "sqlite", uri[i+1:]
	}
	return scheme, uri
}

// Schemes lists the registered store schemes.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	var out []string
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// UnknownSchemeError names a store URI scheme nobody registered.
type UnknownSchemeError struct {
	Scheme string
	Known  []string
}

func (e *UnknownSchemeError) Error() string {
	return fmt.Sprintf("unknown store %q (known: %s)", e.Scheme, strings.Join(e.Known, ", "))
}
