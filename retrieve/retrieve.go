// Package retrieve owns the first stage of a technique: finding the
// passages for a question. A Retriever is built from a technique's
// configuration by the builder registered for its type (bm25, parent, and
// the dense and hybrid retrievers that need an embedding model).
package retrieve

import (
	"context"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
)

// Retriever finds passages for a query, best first.
type Retriever interface {
	Retrieve(ctx context.Context, query string) ([]document.Passage, error)
}

// TextSearcher ranks the chunks of a split by BM25.
type TextSearcher interface {
	SearchText(ctx context.Context, split, query string, k int) ([]document.Passage, error)
}

// ParentFinder maps child chunks to their parents.
type ParentFinder interface {
	Parents(ctx context.Context, childIDs []string) ([]document.Passage, error)
}

// Store is what the built-in retrievers need from a collection.
type Store interface {
	TextSearcher
	ParentFinder
}

// Env is what builders may use: the collection, and (once a model is
// configured) the dense search it offers.
type Env struct {
	Store Store
	// Auto is the retriever type "auto" stands for: "bm25" offline.
	Auto string
	// Embedder embeds queries for dense retrieval; nil offline.
	Embedder model.Embedder
}

// Builder makes a retriever from its configuration stage.
type Builder func(env Env, stage config.Stage) (Retriever, error)

var builders = config.NewRegistry[Builder]("retriever")

// Register adds a retriever type.
func Register(typ string, b Builder) { builders.Register(typ, b) }

// Types lists the registered retriever types, after "auto".
func Types() []string { return append([]string{"auto"}, builders.Types()...) }

// Build makes the retriever a stage describes.
func Build(env Env, stage config.Stage) (Retriever, error) {
	typ := stage.Type
	if typ == "auto" {
		typ = env.Auto
		if typ == "" {
			typ = "bm25"
		}
	}
	b, err := builders.Lookup(stage, typ, Types()...)
	if err != nil {
		return nil, err
	}
	return b(env, stage)
}
