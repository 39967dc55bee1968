package model

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The study's generation settings (Mixtral 8x7B Instruct on SageMaker) and
// distill's request defaults.
const (
	DefaultTemperature = 0.6
	DefaultTopP        = 0.9
	DefaultMaxTokens   = 700
	DefaultTimeout     = 2 * time.Minute
	DefaultAttempts    = 4
	DefaultBackoff     = 500 * time.Millisecond
	DefaultBatchSize   = 32
	// DefaultConcurrency is how many embedding requests are in flight at
	// once: enough to hide a remote server's latency, few enough that a
	// local server only queues them.
	DefaultConcurrency = 8
)

// TGIStop are the stop sequences the study sent to TGI endpoints.
var TGIStop = []string{"###", "</s>"}

// Settings are the options every model URI may carry on its query, e.g.
// "ollama:mixtral?temperature=0.2&max_tokens=300".
type Settings struct {
	Temperature float64
	TopP        float64
	MaxTokens   int
	Stop        []string // nil: the provider's default
	Timeout     time.Duration
	Attempts    int // tries per request, the first included
	// Backoff is the first wait before a retry; it doubles with each
	// retry (with full jitter) unless the server says Retry-After.
	Backoff     time.Duration
	BatchSize   int
	Concurrency int
	// QueryPrefix and DocPrefix are put before texts embedded for a query
	// and for a document; nil means the model's known default.
	QueryPrefix *string
	DocPrefix   *string
	Template    string // chat template for raw-text endpoints; "" picks by model name
}

// CommonOptions are the option names every provider accepts.
var CommonOptions = []string{
	"temperature", "top_p", "max_tokens", "stop", "timeout", "retries", "backoff",
	"batch_size", "concurrency", "query_prefix", "doc_prefix", "template",
}

// Settings parses the URI's options. Options that are neither common nor
// in extra (the provider's own, e.g. "format") are an error that lists the
// known ones, so a typo never passes silently.
func (u URI) Settings(extra ...string) (Settings, error) {
	s := Settings{
		Temperature: DefaultTemperature, TopP: DefaultTopP, MaxTokens: DefaultMaxTokens,
		Timeout: DefaultTimeout, Attempts: DefaultAttempts, Backoff: DefaultBackoff,
		BatchSize: DefaultBatchSize, Concurrency: DefaultConcurrency,
	}
	known := map[string]bool{}
	for _, k := range append(append([]string{}, CommonOptions...), extra...) {
		known[k] = true
	}
	keys := make([]string, 0, len(u.Options))
	for k := range u.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return s, u.optionError(k, "unknown option (known: %s)", strings.Join(names, ", "))
		}
	}
	var err error
	if s.Temperature, err = u.float("temperature", s.Temperature, 0, 2); err != nil {
		return s, err
	}
	if s.TopP, err = u.float("top_p", s.TopP, 0, 1); err != nil {
		return s, err
	}
	if s.MaxTokens, err = u.int("max_tokens", s.MaxTokens); err != nil {
		return s, err
	}
	if v := u.Options.Get("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 20 {
			return s, u.optionError("retries", "want a whole number from 0 to 20, got %q", v)
		}
		s.Attempts = n + 1
	}
	if s.BatchSize, err = u.int("batch_size", s.BatchSize); err != nil {
		return s, err
	}
	if s.Concurrency, err = u.int("concurrency", s.Concurrency); err != nil {
		return s, err
	}
	if s.Timeout, err = u.duration("timeout", s.Timeout, "30s or 2m"); err != nil {
		return s, err
	}
	if s.Backoff, err = u.duration("backoff", s.Backoff, "250ms or 1s"); err != nil {
		return s, err
	}
	if vs, ok := u.Options["stop"]; ok {
		s.Stop = []string{}
		for _, v := range vs {
			if v != "" {
				s.Stop = append(s.Stop, v)
			}
		}
	}
	if vs, ok := u.Options["query_prefix"]; ok {
		s.QueryPrefix = &vs[0]
	}
	if vs, ok := u.Options["doc_prefix"]; ok {
		s.DocPrefix = &vs[0]
	}
	s.Template = u.Options.Get("template")
	if s.Template != "" {
		if _, ok := templates[s.Template]; !ok {
			return s, u.optionError("template", "unknown chat template %q (known: %s)", s.Template, strings.Join(TemplateNames(), ", "))
		}
	}
	return s, nil
}

func (u URI) optionError(key, format string, args ...any) error {
	return &URIError{URI: u.Raw, Reason: "option " + key + ": " + fmt.Sprintf(format, args...)}
}

// duration reads a positive duration ("30s", or seconds as a number).
func (u URI) duration(key string, def time.Duration, example string) (time.Duration, error) {
	v := u.Options.Get(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if secs, err2 := strconv.ParseFloat(v, 64); err2 == nil {
			d, err = time.Duration(secs*float64(time.Second)), nil
		}
	}
	if err != nil || d <= 0 {
		return def, u.optionError(key, "want a duration such as %s, got %q", example, v)
	}
	return d, nil
}

func (u URI) float(key string, def, lo, hi float64) (float64, error) {
	v := u.Options.Get(key)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		return def, u.optionError(key, "want a number from %g to %g, got %q", lo, hi, v)
	}
	return f, nil
}

func (u URI) int(key string, def int) (int, error) {
	v := u.Options.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return def, u.optionError(key, "want a positive whole number, got %q", v)
	}
	return n, nil
}

// Apply fills the fields a request leaves zero from the settings.
func (s Settings) Apply(req Request) Request {
	if req.Temperature == nil {
		t := s.Temperature
		req.Temperature = &t
	}
	if req.TopP == nil {
		p := s.TopP
		req.TopP = &p
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = s.MaxTokens
	}
	if req.Stop == nil {
		req.Stop = s.Stop
	}
	return req
}

// Prefixes returns the texts put before queries and documents for an
// embedding model: the URI's query_prefix and doc_prefix when given, else
// what the model's authors recommend for the families distill knows (BGE,
// E5, nomic-embed).
func (s Settings) Prefixes(modelName string) (query, doc string) {
	query, doc = knownPrefixes(modelName)
	if s.QueryPrefix != nil {
		query = *s.QueryPrefix
	}
	if s.DocPrefix != nil {
		doc = *s.DocPrefix
	}
	return query, doc
}

// BGEQueryPrefix is the instruction BGE's English models want before a
// short query that is matched against passages.
const BGEQueryPrefix = "Represent this sentence for searching relevant passages: "

func knownPrefixes(name string) (query, doc string) {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "bge") && strings.Contains(n, "en") && !strings.Contains(n, "m3"):
		return BGEQueryPrefix, ""
	case strings.Contains(n, "e5-") && !strings.Contains(n, "instruct"):
		return "query: ", "passage: "
	case strings.Contains(n, "nomic-embed-text"):
		return "search_query: ", "search_document: "
	}
	return "", ""
}

// IsNone reports whether a model URI means "no model" (offline).
func IsNone(raw string) bool {
	s := strings.TrimSpace(raw)
	return s == "" || s == "none"
}

// Name returns scheme:target with the given options (those that change
// what a model computes, e.g. an embedding's dimensions), as a stable name.
func (u URI) Name(keys ...string) string {
	name := u.Scheme + ":" + u.Target
	q := url.Values{}
	for _, k := range keys {
		if v, ok := u.Options[k]; ok {
			q[k] = v
		}
	}
	if len(q) > 0 {
		name += "?" + q.Encode()
	}
	return name
}

// EstimateTokens guesses a text's token count (about four characters a
// token in English) for providers that do not report usage.
func EstimateTokens(text string) int {
	return (len(text) + 3) / 4
}

// TrimStop cuts a stop sequence that a server left at the end of a
// completion (TGI keeps the one it stopped on).
func TrimStop(text string, stop []string) string {
	for _, s := range stop {
		if s != "" && strings.HasSuffix(text, s) {
			return strings.TrimRightFunc(strings.TrimSuffix(text, s), func(r rune) bool { return r == ' ' || r == '\n' })
		}
	}
	return text
}
