package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/store"
)

// collectionName is what a collection may be called: it is a directory
// name under the data directory, so no separators, dots or empty names.
var collectionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func checkName(name string) error {
	if !collectionName.MatchString(name) {
		ae := badRequest("collection name %q: use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit", name)
		ae.Param = "name"
		return ae
	}
	return nil
}

// collections opens the collections under a data directory on demand and
// keeps their engines open. A collection is the directory DIR/NAME holding
// collection.db; requests hold a reference to its engine so that deleting
// a collection waits for them.
type collections struct {
	dir  string
	open func(ctx context.Context, dir string, create bool) (*distill.Engine, error)

	mu     sync.Mutex
	byName map[string]*collection
}

type collection struct {
	name string
	eng  *distill.Engine
	refs sync.WaitGroup
	jobs int // running ingestion jobs, under collections.mu
}

func (cs *collections) path(name string) string { return filepath.Join(cs.dir, name) }

func (cs *collections) exists(name string) bool {
	ok, _ := store.Exists(context.Background(), cs.path(name))
	return ok
}

// acquire returns the open collection and a release function to call when
// done with it.
func (cs *collections) acquire(ctx context.Context, name string) (*collection, func(), error) {
	if err := checkName(name); err != nil {
		return nil, nil, notFound("no collection %q", name)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.byName[name]
	if !ok {
		if !cs.exists(name) {
			return nil, nil, notFound("no collection %q (create it with POST /v1/collections)", name)
		}
		eng, err := cs.open(ctx, cs.path(name), false)
		if err != nil {
			return nil, nil, fmt.Errorf("collection %s: %w", name, err)
		}
		c = &collection{name: name, eng: eng}
		cs.byName[name] = c
	}
	c.refs.Add(1)
	return c, c.refs.Done, nil
}

// create makes a new, empty collection.
func (cs *collections) create(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.byName[name]; ok || cs.exists(name) {
		return conflict("collection %q already exists", name)
	}
	if _, err := os.Stat(cs.path(name)); err == nil {
		return conflict("%s exists and is not a distill collection; choose another name", name)
	}
	eng, err := cs.open(ctx, cs.path(name), true)
	if err != nil {
		return fmt.Errorf("create collection %s: %w", name, err)
	}
	cs.byName[name] = &collection{name: name, eng: eng}
	return nil
}

// names lists the collections on disk, sorted.
func (cs *collections) names() ([]string, error) {
	entries, err := os.ReadDir(cs.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && collectionName.MatchString(e.Name()) && cs.exists(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// remove deletes a collection and its directory once the requests using
// it are done. It refuses while an ingestion job writes to it.
func (cs *collections) remove(ctx context.Context, name string) error {
	c, release, err := cs.acquire(ctx, name)
	if err != nil {
		return err
	}
	release()
	cs.mu.Lock()
	if c.jobs > 0 {
		cs.mu.Unlock()
		return conflict("collection %q has an ingestion job running; wait for it to finish", name)
	}
	delete(cs.byName, name)
	cs.mu.Unlock()
	c.refs.Wait()
	// The store removes what it made; anything else a user put in the
	// directory stays, and so does the directory then.
	return c.eng.Destroy(ctx)
}

// startJob and endJob count the ingestion jobs writing to a collection.
func (cs *collections) startJob(c *collection) {
	cs.mu.Lock()
	c.jobs++
	cs.mu.Unlock()
}

func (cs *collections) endJob(c *collection) {
	cs.mu.Lock()
	c.jobs--
	cs.mu.Unlock()
}

// closeAll closes every open engine; requests must be over.
func (cs *collections) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for name, c := range cs.byName {
		c.refs.Wait()
		c.eng.Close()
		delete(cs.byName, name)
	}
}
