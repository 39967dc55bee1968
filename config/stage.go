package config

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Typed is embedded in a stage's parameter struct to accept its "type" key.
type Typed struct {
	Type string `yaml:"type"`
}

// Decode reads the stage's parameters into out strictly: an unknown key is
// an error naming the file, line and key.
func (s Stage) Decode(out any) error {
	return Decode(s.File, s.Path, s.Node, out)
}

// ParamError reports a bad value of the stage's parameter key, at the line
// of that key when the stage has it.
func (s Stage) ParamError(key, format string, args ...any) error {
	line := s.Node.Line
	for i := 0; i+1 < len(s.Node.Content); i += 2 {
		if s.Node.Content[i].Value == key {
			line = s.Node.Content[i].Line
		}
	}
	return &Error{File: s.File, Line: line, Path: s.Path + "." + key, Msg: fmt.Sprintf(format, args...)}
}

// Registry maps the types a configuration may name (retrievers,
// compressors) to their builders. It is safe for concurrent use.
type Registry[B any] struct {
	kind string // "retriever", "compressor": for error messages
	mu   sync.RWMutex
	m    map[string]B
}

// NewRegistry returns an empty registry of things of the given kind.
func NewRegistry[B any](kind string) *Registry[B] {
	return &Registry[B]{kind: kind, m: map[string]B{}}
}

// Register adds or replaces the builder of a type.
func (r *Registry[B]) Register(typ string, b B) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[typ] = b
}

// Types lists the registered types, sorted.
func (r *Registry[B]) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for t := range r.m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the builder of typ, or an error at the stage's type key
// listing the known types (known, when given, replaces Types in it).
func (r *Registry[B]) Lookup(stage Stage, typ string, known ...string) (B, error) {
	r.mu.RLock()
	b, ok := r.m[typ]
	r.mu.RUnlock()
	if !ok {
		if known == nil {
			known = r.Types()
		}
		return b, &Error{File: stage.File, Line: stage.Node.Line, Path: stage.Path + ".type", Msg: fmt.Sprintf("unknown %s %q (known: %s)", r.kind, stage.Type, strings.Join(known, ", "))}
	}
	return b, nil
}
