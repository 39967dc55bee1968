package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsDescribeTheStudy(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil {
		t.Fatal("an explicit config file that does not exist must be an error")
	}
	t.Setenv("DISTILL_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if cfg, err = Load(""); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{"chunks": {1000, 100}, "parents": {2000, 200}, "children": {400, 200}}
	for name, w := range want {
		sp, ok := cfg.Split(name)
		if !ok || sp.Size != w[0] || sp.Overlap != w[1] {
			t.Errorf("split %s = %+v, want size %d overlap %d", name, sp, w[0], w[1])
		}
	}
	if sp, _ := cfg.Split("children"); sp.Parent != "parents" {
		t.Errorf("children's parent = %q", sp.Parent)
	}
	for _, name := range []string{"regular", "parent", "extract", "filter"} {
		if _, ok := cfg.Technique(name); !ok {
			t.Errorf("technique %s is not built in", name)
		}
	}
}

func TestOverlayReplacesByNameAndAdds(t *testing.T) {
	base, err := Parse("<built-in>", DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	user := `
splits:
  chunks: {size: 500, overlap: 50}
techniques:
  regular:
    retriever: {type: bm25, split: chunks, k: 5}
  mine:
    description: mine
    retriever: {type: parent, split: children, child_k: 8}
    compressors:
      - type: filter
answer:
  max_sentences: 2
  max_chars: 300
`
	cfg, err := Parse("user.yaml", []byte(user), base)
	if err != nil {
		t.Fatal(err)
	}
	if sp, _ := cfg.Split("chunks"); sp.Size != 500 {
		t.Errorf("chunks size = %d, want the user's 500", sp.Size)
	}
	if len(cfg.Splits) != 3 {
		t.Errorf("splits = %v, want the three built-in names", cfg.SplitNames())
	}
	names := strings.Join(cfg.TechniqueNames(), ",")
	if names != "regular,parent,extract,filter,rerank,local,hybrid,parent-hybrid,mine" {
		t.Errorf("techniques = %s", names)
	}
	if tech, _ := cfg.Technique("mine"); len(tech.Compressors) != 1 || tech.Compressors[0].Type != "filter" || tech.Retriever.Type != "parent" {
		t.Errorf("mine = %+v", tech)
	}
	if cfg.Answer.MaxSentences != 2 || cfg.Answer.MaxChars != 300 {
		t.Errorf("answer = %+v", cfg.Answer)
	}
}

func TestConfigErrorsNameFileLineAndKey(t *testing.T) {
	base, _ := Parse("<built-in>", DefaultYAML(), nil)
	tests := []struct {
		name, yaml string
		line       int
		path, msg  string
	}{
		{"unknown top-level key", "splitz: {}\n", 1, "splitz", "unknown key"},
		{"unknown split key", "splits:\n  chunks: {size: 10, overlapp: 1}\n", 2, "splits.chunks.overlapp", "unknown key"},
		{"bad type", "splits:\n  chunks: {size: ten}\n", 2, "", "ten"},
		{"missing parent", "splits:\n  kids: {size: 10, parent: moms}\n", 0, "splits.kids.parent", "moms"},
		{"answer size", "answer: {max_sentences: 0}\n", 0, "answer.max_sentences", "positive"},
		{"syntax", "techniques: [\n", 0, "", ""},
		{"technique without retriever", "techniques:\n  x:\n    description: y\n", 3, "techniques.x", "retriever"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("user.yaml", []byte(tt.yaml), base)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v (%T), want *config.Error", err, err)
			}
			if ce.File != "user.yaml" || !strings.HasPrefix(err.Error(), "user.yaml") {
				t.Errorf("error %q does not start with the file", err)
			}
			if tt.line != 0 && ce.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", ce.Line, tt.line, err)
			}
			if tt.path != "" && ce.Path != tt.path {
				t.Errorf("path = %q, want %q (%v)", ce.Path, tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestLoadReadsEnvironmentFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("techniques:\n  env-only:\n    retriever: {type: bm25, split: chunks}\n"), 0o644)
	t.Setenv("DISTILL_CONFIG", path)
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Technique("env-only"); !ok {
		t.Fatalf("techniques = %v, want env-only from $DISTILL_CONFIG", cfg.TechniqueNames())
	}
}
