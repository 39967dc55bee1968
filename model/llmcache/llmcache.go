// Package llmcache keeps the answers of deterministic language model calls
// (temperature 0) on disk, keyed by the model, the messages and every
// generation parameter, so that asking the same question twice costs no
// call the second time. Compression and filter calls go through it; answers
// written at a higher temperature never do.
//
// Entries are small JSON files in a directory (one per call, written
// atomically), so that several processes can share the cache without
// locking and it can be cleared by deleting the directory.
package llmcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/envconfig"
	"github.com/distill-rag/distill/model"
)

// version changes when the key or the entry format does.
const version = 1

// DefaultDir is $DISTILL_CACHE, else distill/llm in the user cache
// directory ($XDG_CACHE_HOME or ~/.cache).
func DefaultDir() string {
	if d := os.Getenv("DISTILL_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "distill", "llm")
}

// Cache is a directory of cached answers.
type Cache struct {
	dir string
	max int64 // bytes; 0: no cap

	mu      sync.Mutex
	size    int64 // bytes of entries, as this process knows them
	counted bool  // size has been counted from the directory
}

// Open opens (creating it if needed) the cache in dir, capped at
// $DISTILL_CACHE_MAX (see envconfig.CacheMax).
func Open(dir string) (*Cache, error) {
	max, err := envconfig.CacheMax()
	if err != nil {
		return nil, err
	}
	return OpenMax(dir, max)
}

// OpenMax opens the cache in dir capped at max bytes (0: no cap). Past
// the cap the least recently used entries are removed: a hit touches its
// entry's modification time, and eviction removes the oldest until the
// cache is at 90% of the cap. Several processes may share the cache; each
// counts what it writes, so the cap holds to within what the others wrote
// since it last counted.
func OpenMax(dir string, max int64) (*Cache, error) {
	// Cached answers quote the documents: owner only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("LLM cache: %w", err)
	}
	return &Cache{dir: dir, max: max}, nil
}

// Usage is what a cache holds.
type Usage struct {
	Entries int
	Bytes   int64
}

// entries lists the cache's entries, least recently used first.
func (c *Cache) entries() ([]cachedFile, error) {
	var files []cachedFile
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		files = append(files, cachedFile{p, info.Size(), info.ModTime()})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	return files, err
}

type cachedFile struct {
	path string
	size int64
	used time.Time
}

// Usage counts the cache's entries and their bytes.
func (c *Cache) Usage() (Usage, error) {
	files, err := c.entries()
	var u Usage
	for _, f := range files {
		u.Entries++
		u.Bytes += f.size
	}
	return u, err
}

// Clear removes every entry.
func (c *Cache) Clear() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(c.dir, e.Name())); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.size, c.counted = 0, true
	c.mu.Unlock()
	return nil
}

// added counts n new bytes and evicts past the cap.
func (c *Cache) added(n int64) error {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.counted {
		u, err := c.Usage()
		if err != nil {
			return err
		}
		c.size, c.counted = u.Bytes, true
	} else {
		c.size += n
	}
	if c.size <= c.max {
		return nil
	}
	files, err := c.entries()
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	target := c.max / 10 * 9
	for _, f := range files {
		if total <= target {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
	c.size = total
	return nil
}

// Dir is where the cache lives.
func (c *Cache) Dir() string { return c.dir }

// Wrap returns llm answering deterministic requests from the cache first.
func (c *Cache) Wrap(llm model.LLM) model.LLM { return &cachedLLM{LLM: llm, cache: c} }

// Cacheable reports whether a request's answer may be cached: only at
// temperature 0, where the same request gets the same answer.
func Cacheable(req model.Request) bool {
	return req.Temperature != nil && *req.Temperature == 0
}

// Key identifies a request to a model.
func Key(modelName string, req model.Request) string {
	data, _ := json.Marshal(struct {
		V           int
		Model       string
		Messages    []model.Message
		Temperature *float64
		TopP        *float64
		MaxTokens   int
		Stop        []string
	}{version, modelName, req.Messages, req.Temperature, req.TopP, req.MaxTokens, req.Stop})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

type entry struct {
	Model        string     `json:"model"`
	Text         string     `json:"text"`
	FinishReason string     `json:"finish_reason"`
	Usage        cost.Usage `json:"usage"` // what the call cost when it was made
	Created      time.Time  `json:"created"`
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key[:2], key+".json") }

// get returns the entry for key; a missing or unreadable one is a miss.
func (c *Cache) get(key string) (entry, bool) {
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return entry{}, false
	}
	var e entry
	if json.Unmarshal(data, &e) != nil {
		return entry{}, false
	}
	if c.max > 0 {
		// A hit is a use: eviction removes the least recently used.
		now := time.Now()
		_ = os.Chtimes(p, now, now)
	}
	return e, true
}

// put writes an entry atomically: a reader sees the whole file or none.
func (c *Cache) put(key string, e entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return c.added(int64(len(data)))
}

// cachedLLM answers cacheable requests from the cache. A hit reports
// Usage{Cached: 1} and no call or tokens: it cost nothing.
type cachedLLM struct {
	model.LLM
	cache *Cache
}

func (l *cachedLLM) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	return l.Stream(ctx, req, nil)
}

func (l *cachedLLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	if !Cacheable(req) {
		if onToken == nil {
			return l.LLM.Generate(ctx, req)
		}
		return l.LLM.Stream(ctx, req, onToken)
	}
	key := Key(l.LLM.Name(), req)
	if e, ok := l.cache.get(key); ok {
		if onToken != nil && e.Text != "" {
			if err := onToken(e.Text); err != nil {
				return model.Response{}, err
			}
		}
		return model.Response{Text: e.Text, FinishReason: e.FinishReason, Usage: cost.Usage{Cached: 1}}, nil
	}
	var resp model.Response
	var err error
	if onToken == nil {
		resp, err = l.LLM.Generate(ctx, req)
	} else {
		resp, err = l.LLM.Stream(ctx, req, onToken)
	}
	// An empty answer is more often a glitch than the model's last word:
	// it is not kept, so the next ask tries again.
	if err == nil && resp.Text != "" {
		// A cache that cannot be written only costs the next call.
		_ = l.cache.put(key, entry{Model: l.LLM.Name(), Text: resp.Text, FinishReason: resp.FinishReason, Usage: resp.Usage, Created: time.Now().UTC()})
	}
	return resp, err
}
