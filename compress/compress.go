// Package compress owns contextual compression: the stages of a technique
// that cut retrieved passages down to what answers the question, by
// extracting the relevant parts of each or dropping the irrelevant ones.
// Compressors are built from configuration by the builder registered for
// their type, like retrievers.
package compress

import (
	"context"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/model"
)

// Compressor cuts passages down for a query. It returns the passages it
// keeps, in the order it received them, and what it cost.
type Compressor interface {
	Compress(ctx context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error)
}

// Report is what a compressor did besides its output.
type Report struct {
	Usage cost.Usage
	Notes []string // chunks left uncompressed and why, invented text dropped, ...
	// Uncompressed counts passages passed on whole because their model
	// call failed or gave nothing usable.
	Uncompressed int
	// InventedChars counts characters of model output not found in the
	// passages, dropped rather than passed on.
	InventedChars int
}

// Env is what builders may use: the models configured for the engine, any
// of which may be nil (offline).
type Env struct {
	LLM      model.LLM
	Embedder model.Embedder
	Reranker model.Reranker
}

// Builder makes a compressor from its configuration stage.
type Builder func(env Env, stage config.Stage) (Compressor, error)

var builders = config.NewRegistry[Builder]("compressor")

// Register adds a compressor type.
func Register(typ string, b Builder) { builders.Register(typ, b) }

// Types lists the registered compressor types.
func Types() []string { return builders.Types() }

// Build makes the compressor a stage describes.
func Build(env Env, stage config.Stage) (Compressor, error) {
	b, err := builders.Lookup(stage, stage.Type)
	if err != nil {
		return nil, err
	}
	return b(env, stage)
}
