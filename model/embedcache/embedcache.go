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
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite

	"github.com/distill-rag/distill/envconfig"
	"github.com/distill-rag/distill/model"
)

// Cache is an open cache file.
type Cache struct {
	db   *sql.DB
	path string
	max  int64 // bytes of pages in use; 0: no cap
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

// Open opens (creating) the cache at path, capped at $DISTILL_CACHE_MAX
// (see envconfig.CacheMax).
func Open(path string) (*Cache, error) {
	max, err := envconfig.CacheMax()
	if err != nil {
		return nil, err
	}
	return OpenMax(path, max)
}

// OpenMax opens the cache capped at max bytes of database pages in use (0:
// no cap). Past the cap the vectors used longest ago are deleted until the
// cache is at 90% of it; their pages are reused, so the file stops growing
// rather than shrinks.
func OpenMax(path string, max int64) (*Cache, error) {
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
	// used is the last use in Unix seconds, for least-recently-used
	// eviction; caches written before it had none and start at 0.
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS embeddings (key BLOB PRIMARY KEY, vector BLOB NOT NULL, used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	var hasUsed int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('embeddings') WHERE name = 'used'`).Scan(&hasUsed); err == nil && hasUsed == 0 {
		if _, err := db.Exec(`ALTER TABLE embeddings ADD COLUMN used INTEGER NOT NULL DEFAULT 0`); err != nil {
			db.Close()
			return nil, fmt.Errorf("embedding cache %s: %w", path, err)
		}
	}
	return &Cache{db: db, path: path, max: max}, nil
}

// clock gives the time of a use, in seconds; tests step it.
var clock = func() int64 { return time.Now().Unix() }

// Usage is what the cache holds: vectors, and bytes of pages in use.
type Usage struct {
	Entries int
	Bytes   int64
}

// Usage counts the cache.
func (c *Cache) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM embeddings`).Scan(&u.Entries); err != nil {
		return u, err
	}
	var err error
	u.Bytes, err = c.pagesInUse(ctx)
	return u, err
}

func (c *Cache) pagesInUse(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := c.db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size)
	return (pages - free) * size, err
}

// Clear deletes every vector and gives the space back.
func (c *Cache) Clear(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM embeddings`); err != nil {
		return err
	}
	_, err := c.db.ExecContext(ctx, `VACUUM`)
	return err
}

// evict deletes the least recently used vectors while the pages in use
// exceed the cap, down to 90% of it.
func (c *Cache) evict(ctx context.Context) error {
	if c.max <= 0 {
		return nil
	}
	used, err := c.pagesInUse(ctx)
	if err != nil || used <= c.max {
		return err
	}
	var n int64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM embeddings`).Scan(&n); err != nil || n == 0 {
		return err
	}
	// Rows are about the same size (one model's vectors): delete the
	// share of them that brings the pages down to 90% of the cap.
	drop := n - int64(float64(n)*float64(c.max)*0.9/float64(used))
	if drop < 1 {
		drop = 1
	}
	_, err = c.db.ExecContext(ctx, `DELETE FROM embeddings WHERE key IN (SELECT key FROM embeddings ORDER BY used, key LIMIT ?)`, drop)
	return err
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
		if c.max > 0 {
			// A hit is a use; a cache that cannot note it still answers.
			_, _ = c.db.ExecContext(ctx, "UPDATE embeddings SET used = ? WHERE key IN (?"+strings.Repeat(",?", len(args)-1)+")", append([]any{clock()}, args...)...)
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
	stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO embeddings (key, vector, used) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	now := clock()
	for i, t := range texts {
		if _, err := stmt.ExecContext(ctx, key(modelName, purpose, t), encode(vecs[i]), now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return c.evict(ctx)
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
