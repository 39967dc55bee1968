package config

import (
	"strings"
	"testing"
)

func TestRegistryLookupNamesStageAndKnownTypes(t *testing.T) {
	base, _ := Parse("<built-in>", DefaultYAML(), nil)
	cfg, err := Parse("user.yaml", []byte("techniques:\n  x:\n    retriever: {type: bm42, split: chunks, k: 0}\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	tech, _ := cfg.Technique("x")
	stage := tech.Retriever
	r := NewRegistry[int]("retriever")
	r.Register("parent", 2)
	r.Register("bm25", 1)
	if got := strings.Join(r.Types(), ","); got != "bm25,parent" {
		t.Errorf("Types = %s, want sorted bm25,parent", got)
	}
	if b, err := r.Lookup(stage, "bm25"); err != nil || b != 1 {
		t.Errorf("Lookup(bm25) = %d, %v", b, err)
	}
	_, err = r.Lookup(stage, "bm42")
	if err == nil || !strings.HasPrefix(err.Error(), "user.yaml:3: techniques.x.retriever.type: unknown retriever \"bm42\" (known: bm25, parent)") {
		t.Errorf("unknown type error = %v", err)
	}
	if _, err := r.Lookup(stage, "bm42", "auto", "bm25"); err == nil || !strings.Contains(err.Error(), "(known: auto, bm25)") {
		t.Errorf("known list override: %v", err)
	}
	if err := stage.ParamError("k", "must be positive, got %d", 0); err.Error() != "user.yaml:3: techniques.x.retriever.k: must be positive, got 0" {
		t.Errorf("ParamError = %v", err)
	}
}
