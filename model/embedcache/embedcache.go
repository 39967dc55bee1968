// Package embedcache is the persistent embedding cache: a small SQLite file
// (by default the user cache directory's distill/embeddings.db, or
// $DISTILL_EMBED_CACHE; "off" disables it) mapping a hash of model,
// purpose and text to the vector, so re-ingesting or re-indexing never pays
// for an embedding twice. It implements model.EmbedCache.
package embedcache

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // pure-Go SQLite

	"github.com/distill-rag/distill/model"
)

// Cache is an open cache file.
type Cache struct {
	db   *sql.DB
	path string
}

// DefaultPath is where the cache lives unless $DISTILL_EMBED_CACHE says
// otherwise; "" means the cache is off.
func DefaultPath() string {
	if p := os.Getenv("DISTILL_EMBED_CACHE"); p != "" {
		if p == "off" {
			return ""
		}
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "distill", "embeddings.db")
}

// Open opens (creating) the cache at path.
func Open(path string) (*Cache, error) {
	// The cache keys are hashes of document text, but the vectors leak
	// it too: owner only, and SQLite gives its -wal the file's mode.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS embeddings (key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	return &Cache{db: db, path: path}, nil
}

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

func key(modelName string, purpose model.Purpose, text string) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", modelName, purpose)
	h.Write([]byte(text))
	return h.Sum(nil)
}

// Get returns the cached vectors, nil where there is none.
func (c *Cache) Get(ctx context.Context, modelName string, purpose model.Purpose, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	const chunk = 500 // SQLite's variable limit is far above; this keeps statements small
	for start := 0; start < len(texts); start += chunk {
		end := min(start+chunk, len(texts))
		args := make([]any, 0, end-start)
		at := map[string][]int{}
		for i := start; i < end; i++ {
			k := key(modelName, purpose, texts[i])
			at[string(k)] = append(at[string(k)], i)
			args = append(args, k)
		}
		rows, err := c.db.QueryContext(ctx, "SELECT key, vector FROM embeddings WHERE key IN (?"+strings.Repeat(",?", len(args)-1)+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k, blob []byte
			if err := rows.Scan(&k, &blob); err != nil {
				rows.Close()
				return nil, err
			}
			v := decode(blob)
			for _, i := range at[string(k)] {
				out[i] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Put stores vectors.
func (c *Cache) Put(ctx context.Context, modelName string, purpose model.Purpose, texts []string, vecs [][]float32) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, t := range texts {
		if _, err := stmt.ExecContext(ctx, key(modelName, purpose, t), encode(vecs[i])); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func encode(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decode(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
