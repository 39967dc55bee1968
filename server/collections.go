package server

import (
	"context"
	"errors"
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

	mu       sync.Mutex
	byName   map[string]*collection
	removing map[string]bool // names being deleted: neither opened nor created
}

type collection struct {
	name string
	eng  *distill.Engine
	refs sync.WaitGroup
	jobs int // running ingestion jobs, under collections.mu
	// deleted is set, under collections.mu, when a delete took the
	// collection: no new job starts on it. writes ends then, which stops
	// the ingests running on it.
	deleted    bool
	writes     context.Context
	stopWrites context.CancelCauseFunc
}

func newCollection(name string, eng *distill.Engine) *collection {
	c := &collection{name: name, eng: eng}
	c.writes, c.stopWrites = context.WithCancelCause(context.Background())
	return c
}

// deletedError is a write that was stopped because its collection was
// deleted under it: the request fails, so that nothing answered as stored
// is lost with the collection.
type deletedError struct{ name string }

func (e *deletedError) Error() string {
	return fmt.Sprintf("collection %q was deleted while this request wrote to it; nothing it sent is kept", e.name)
}

// writeContext is parent, ended also when the collection is deleted. Every
// ingest into the collection runs under it.
func (c *collection) writeContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := context.AfterFunc(c.writes, func() { cancel(context.Cause(c.writes)) })
	return ctx, func() { stop(); cancel(nil) }
}

// writeError names a write stopped by the collection's deletion as such.
func writeError(ctx context.Context, err error) error {
	var de *deletedError
	if err != nil && errors.As(context.Cause(ctx), &de) {
		return de
	}
	return err
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
	c, err := cs.get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	c.refs.Add(1)
	return c, c.refs.Done, nil
}

// get returns the collection, opening it when it is not open yet; cs.mu
// is held.
func (cs *collections) get(ctx context.Context, name string) (*collection, error) {
	if cs.removing[name] {
		return nil, conflict("collection %q is being deleted", name)
	}
	c, ok := cs.byName[name]
	if !ok {
		if !cs.exists(name) {
			return nil, notFound("no collection %q (create it with POST /v1/collections)", name)
		}
		eng, err := cs.open(ctx, cs.path(name), false)
		if err != nil {
			return nil, fmt.Errorf("collection %s: %w", name, err)
		}
		c = newCollection(name, eng)
		cs.byName[name] = c
	}
	return c, nil
}

// create makes a new, empty collection.
func (cs *collections) create(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.removing[name] {
		return conflict("collection %q is being deleted; create it again once the delete answered", name)
	}
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
	cs.byName[name] = newCollection(name, eng)
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

// remove deletes a collection and its directory. From its start the name
// is neither opened nor created again; ingests writing to the collection
// (uploads, jobs) are stopped and fail, requests reading it finish, then
// the store's files go. Afterwards the name is free.
func (cs *collections) remove(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return notFound("no collection %q", name)
	}
	cs.mu.Lock()
	c, err := cs.get(ctx, name)
	if err != nil {
		cs.mu.Unlock()
		return err
	}
	c.deleted = true
	cs.removing[name] = true
	delete(cs.byName, name)
	cs.mu.Unlock()
	defer func() {
		cs.mu.Lock()
		delete(cs.removing, name)
		cs.mu.Unlock()
	}()
	c.stopWrites(&deletedError{name: name})
	c.refs.Wait()
	// The store removes what it made; anything else a user put in the
	// directory stays, and so does the directory then.
	return c.eng.Destroy(ctx)
}

// startJob counts an ingestion job writing to a collection and holds a
// reference for it; it fails once a delete took the collection.
func (cs *collections) startJob(c *collection) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c.deleted {
		return &deletedError{name: c.name}
	}
	c.jobs++
	c.refs.Add(1)
	return nil
}

func (cs *collections) endJob(c *collection) {
	cs.mu.Lock()
	c.jobs--
	cs.mu.Unlock()
	c.refs.Done()
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
