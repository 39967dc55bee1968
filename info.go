package distill

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/store"
)

// Where a setting came from, as Info and the CLI's env command report it.
const (
	SourceOption     = "option"     // Options (the CLI's flags)
	SourceEnv        = "env"        // an environment variable
	SourceConfig     = "config"     // the configuration file
	SourceCollection = "collection" // what the collection records
	SourceDefault    = "default"
)

// embedSource says where the embedding model URI Open uses comes from,
// before the collection's recorded model is considered.
func embedSource(m Models, cfg *config.Config) string {
	switch {
	case m.Embed != "":
		return SourceOption
	case os.Getenv("DISTILL_EMBED") != "":
		return SourceEnv
	case cfg != nil && cfg.Models.Embed != "":
		return SourceConfig
	}
	return ""
}

// schemaVersioner is a store that says its schema version (the embedded store).
type schemaVersioner interface{ SchemaVersion() int }

// CollectionInfo describes a collection: where it is, what model its
// vectors come from, its splits and sizes.
type CollectionInfo struct {
	Store     string          `json:"store"`
	Schema    int             `json:"schema_version,omitempty"` // 0: the store has no versioned schema
	Embedding store.Embedding `json:"embedding"`
	// EmbedModel is the embedding model in use for this engine and
	// EmbedFrom where it came from (a Source* constant); empty offline.
	EmbedModel string        `json:"embed_model,omitempty"`
	EmbedFrom  string        `json:"embed_from,omitempty"`
	Splits     []store.Split `json:"splits"`
	Documents  int           `json:"documents"`
	Pages      int           `json:"pages"`
	Chunks     int           `json:"chunks"`
	Bytes      int64         `json:"source_bytes"` // the documents' sizes as loaded
	DiskBytes  int64         `json:"disk_bytes,omitempty"`
	Warnings   []string      `json:"warnings,omitempty"`
}

// Info describes the collection.
func (e *Engine) Info(ctx context.Context) (CollectionInfo, error) {
	info := CollectionInfo{Store: e.DB(), Splits: e.splits, Warnings: e.Warnings()}
	if info.Splits == nil {
		info.Splits = []store.Split{}
	}
	if sv, ok := e.store.(schemaVersioner); ok {
		info.Schema = sv.SchemaVersion()
	}
	if vs, ok := e.store.(store.VectorStore); ok {
		emb, err := vs.Embedding(ctx)
		if err != nil {
			return info, err
		}
		info.Embedding = emb
	}
	if e.embedder != nil {
		info.EmbedModel, info.EmbedFrom = e.embedder.Name(), e.embedFrom
	}
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return info, err
	}
	info.Documents = len(docs)
	for _, d := range docs {
		info.Pages += d.Pages
		info.Chunks += d.Chunks
		info.Bytes += d.Size
	}
	if scheme, dir := store.ParseURI(e.db); scheme == "sqlite" {
		info.DiskBytes = dirSize(dir)
	}
	return info, nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
