package distill

import (
	"context"
	"os"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/loader"
	"github.com/distill-rag/distill/model/embedcache"
	"github.com/distill-rag/distill/model/llmcache"
	"github.com/distill-rag/distill/store"
)

// Setting is one effective setting and where it came from (a Source*
// constant); an empty Value is not set.
type Setting struct {
	Value string `json:"value"`
	From  string `json:"from"`
}

// ConfigFile is a configuration layer, in the order they are applied.
type ConfigFile struct {
	Path   string `json:"path"` // "<built-in>" for the defaults
	From   string `json:"from"`
	Exists bool   `json:"exists"`
}

// Cache is a cache directory or file and what it holds.
type Cache struct {
	Name string `json:"name"`
	Path string `json:"path"` // empty: turned off
	From string `json:"from"`
}

// Environment is where distill finds and keeps things for a set of
// Options: the collection, configuration layers, caches and the model
// URIs in force, each with where it came from.
type Environment struct {
	Collection  Setting      `json:"collection"`
	Exists      bool         `json:"collection_exists"`
	ConfigFiles []ConfigFile `json:"config_files"`
	Caches      []Cache      `json:"caches"`
	LLM         Setting      `json:"llm"`
	Embed       Setting      `json:"embed"`
	Rerank      Setting      `json:"rerank"`
}

// Env reports the environment Open would use with opts, without opening
// or creating the collection (it only looks whether it exists, and reads
// the embedding model it records).
func Env(ctx context.Context, opts Options) (*Environment, error) {
	env := &Environment{}
	env.ConfigFiles = append(env.ConfigFiles, ConfigFile{Path: "<built-in>", From: SourceDefault, Exists: true})
	file, from := opts.ConfigFile, SourceOption
	if file == "" {
		file, from = os.Getenv("DISTILL_CONFIG"), SourceEnv
	}
	if file == "" {
		file, from = config.DefaultPath(), SourceDefault
	}
	if file != "" {
		_, err := os.Stat(file)
		env.ConfigFiles = append(env.ConfigFiles, ConfigFile{Path: file, From: from, Exists: err == nil})
	}
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	uri := StoreURI(opts, cfg)
	switch {
	case opts.Store != "" || opts.DB != "":
		env.Collection = Setting{uri, SourceOption}
	case os.Getenv("DISTILL_STORE") != "":
		env.Collection = Setting{uri, SourceEnv}
	case cfg.Store != "":
		env.Collection = Setting{uri, SourceConfig}
	case os.Getenv("DISTILL_DB") != "":
		env.Collection = Setting{uri, SourceEnv}
	default:
		env.Collection = Setting{uri, SourceDefault}
	}
	env.Exists, _ = store.Exists(ctx, uri)

	setting := func(flag, envVar, fromFile string) Setting {
		switch {
		case flag != "":
			return Setting{flag, SourceOption}
		case os.Getenv(envVar) != "":
			return Setting{os.Getenv(envVar), SourceEnv}
		case fromFile != "":
			return Setting{fromFile, SourceConfig}
		}
		return Setting{}
	}
	env.LLM = setting(opts.Models.LLM, "DISTILL_LLM", cfg.Models.LLM)
	env.Embed = setting(opts.Models.Embed, "DISTILL_EMBED", cfg.Models.Embed)
	env.Rerank = setting(opts.Models.Rerank, "DISTILL_RERANK", cfg.Models.Rerank)
	if env.Embed.Value == "" && env.Exists {
		if st, err := store.Open(ctx, uri, store.Options{}); err == nil {
			if m := recordedEmbedding(ctx, st); m != "" {
				env.Embed = Setting{m, SourceCollection}
			}
			st.Close()
		}
	}

	cacheFrom := func(envVar string) string {
		if os.Getenv(envVar) != "" {
			return SourceEnv
		}
		return SourceDefault
	}
	llmDir, llmFrom := opts.CacheDir, SourceOption
	if llmDir == "" {
		llmDir, llmFrom = llmcache.DefaultDir(), cacheFrom("DISTILL_CACHE")
	}
	if opts.NoCache {
		llmDir, llmFrom = "", SourceOption
	}
	env.Caches = []Cache{
		{Name: "llm answers", Path: llmDir, From: llmFrom},
		{Name: "embeddings", Path: embedcache.DefaultPath(), From: cacheFrom("DISTILL_EMBED_CACHE")},
		{Name: "pdf reader", Path: loader.CacheDir() + string(os.PathSeparator) + "wasm", From: cacheFrom("DISTILL_CACHE_DIR")},
	}
	return env, nil
}
