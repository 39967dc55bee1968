package distill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
	"github.com/distill-rag/distill/store"
)

// SyncOptions shape one folder sync.
type SyncOptions struct {
	// Ingest are the options files are ingested with (metadata, limits,
	// workers, progress). SourceName must be unset: a synced document is
	// named by its absolute path, which is how sync knows it lies under a
	// directory.
	Ingest ingest.Options
	// DryRun plans and reports without changing the collection.
	DryRun bool
}

// SyncAction is what a sync does to one file or document.
type SyncAction string

// What a sync does.
const (
	SyncAdd       SyncAction = "add"
	SyncReplace   SyncAction = "replace"
	SyncRemove    SyncAction = "remove"
	SyncUnchanged SyncAction = "unchanged"
)

// SyncItem is one planned action.
type SyncItem struct {
	Action SyncAction `json:"action"`
	Source string     `json:"source"`
	DocID  string     `json:"doc_id"`
	Bytes  int64      `json:"bytes,omitempty"`
}

// SyncPlan is what a sync would do, in source order within each action.
type SyncPlan struct {
	Dirs      []string   `json:"dirs"`
	Add       []SyncItem `json:"add"`
	Replace   []SyncItem `json:"replace"`
	Remove    []SyncItem `json:"remove"`
	Unchanged []SyncItem `json:"unchanged"`
	// Failed are files that could not be read to plan them (walk or hash
	// errors); sync leaves their documents as they are.
	Failed []ingest.FileResult `json:"failed,omitempty"`
}

// SyncReport is the outcome of a sync: the plan and, unless it was a dry
// run, what applying it did.
type SyncReport struct {
	Plan   SyncPlan `json:"plan"`
	DryRun bool     `json:"dry_run,omitempty"`
	// Ingest reports the files added and replaced (nil on a dry run or
	// when there were none).
	Ingest *ingest.Report `json:"ingest,omitempty"`
	// Removed are the documents deleted because their file is gone.
	Removed []store.DocumentInfo `json:"removed"`
}

// Failures returns the files that could be neither planned nor ingested.
func (r *SyncReport) Failures() []ingest.FileResult {
	out := append([]ingest.FileResult(nil), r.Plan.Failed...)
	if r.Ingest != nil {
		out = append(out, r.Ingest.Failures()...)
	}
	return out
}

// SyncDirError is a directory that cannot be synced: missing, not a
// directory, or unreadable. Sync refuses it rather than treat it as empty,
// which would remove every document under it (an unmounted disk).
type SyncDirError struct {
	Dir    string
	Reason string
	Err    error
}

func (e *SyncDirError) Error() string { return fmt.Sprintf("sync %s: %s", e.Dir, e.Reason) }

func (e *SyncDirError) Unwrap() error { return e.Err }

// UserError marks the directory as the user's to fix.
func (e *SyncDirError) UserError() {}

// SourceNameError reports sync options that rename sources.
var errSyncSourceName = errors.New("sync: ingest.Options.SourceName must be unset (synced documents are named by their absolute path)")

// PlanSync computes what Sync would do for dirs without changing anything.
func (e *Engine) PlanSync(ctx context.Context, dirs []string, opts SyncOptions) (*SyncPlan, error) {
	roots, err := syncRoots(dirs)
	if err != nil {
		return nil, err
	}
	if opts.Ingest.SourceName != nil {
		return nil, errSyncSourceName
	}
	return e.plan(ctx, roots, roots, opts)
}

// Sync makes the collection mirror dirs: files under them that are new
// are added, changed ones replaced (each in one transaction, by the
// ingest path), and documents whose source file under them is gone are
// removed with their pages, chunks, parents, vectors and BM25 postings.
// Documents whose sources lie outside dirs are left alone. Per-file
// failures are in the report; an error means the run could not proceed
// (or was interrupted: the report then says what was done).
func (e *Engine) Sync(ctx context.Context, dirs []string, opts SyncOptions) (*SyncReport, error) {
	roots, err := syncRoots(dirs)
	if err != nil {
		return nil, err
	}
	if opts.Ingest.SourceName != nil {
		return nil, errSyncSourceName
	}
	return e.syncScopes(ctx, roots, roots, opts)
}

// syncScopes plans and applies a sync limited to scopes (paths at or under
// the roots): all of the roots for a full sync, the paths that changed
// for a watch.
func (e *Engine) syncScopes(ctx context.Context, roots, scopes []string, opts SyncOptions) (*SyncReport, error) {
	plan, err := e.plan(ctx, roots, scopes, opts)
	if err != nil {
		return nil, err
	}
	rep := &SyncReport{Plan: *plan, DryRun: opts.DryRun, Removed: []store.DocumentInfo{}}
	if opts.DryRun {
		return rep, nil
	}
	// Ingest before removing: a file renamed within the folder is never
	// missing from the collection while the run goes on.
	var paths []string
	for _, it := range append(append([]SyncItem(nil), plan.Add...), plan.Replace...) {
		paths = append(paths, it.Source)
	}
	sort.Strings(paths)
	if len(paths) > 0 {
		in := opts.Ingest
		rep.Ingest, err = e.Ingest(ctx, paths, in)
		if err != nil {
			return rep, err
		}
	}
	if len(plan.Remove) == 0 {
		return rep, nil
	}
	var ids []string
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return rep, err
	}
	byID := map[string]store.DocumentInfo{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	for _, it := range plan.Remove {
		// Look again: a file put back since the plan (an editor's save
		// during a watch) is not removed.
		if d, ok := byID[it.DocID]; ok && d.Source == it.Source && sourceGone(it.Source) {
			ids = append(ids, it.DocID)
			rep.Removed = append(rep.Removed, d)
		}
	}
	if len(ids) == 0 {
		return rep, nil
	}
	if _, err := e.store.Delete(ctx, ids...); err != nil {
		rep.Removed = []store.DocumentInfo{}
		return rep, err
	}
	return rep, nil
}

// syncRoots makes dirs absolute and clean and checks each is a directory.
func syncRoots(dirs []string) ([]string, error) {
	if len(dirs) == 0 {
		return nil, errors.New("sync: no directory given")
	}
	var roots []string
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, &SyncDirError{Dir: d, Reason: err.Error(), Err: err}
		}
		fi, err := os.Stat(abs)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, &SyncDirError{Dir: d, Reason: "no such directory", Err: err}
		case errors.Is(err, os.ErrPermission):
			return nil, &SyncDirError{Dir: d, Reason: "permission denied", Err: err}
		case err != nil:
			return nil, &SyncDirError{Dir: d, Reason: err.Error(), Err: err}
		case !fi.IsDir():
			return nil, &SyncDirError{Dir: d, Reason: "not a directory (sync mirrors directories; use ingest for files)"}
		}
		roots = append(roots, abs)
	}
	return outermost(roots), nil
}

// under reports whether path is dir or lies beneath it. Both are clean
// absolute paths; /a/b is not under /a/bc.
func under(path, dir string) bool {
	if path == dir {
		return true
	}
	if dir == string(filepath.Separator) {
		return strings.HasPrefix(path, dir)
	}
	return strings.HasPrefix(path, dir+string(filepath.Separator))
}

// outermost sorts paths and drops those under another one.
func outermost(paths []string) []string {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	var out []string
	for _, p := range sorted {
		nested := false
		for _, o := range out {
			if under(p, o) {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, p)
		}
	}
	return out
}

// hidden reports whether path, below root, has a component starting with
// a dot: ingest's walk skips those.
func hidden(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// sourceGone reports whether a document's source file no longer exists
// as a file. Only a definite absence counts: a file that cannot be read
// for another reason (permissions, I/O) keeps its document.
func sourceGone(source string) bool {
	fi, err := os.Stat(source)
	if err != nil {
		return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
	}
	return fi.IsDir()
}

// plan compares the files under scopes with the documents under them.
func (e *Engine) plan(ctx context.Context, roots, scopes []string, opts SyncOptions) (*SyncPlan, error) {
	plan := &SyncPlan{Dirs: roots, Add: []SyncItem{}, Replace: []SyncItem{}, Remove: []SyncItem{}, Unchanged: []SyncItem{}}
	var walk []string
	for _, s := range outermost(scopes) {
		root := ""
		for _, r := range roots {
			if under(s, r) {
				root = r
				break
			}
		}
		if root == "" || hidden(root, s) {
			continue
		}
		fi, err := os.Stat(s)
		switch {
		case err != nil:
			continue // gone: only its documents are planned
		case fi.IsDir(), fi.Mode().IsRegular() && loader.Supported(s):
			walk = append(walk, s)
		}
	}
	files, failed := ingest.Walk(walk)
	plan.Failed = failed
	docs, err := e.store.Documents(ctx)
	if err != nil {
		return nil, err
	}
	stored := map[string]store.DocumentInfo{}
	for _, d := range docs {
		stored[d.Source] = d
	}
	meta := opts.Ingest.StoredMeta()
	type hashed struct {
		hash string
		err  error
	}
	hashes := make([]hashed, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, ok := stored[files[i].Path()]; !ok {
					continue // new: no need to hash it
				}
				h, _, err := loader.Hash(files[i].Path())
				hashes[i] = hashed{h, err}
			}
		}()
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for i, f := range files {
		src := f.Path()
		present[src] = true
		it := SyncItem{Source: src, DocID: document.IDFor(src), Bytes: f.Size()}
		old, ok := stored[src]
		switch {
		case !ok:
			it.Action = SyncAdd
			plan.Add = append(plan.Add, it)
		case hashes[i].err != nil:
			err := &loader.Error{Source: src, Reason: hashes[i].err.Error(), Err: hashes[i].err}
			plan.Failed = append(plan.Failed, ingest.FileResult{Source: src, DocID: it.DocID, Status: ingest.Failed, Error: err.Error()})
		case ingest.Same(old, hashes[i].hash, meta):
			it.Action = SyncUnchanged
			plan.Unchanged = append(plan.Unchanged, it)
		default:
			it.Action = SyncReplace
			plan.Replace = append(plan.Replace, it)
		}
	}
	for _, d := range docs {
		if present[d.Source] || !filepath.IsAbs(d.Source) {
			continue
		}
		inScope := false
		for _, s := range scopes {
			if under(d.Source, s) {
				inScope = true
				break
			}
		}
		if inScope && sourceGone(d.Source) {
			plan.Remove = append(plan.Remove, SyncItem{Action: SyncRemove, Source: d.Source, DocID: d.ID, Bytes: d.Size})
		}
	}
	for _, items := range [][]SyncItem{plan.Add, plan.Replace, plan.Remove, plan.Unchanged} {
		sort.Slice(items, func(i, j int) bool { return items[i].Source < items[j].Source })
	}
	return plan, nil
}
