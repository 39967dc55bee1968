package distill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/distill-rag/distill/answer"
	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/retrieve"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/technique"
)

// Options say which collection to open and how.
type Options struct {
	// DB is the collection: a directory for the embedded store, or a store
	// URI. Empty means DefaultDB().
	DB string
	// Store is a store URI (e.g. weaviate:http://HOST:PORT?collection=X)
	// that takes precedence over DB; see StoreURI.
	Store string
	// Create makes the collection when it does not exist.
	Create bool
	// Config is the configuration; nil loads it from ConfigFile.
	Config *config.Config
	// ConfigFile is read when Config is nil; empty means the default search
	// ($DISTILL_CONFIG, then the user config directory).
	ConfigFile string
	// Models name the models to use by URI (see package model); an empty
	// field falls back to $DISTILL_LLM, $DISTILL_EMBED, $DISTILL_RERANK.
	// "none" or nothing means offline.
	Models Models
	// NoCache sends every compression and filter call to the model instead
	// of answering repeated ones from the LLM cache.
	NoCache bool
	// CacheDir is where the LLM cache lives; empty means llmcache.DefaultDir().
	CacheDir string
	// ReadOnly opens the collection for reading only: every write fails
	// with a *store.ReadOnlyError. The embedded store also opens read-only
	// by itself when it cannot write where the collection is.
	ReadOnly bool
}

// Models are model URIs, e.g. "ollama:mixtral" or "sagemaker:bge-large".
type Models struct {
	LLM    string `json:"llm,omitempty"`
	Embed  string `json:"embed,omitempty"`
	Rerank string `json:"rerank,omitempty"`
}

func (m Models) withEnv() Models {
	pick := func(v, env string) string {
		if v != "" {
			return v
		}
		return os.Getenv(env)
	}
	return Models{LLM: pick(m.LLM, "DISTILL_LLM"), Embed: pick(m.Embed, "DISTILL_EMBED"), Rerank: pick(m.Rerank, "DISTILL_RERANK")}
}

// DefaultDB returns the collection used when none is named: $DISTILL_DB,
// else "distill/default" in the user's data directory ($XDG_DATA_HOME or
// ~/.local/share).
func DefaultDB() string {
	if d := os.Getenv("DISTILL_DB"); d != "" {
		return d
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "distill", "default")
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "distill", "default")
}

// Engine answers questions from one collection. It is safe for concurrent use.
type Engine struct {
	db         string
	store      store.Store
	cfg        *config.Config
	splits     []store.Split // as the collection records them
	techniques map[string]*technique.Technique
	order      []string
	answerer   answer.Answerer
	warnings   []string

	llm      model.LLM
	embedder model.Embedder
	reranker model.Reranker
	// compressLLM is llm behind the LLM cache, for compression and filter
	// calls; nil when there is no llm.
	compressLLM model.LLM
	embedCache  io.Closer
	embedFrom   string // where the embedding model's URI came from: a Source* constant
}

// Open opens (or, with Create, creates) a collection and builds every
// configured technique, so that a configuration mistake shows at once.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	db := StoreURI(opts, cfg)
	st, err := store.Open(ctx, db, store.Options{Create: opts.Create && !opts.ReadOnly, Splits: cfg.Splits, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	e := &Engine{db: db, store: st, cfg: cfg, techniques: map[string]*technique.Technique{}}
	models := opts.Models.withEnv().withConfig(cfg.Models)
	e.embedFrom = embedSource(opts.Models, cfg)
	if models.Embed == "" {
		// Nothing named a model: use the one the collection's vectors
		// come from, so that a collection reindexed with --embed does not
		// need it again on every command. "none" still means offline.
		if models.Embed = recordedEmbedding(ctx, st); models.Embed != "" {
			e.embedFrom = SourceCollection
		}
	}
	if err := e.openModels(ctx, models); err != nil {
		e.Close()
		return nil, err
	}
	e.openCache(opts)
	if err := e.init(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) init(ctx context.Context) error {
	var err error
	if e.splits, err = e.store.Splits(ctx); err != nil {
		return err
	}
	e.warnings = append(e.warnings, splitWarnings(e.cfg.Splits, e.splits)...)
	if err := e.buildTechniques(); err != nil {
		return err
	}
	e.answerer = answer.NewExtractive(e.cfg.Answer.MaxSentences, e.cfg.Answer.MaxChars)
	if e.llm != nil {
		if e.answerer, err = llmAnswerer(e.llm, e.cfg.Answer.PromptFile); err != nil {
			return err
		}
	}
	return nil
}

// buildTechniques builds the configured techniques on the engine's store
// and models.
func (e *Engine) buildTechniques() error {
	renv := retrieve.Env{Store: e.store, Auto: "bm25", Embedder: e.embedder}
	if e.embedder != nil {
		renv.Auto = "dense" // as the study retrieved
	}
	cenv := compress.Env{LLM: e.compressLLM, Embedder: e.embedder, Reranker: e.reranker}
	for _, spec := range e.cfg.Techniques {
		t, err := technique.Build(spec, renv, cenv)
		if err != nil {
			return err
		}
		e.techniques[spec.Name] = t
		e.order = append(e.order, spec.Name)
	}
	return nil
}

func (e *Engine) openModels(ctx context.Context, m Models) error {
	var err error
	if e.llm, err = model.OpenLLM(ctx, m.LLM); err != nil {
		return err
	}
	var cache []model.OpenOption
	if !model.IsNone(m.Embed) {
		cache = e.embedCacheOption()
	}
	if e.embedder, err = model.OpenEmbedder(ctx, m.Embed, cache...); err != nil {
		return err
	}
	if e.reranker, err = model.OpenReranker(ctx, m.Rerank); err != nil {
		return err
	}
	return nil
}

// recordedEmbedding returns the model the collection's vectors come from,
// or "" when it has none (or the store does not keep vectors).
func recordedEmbedding(ctx context.Context, st store.Store) string {
	vs, ok := st.(store.VectorStore)
	if !ok {
		return ""
	}
	emb, err := vs.Embedding(ctx)
	if err != nil {
		return ""
	}
	return emb.Model
}

// splitWarnings notes where the configuration's splits differ from the
// ones the collection was built with; the collection's win until reindexed.
func splitWarnings(configured, recorded []store.Split) []string {
	var out []string
	have := map[string]store.Split{}
	for _, sp := range recorded {
		have[sp.Name] = sp
	}
	for _, sp := range configured {
		r, ok := have[sp.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("split %q is configured but the collection was built without it; run distill reindex to build it", sp.Name))
		case r != sp:
			out = append(out, fmt.Sprintf("split %q is configured as %s, but the collection was built with %s; the collection's split is used until distill reindex rebuilds it", sp.Name, describeSplit(sp), describeSplit(r)))
		}
	}
	return out
}

func describeSplit(sp store.Split) string {
	d := fmt.Sprintf("size %d, overlap %d", sp.Size, sp.Overlap)
	if sp.Parent != "" {
		d += ", cut from " + sp.Parent
	}
	if !sp.Search {
		d += ", not searched"
	}
	return d
}

// Close releases the collection.
func (e *Engine) Close() error {
	e.closeModels()
	return e.store.Close()
}

func (e *Engine) closeModels() {
	if c, ok := e.embedder.(io.Closer); ok {
		c.Close() // an in-process model's memory
	}
	if e.embedCache != nil {
		e.embedCache.Close()
	}
}

// ErrCannotDestroy is returned by Destroy for a store that cannot remove
// its collection.
var ErrCannotDestroy = errors.New("this store cannot delete its collection")

// Destroy closes the engine and deletes its collection with everything the
// store keeps for it (see store.Destroyer). The engine is unusable after.
func (e *Engine) Destroy(ctx context.Context) error {
	d, ok := e.store.(store.Destroyer)
	if !ok {
		return fmt.Errorf("collection %s: %w", e.DB(), ErrCannotDestroy)
	}
	e.closeModels()
	return d.Destroy(ctx)
}

// DB returns the collection's location, without secrets a URI may hold.
func (e *Engine) DB() string {
	if n, ok := e.store.(fmt.Stringer); ok {
		return n.String()
	}
	return e.db
}

// Store returns the collection's store.
func (e *Engine) Store() store.Store { return e.store }

// Config returns the configuration in use.
func (e *Engine) Config() *config.Config { return e.cfg }

// Warnings lists problems that do not stop the engine, such as a split that
// differs between the configuration and the collection.
func (e *Engine) Warnings() []string { return append([]string(nil), e.warnings...) }

// TechniqueInfo describes a configured technique.
type TechniqueInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Retriever   string   `json:"retriever"`
	Compressors []string `json:"compressors"`
	// Unavailable says why the technique cannot run with the models
	// configured (e.g. it needs a reranker); empty when it can.
	Unavailable string `json:"unavailable,omitempty"`
}

// Techniques lists the configured techniques in configuration order.
func (e *Engine) Techniques() []TechniqueInfo {
	var out []TechniqueInfo
	for _, name := range e.order {
		t := e.techniques[name]
		info := TechniqueInfo{Name: name, Description: t.Description, Retriever: t.Spec.Retriever.Type, Compressors: []string{}}
		for _, c := range t.Compressors {
			info.Compressors = append(info.Compressors, c.Type)
		}
		if err := t.Unavailable(); err != nil {
			info.Unavailable = err.Error()
		}
		out = append(out, info)
	}
	return out
}

// ListTechniques lists the configured techniques and whether each can run
// with the models opts and the configuration give. When the collection
// exists, its recorded embedding model counts too (as Open uses it); a
// collection that does not exist is not created.
func ListTechniques(ctx context.Context, opts Options) ([]TechniqueInfo, error) {
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	opts.Config = cfg
	if ok, err := store.Exists(ctx, StoreURI(opts, cfg)); err == nil && ok {
		opts.Create = false
		e, err := Open(ctx, opts)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		return e.Techniques(), nil
	}
	// No collection yet: list against a store that keeps vectors, as the
	// one that ingest would create does. Nothing runs on it.
	e := &Engine{cfg: cfg, store: struct{ store.VectorStore }{}, techniques: map[string]*technique.Technique{}}
	defer e.closeModels()
	if err := e.openModels(ctx, opts.Models.withEnv().withConfig(cfg.Models)); err != nil {
		return nil, err
	}
	if err := e.buildTechniques(); err != nil {
		return nil, err
	}
	return e.Techniques(), nil
}

// TechniqueUnavailableError says that a configured technique cannot run
// with the models in force (e.g. a dense retriever with no embedding model).
// Err says which stage needs what.
type TechniqueUnavailableError struct {
	Technique string
	Err       error
}

func (e *TechniqueUnavailableError) Error() string { return e.Err.Error() }

func (e *TechniqueUnavailableError) Unwrap() error { return e.Err }

// UserError marks the error as the user's to fix (give the model).
func (e *TechniqueUnavailableError) UserError() {}

// unavailable returns the technique's TechniqueUnavailableError, or nil.
func unavailable(t *technique.Technique) error {
	if err := t.Unavailable(); err != nil {
		return &TechniqueUnavailableError{Technique: t.Name, Err: err}
	}
	return nil
}

// UnknownTechniqueError names a technique that is not configured.
type UnknownTechniqueError struct {
	Name  string
	Known []string
}

func (e *UnknownTechniqueError) Error() string {
	return fmt.Sprintf("unknown technique %q (configured: %s)", e.Name, strings.Join(e.Known, ", "))
}

// UserError marks a mistake in the user's input.
func (e *UnknownTechniqueError) UserError() {}

func (e *Engine) technique(name string) (*technique.Technique, error) {
	t, ok := e.techniques[name]
	if !ok {
		return nil, &UnknownTechniqueError{Name: name, Known: e.order}
	}
	return t, nil
}

// ErrEmptyQuestion is returned for a blank question.
var ErrEmptyQuestion = errors.New("the question is empty")
