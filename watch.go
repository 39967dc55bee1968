package distill

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a watch waits after the last change before
// it syncs: long enough to take an editor's save (write a temporary file,
// rename it over the old one) or a copy of many files as one batch.
const DefaultDebounce = 500 * time.Millisecond

// WatchOptions shape a watch.
type WatchOptions struct {
	Sync SyncOptions
	// Debounce is the quiet time after a change before the changed paths
	// are synced (default DefaultDebounce). A stream of changes that never
	// pauses is still synced every 10 debounce intervals.
	Debounce time.Duration
	// OnSync is called after the first full sync and after every batch of
	// changes (from the watching goroutine).
	OnSync func(*SyncReport, error)
}

// Watch syncs dirs, then keeps them in step until ctx ends: it watches
// every directory under them (and directories created later) and, after a
// quiet Debounce, syncs the paths that changed. A lost event queue
// (overflow) makes it sync everything again. It returns nil when ctx ends,
// or an error if watching cannot start.
func (e *Engine) Watch(ctx context.Context, dirs []string, opts WatchOptions) error {
	roots, err := syncRoots(dirs)
	if err != nil {
		return err
	}
	if opts.Sync.Ingest.SourceName != nil {
		return errSyncSourceName
	}
	opts.Sync.DryRun = false
	debounce := opts.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	onSync := opts.OnSync
	if onSync == nil {
		onSync = func(*SyncReport, error) {}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Close()
	wt := &watcher{w: w, roots: roots, dirs: map[string]bool{}}
	for _, r := range roots {
		if err := wt.addTree(r); err != nil {
			return fmt.Errorf("watch %s: %w", r, err)
		}
	}
	// The first sync runs after the watches are in place, so a change made
	// while it runs is seen by the next batch.
	rep, err := e.syncScopes(ctx, roots, roots, opts.Sync)
	if ctx.Err() != nil {
		return nil
	}
	onSync(rep, err)

	pending := map[string]bool{}
	full := false
	var first time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			wt.event(ev)
			pending[filepath.Clean(ev.Name)] = true
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				full = true
			} else {
				onSync(nil, fmt.Errorf("watch: %w", err))
				continue
			}
		case <-timer.C:
			scopes := make([]string, 0, len(pending))
			for p := range pending {
				scopes = append(scopes, p)
			}
			if full {
				scopes = roots
				// Directories made while events were lost have no watch.
				for _, r := range roots {
					_ = wt.addTree(r)
				}
			}
			pending, full, first = map[string]bool{}, false, time.Time{}
			rep, err := e.syncScopes(ctx, roots, scopes, opts.Sync)
			if ctx.Err() != nil {
				return nil
			}
			onSync(rep, err)
			continue
		}
		// A change arrived: wait for quiet, but not for ever.
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		wait := debounce
		if limit := first.Add(10 * debounce).Sub(now); limit < wait {
			wait = max(limit, 0)
		}
		timer.Reset(wait)
	}
}

// watcher keeps a watch on every directory under the roots.
type watcher struct {
	w     *fsnotify.Watcher
	roots []string
	dirs  map[string]bool
}

func (wt *watcher) root(path string) string {
	for _, r := range wt.roots {
		if under(path, r) {
			return r
		}
	}
	return ""
}

// addTree watches dir and the directories below it that ingest would walk
// (not hidden ones).
func (wt *watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished or unreadable below: its files fail at ingest
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if wt.dirs[path] {
			return nil
		}
		if err := wt.w.Add(path); err != nil {
			if path == dir {
				return err
			}
			return nil
		}
		wt.dirs[path] = true
		return nil
	})
}

// event keeps the watches in step: a directory created (or moved in) is
// watched with everything below it; one removed or moved away is dropped.
func (wt *watcher) event(ev fsnotify.Event) {
	path := filepath.Clean(ev.Name)
	if ev.Has(fsnotify.Create) {
		if r := wt.root(path); r != "" && !hidden(r, path) {
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				_ = wt.addTree(path)
			}
		}
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		for d := range wt.dirs {
			if under(d, path) && !isRoot(wt.roots, d) {
				_ = wt.w.Remove(d)
				delete(wt.dirs, d)
			}
		}
	}
}

func isRoot(roots []string, d string) bool {
	for _, r := range roots {
		if r == d {
			return true
		}
	}
	return false
}
