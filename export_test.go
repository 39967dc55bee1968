package distill

import (
	"context"
	"testing"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/technique"
)

// NewEngineForTest opens db with an embedder the URI registry does not know.
func NewEngineForTest(t *testing.T, db string, emb model.Embedder) *Engine {
	t.Helper()
	eng, err := Open(context.Background(), Options{DB: db, Create: true, Config: builtinConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	eng.embedder = emb
	eng.techniques, eng.order = map[string]*technique.Technique{}, nil
	if err := eng.init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return eng
}

func builtinConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("<built-in>", config.DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// BuiltinConfig is the built-in configuration, for tests.
var BuiltinConfig = builtinConfig
