// Package config owns distill's configuration file: the splits a collection
// is cut into, the techniques (a retriever and its compressors, as data)
// and answer settings. The built-in defaults are a YAML file embedded in the
// binary; a user file is laid over them.
//
// Retriever and compressor parameters stay as YAML nodes here; the packages
// that build them decode and validate their own parameters with Decode, so
// that a new kind of stage needs no change in this package.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/distill-rag/distill/store"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the built-in configuration file.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Config is the merged configuration.
type Config struct {
	Splits     []store.Split
	Techniques []Technique // in file order, defaults first
	Answer     Answer
	Models     Models
	Files      []string // the files read, defaults first ("<built-in>")

	// Store is the collection's store URI (e.g. weaviate:http://HOST:PORT);
	// empty means the embedded store at the --db directory.
	Store string
}

// Models are model URIs from the file's models section; flags and
// $DISTILL_LLM, $DISTILL_EMBED, $DISTILL_RERANK take precedence.
type Models struct {
	LLM    string `yaml:"llm"`
	Embed  string `yaml:"embed"`
	Rerank string `yaml:"rerank"`
}

// Technique is a named retriever and compressor pipeline.
type Technique struct {
	Name        string
	Description string
	Retriever   Stage
	Compressors []Stage
}

// Stage is one retriever or compressor: its type and its parameters, kept
// as YAML so the stage's own package decodes them.
type Stage struct {
	Type string
	Node *yaml.Node // the stage's mapping, including "type"
	Path string     // where it is, for errors: "techniques.parent.retriever"
	File string
}

// Answer configures the answer: the offline extractive one's limits, and
// the prompt file an LLM answer uses instead of the built-in prompt (a
// path relative to the config file that names it).
type Answer struct {
	MaxSentences int    `yaml:"max_sentences"`
	MaxChars     int    `yaml:"max_chars"`
	PromptFile   string `yaml:"prompt_file"`
}

// Error is a problem in a configuration file, naming the file, line and key.
type Error struct {
	File string
	Line int
	Path string // dotted key path
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// DefaultPath is the user config file read when none is named: the user
// config directory's distill/config.yaml.
func DefaultPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "distill", "config.yaml")
	}
	return ""
}

// Load returns the defaults overlaid with the file at path. An empty path
// reads $DISTILL_CONFIG, else DefaultPath when that file exists.
func Load(path string) (*Config, error) {
	cfg, err := Parse("<built-in>", defaultYAML, nil)
	if err != nil {
		return nil, fmt.Errorf("built-in config: %w", err)
	}
	explicit := path != ""
	if path == "" {
		path = os.Getenv("DISTILL_CONFIG")
		explicit = path != ""
	}
	if path == "" {
		path = DefaultPath()
	}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return cfg, nil
		}
		return nil, &Error{File: path, Msg: "cannot read: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return Parse(path, data, cfg)
}

// file is the shape of a configuration file.
type file struct {
	Splits     yaml.Node `yaml:"splits"`
	Techniques yaml.Node `yaml:"techniques"`
	Answer     yaml.Node `yaml:"answer"`
	Models     yaml.Node `yaml:"models"`
	Store      string    `yaml:"store"`
}

// Parse reads a configuration file laid over base (nil for none).
func Parse(name string, data []byte, base *Config) (*Config, error) {
	cfg := &Config{}
	if base != nil {
		cfg.Splits = append(cfg.Splits, base.Splits...)
		cfg.Techniques = append(cfg.Techniques, base.Techniques...)
		cfg.Answer = base.Answer
		cfg.Models = base.Models
		cfg.Store = base.Store
		cfg.Files = append(cfg.Files, base.Files...)
	}
	cfg.Files = append(cfg.Files, name)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	if len(doc.Content) == 0 {
		return cfg, cfg.validate(name)
	}
	var f file
	if err := Decode(name, "", doc.Content[0], &f); err != nil {
		return nil, err
	}
	if err := cfg.parseSplits(name, &f.Splits); err != nil {
		return nil, err
	}
	if err := cfg.parseTechniques(name, &f.Techniques); err != nil {
		return nil, err
	}
	if f.Store != "" {
		cfg.Store = f.Store
	}
	if f.Answer.Kind != 0 {
		prompt := cfg.Answer.PromptFile
		cfg.Answer.PromptFile = ""
		if err := Decode(name, "answer", &f.Answer, &cfg.Answer); err != nil {
			return nil, err
		}
		if cfg.Answer.PromptFile == "" {
			cfg.Answer.PromptFile = prompt
		} else if !filepath.IsAbs(cfg.Answer.PromptFile) && name != "<built-in>" {
			cfg.Answer.PromptFile = filepath.Join(filepath.Dir(name), cfg.Answer.PromptFile)
		}
	}
	if f.Models.Kind != 0 {
		if err := Decode(name, "models", &f.Models, &cfg.Models); err != nil {
			return nil, err
		}
	}
	return cfg, cfg.validate(name)
}

type splitSpec struct {
	Size    int    `yaml:"size"`
	Overlap int    `yaml:"overlap"`
	Parent  string `yaml:"parent"`
	Search  *bool  `yaml:"search"`
}

func (c *Config) parseSplits(name string, n *yaml.Node) error {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &Error{File: name, Line: n.Line, Path: "splits", Msg: "must be a mapping of split names to {size, overlap, parent, search}"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := "splits." + key.Value
		var spec splitSpec
		if err := Decode(name, path, val, &spec); err != nil {
			return err
		}
		sp := store.Split{Name: key.Value, Size: spec.Size, Overlap: spec.Overlap, Parent: spec.Parent, Search: spec.Search == nil || *spec.Search}
		if sp.Size <= 0 {
			return &Error{File: name, Line: val.Line, Path: path + ".size", Msg: fmt.Sprintf("must be a positive number of characters, got %d", sp.Size)}
		}
		if sp.Overlap < 0 || sp.Overlap >= sp.Size {
			return &Error{File: name, Line: val.Line, Path: path + ".overlap", Msg: fmt.Sprintf("must be at least 0 and less than the size %d, got %d", sp.Size, sp.Overlap)}
		}
		c.putSplit(sp)
	}
	return nil
}

func (c *Config) putSplit(sp store.Split) {
	for i := range c.Splits {
		if c.Splits[i].Name == sp.Name {
			c.Splits[i] = sp
			return
		}
	}
	c.Splits = append(c.Splits, sp)
}

type techniqueSpec struct {
	Description string      `yaml:"description"`
	Retriever   yaml.Node   `yaml:"retriever"`
	Compressors []yaml.Node `yaml:"compressors"`
}

func (c *Config) parseTechniques(name string, n *yaml.Node) error {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &Error{File: name, Line: n.Line, Path: "techniques", Msg: "must be a mapping of technique names to {description, retriever, compressors}"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := "techniques." + key.Value
		if !validName(key.Value) {
			return &Error{File: name, Line: key.Line, Path: path, Msg: "a technique name may only hold letters, digits, '-' and '_'"}
		}
		var spec techniqueSpec
		if err := Decode(name, path, val, &spec); err != nil {
			return err
		}
		t := Technique{Name: key.Value, Description: spec.Description}
		if spec.Retriever.Kind == 0 {
			return &Error{File: name, Line: val.Line, Path: path, Msg: "has no retriever"}
		}
		var err error
		if t.Retriever, err = stage(name, path+".retriever", &spec.Retriever); err != nil {
			return err
		}
		for j := range spec.Compressors {
			s, err := stage(name, fmt.Sprintf("%s.compressors[%d]", path, j), &spec.Compressors[j])
			if err != nil {
				return err
			}
			t.Compressors = append(t.Compressors, s)
		}
		c.putTechnique(t)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func stage(file, path string, n *yaml.Node) (Stage, error) {
	if n.Kind == yaml.ScalarNode { // shorthand: "- extract"
		m := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "type", Line: n.Line}, {Kind: yaml.ScalarNode, Value: n.Value, Line: n.Line},
		}}
		n = m
	}
	if n.Kind != yaml.MappingNode {
		return Stage{}, &Error{File: file, Line: n.Line, Path: path, Msg: "must be a mapping with a type"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			return Stage{Type: n.Content[i+1].Value, Node: n, Path: path, File: file}, nil
		}
	}
	return Stage{}, &Error{File: file, Line: n.Line, Path: path, Msg: "has no type"}
}

func (c *Config) putTechnique(t Technique) {
	for i := range c.Techniques {
		if c.Techniques[i].Name == t.Name {
			c.Techniques[i] = t
			return
		}
	}
	c.Techniques = append(c.Techniques, t)
}

func (c *Config) validate(name string) error {
	for _, sp := range c.Splits {
		if sp.Parent == "" {
			continue
		}
		if sp.Parent == sp.Name {
			return &Error{File: name, Path: "splits." + sp.Name + ".parent", Msg: "a split cannot be its own parent"}
		}
		if _, ok := c.Split(sp.Parent); !ok {
			return &Error{File: name, Path: "splits." + sp.Name + ".parent", Msg: fmt.Sprintf("names split %q, which is not defined (splits: %s)", sp.Parent, strings.Join(c.SplitNames(), ", "))}
		}
	}
	if c.Answer.MaxSentences <= 0 {
		return &Error{File: name, Path: "answer.max_sentences", Msg: "must be positive"}
	}
	if c.Answer.MaxChars <= 0 {
		return &Error{File: name, Path: "answer.max_chars", Msg: "must be positive"}
	}
	return nil
}

// Split returns the split named name.
func (c *Config) Split(name string) (store.Split, bool) {
	for _, sp := range c.Splits {
		if sp.Name == name {
			return sp, true
		}
	}
	return store.Split{}, false
}

// SplitNames lists the splits.
func (c *Config) SplitNames() []string {
	var out []string
	for _, sp := range c.Splits {
		out = append(out, sp.Name)
	}
	return out
}

// Technique returns the technique named name.
func (c *Config) Technique(name string) (Technique, bool) {
	for _, t := range c.Techniques {
		if t.Name == name {
			return t, true
		}
	}
	return Technique{}, false
}

// TechniqueNames lists the techniques in order.
func (c *Config) TechniqueNames() []string {
	var out []string
	for _, t := range c.Techniques {
		out = append(out, t.Name)
	}
	return out
}

// Decode decodes a YAML mapping into out (a pointer to a struct with yaml
// tags), rejecting keys the struct does not have with an Error that names
// the file, line and key and lists the known keys.
func Decode(file, path string, n *yaml.Node, out any) error {
	if n.Kind == yaml.MappingNode {
		known := yamlKeys(reflect.TypeOf(out).Elem())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				keys := make([]string, 0, len(known))
				for key := range known {
					keys = append(keys, key)
				}
				sort.Strings(keys)
				return &Error{File: file, Line: k.Line, Path: join(path, k.Value), Msg: fmt.Sprintf("unknown key (known: %s)", strings.Join(keys, ", "))}
			}
		}
	} else if n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return &Error{File: file, Line: n.Line, Path: path, Msg: "must be a mapping"}
	}
	if err := n.Decode(out); err != nil {
		return &Error{File: file, Line: n.Line, Path: path, Msg: cleanYAMLMessage(err.Error())}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for k := range yamlKeys(f.Type) {
				keys[k] = true
			}
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = true
	}
	return keys
}

func yamlError(file string, err error) error {
	msg := err.Error()
	var line int
	if _, e := fmt.Sscanf(msg, "yaml: line %d:", &line); e == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + cleanYAMLMessage(msg)}
}

// cleanYAMLMessage drops the Go type names from yaml.v3's decode errors.
func cleanYAMLMessage(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	if i := strings.Index(msg, " into "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
