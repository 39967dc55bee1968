package model

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// URI is a parsed model URI: "scheme:target?key=value&...". Target is
// what the provider needs to find the model: a model name, an endpoint
// name or a URL.
type URI struct {
	Raw     string
	Scheme  string
	Target  string
	Options url.Values
}

// ParseURI splits a model URI. The query starts at the last "?" so that
// a target that is itself a URL keeps its own path.
func ParseURI(raw string) (URI, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return URI{}, &URIError{URI: raw, Reason: "empty"}
	}
	if s == "none" {
		return URI{Raw: raw, Scheme: "none"}, nil
	}
	i := strings.Index(s, ":")
	if i <= 0 {
		return URI{}, &URIError{URI: raw, Reason: "want scheme:target, e.g. ollama:llama3 or openai:gpt-4o-mini"}
	}
	u := URI{Raw: raw, Scheme: strings.ToLower(s[:i]), Target: s[i+1:], Options: url.Values{}}
	if q := strings.LastIndex(u.Target, "?"); q >= 0 {
		vals, err := url.ParseQuery(u.Target[q+1:])
		if err != nil {
			return URI{}, &URIError{URI: raw, Reason: "bad options: " + err.Error()}
		}
		u.Options, u.Target = vals, u.Target[:q]
	}
	return u, nil
}

// URIError reports a model URI that cannot be used.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string { return fmt.Sprintf("model %q: %s", e.URI, e.Reason) }

// UserError marks the error as the user's to fix.
func (e *URIError) UserError() {}

// Openers make a model from its URI.
type (
	LLMOpener      = func(ctx context.Context, u URI) (LLM, error)
	EmbedderOpener = func(ctx context.Context, u URI) (Embedder, error)
	RerankerOpener = func(ctx context.Context, u URI) (Reranker, error)
)

var (
	mu        sync.RWMutex
	llms      = map[string]LLMOpener{}
	embedders = map[string]EmbedderOpener{}
	rerankers = map[string]RerankerOpener{}
)

// RegisterLLM makes a generation provider available under a scheme.
func RegisterLLM(scheme string, open LLMOpener) { register(llms, scheme, open) }

// RegisterEmbedder makes an embedding provider available under a scheme.
func RegisterEmbedder(scheme string, open EmbedderOpener) { register(embedders, scheme, open) }

// RegisterReranker makes a reranking provider available under a scheme.
func RegisterReranker(scheme string, open RerankerOpener) { register(rerankers, scheme, open) }

func register[T any](m map[string]T, scheme string, v T) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := m[scheme]; dup {
		panic("model: scheme registered twice: " + scheme)
	}
	m[scheme] = v
}

// OpenLLM opens the language model a URI names; "none" or "" gives nil.
func OpenLLM(ctx context.Context, raw string) (LLM, error) {
	return open(ctx, raw, llms, "language model")
}

// OpenEmbedder opens the embedding model a URI names; "none" or "" gives nil.
// Every provider's embedder comes wrapped the same way: texts get the
// model's query or document prefix, are looked up in the cache (when one is
// given), and what is missing is sent in batches of batch_size with up to
// concurrency requests in flight. Each call is a span "embed".
func OpenEmbedder(ctx context.Context, raw string, opts ...OpenOption) (Embedder, error) {
	e, err := open(ctx, raw, embedders, "embedding model")
	if err != nil || e == nil {
		return e, err
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	u, _ := ParseURI(raw) // open parsed it already
	var present []string
	for k := range u.Options {
		present = append(present, k) // the provider checked its own options
	}
	s, err := u.Settings(present...)
	if err != nil {
		return nil, err
	}
	_, selfPrefixing := e.(SelfPrefixing)
	e = Batched(e, s.BatchSize, s.Concurrency)
	if o.cache != nil {
		e = Cached(e, o.cache)
	}
	if !selfPrefixing {
		query, doc := s.Prefixes(e.Name())
		e = Prefixed(e, query, doc)
	}
	return &tracedEmbedder{e}, nil
}

// OpenReranker opens the reranker a URI names; "none" or "" gives nil.
func OpenReranker(ctx context.Context, raw string) (Reranker, error) {
	r, err := open(ctx, raw, rerankers, "reranker")
	if err != nil || r == nil {
		return r, err
	}
	return &tracedReranker{r}, nil
}

func open[T any](ctx context.Context, raw string, m map[string]func(context.Context, URI) (T, error), kind string) (T, error) {
	var zero T
	if strings.TrimSpace(raw) == "" || strings.TrimSpace(raw) == "none" {
		return zero, nil
	}
	u, err := ParseURI(raw)
	if err != nil {
		return zero, err
	}
	mu.RLock()
	opener, ok := m[u.Scheme]
	var known []string
	for s := range m {
		known = append(known, s+":")
	}
	mu.RUnlock()
	if !ok {
		sort.Strings(known)
		return zero, &URIError{URI: raw, Reason: fmt.Sprintf("no %s provider %q (known: %s, none)", kind, u.Scheme, strings.Join(known, ", "))}
	}
	return opener(ctx, u)
}
