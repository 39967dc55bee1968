// Package retrieve owns the first stage of a technique: finding the
// passages for a question. A Retriever is built from a technique's
// configuration by the builder registered for its type (bm25, parent, and
// the dense and hybrid retrievers that need an embedding model).
package retrieve

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

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

var (
	buildersMu sync.RWMutex
	builders   = map[string]Builder{}
)

// Register adds a retriever type.
func Register(typ string, b Builder) {
	buildersMu.Lock()
	defer buildersMu.Unlock()
	builders[typ] = b
}

// Types lists the registered retriever types.
func Types() []string {
	buildersMu.RLock()
	defer buildersMu.RUnlock()
	out := []string{"auto"}
	for t := range builders {
		out = append(out, t)
	}
	sort.Strings(out[1:])
	return out
}

// Build makes the retriever a stage describes.
func Build(env Env, stage config.Stage) (Retriever, error) {
	typ := stage.Type
	if typ == "auto" {
		typ = env.Auto
		if typ == "" {
			typ = "bm25"
		}
	}
	buildersMu.RLock()
	b, ok := builders[typ]
	buildersMu.RUnlock()
	if !ok {
		return nil, &config.Error{File: stage.File, Line: stage.Node.Line, Path: stage.Path + ".type", Msg: fmt.Sprintf("unknown retriever %q (known: %s)", stage.Type, strings.Join(Types(), ", "))}
	}
	return b(env, stage)
}

// Decode reads a stage's parameters into out, which must have a `yaml:"type"`
// field or embed Typed.
func Decode(stage config.Stage, out any) error {
	return config.Decode(stage.File, stage.Path, stage.Node, out)
}

// Typed is embedded in parameter structs to accept the "type" key.
type Typed struct {
	Type string `yaml:"type"`
}

// ParamError reports a bad parameter value.
func ParamError(stage config.Stage, key string, format string, args ...any) error {
	line := stage.Node.Line
	for i := 0; i+1 < len(stage.Node.Content); i += 2 {
		if stage.Node.Content[i].Value == key {
			line = stage.Node.Content[i].Line
		}
	}
	return &config.Error{File: stage.File, Line: line, Path: stage.Path + "." + key, Msg: fmt.Sprintf(format, args...)}
}
