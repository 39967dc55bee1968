// Package ingest owns getting files into a collection: walking paths,
// skipping files whose content and options have not changed, loading
// pages, cutting them into the collection's splits, and writing each
// document in one transaction, so that a failure leaves nothing
// half-written and other files in the same run still go in.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/loader"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/split"
	"github.com/distill-rag/distill/store"
)

// Options shape one ingestion run.
type Options struct {
	Pages    loader.PageRange
	Meta     map[string]string
	MaxBytes int64
	MaxPages int
	// Workers load files in parallel; 0 means GOMAXPROCS + 1. Writes are
	// serialized by the store either way, and a worker waiting to write
	// uses no processor, so one more worker than processors keeps them
	// busy analyzing the next file.
	Workers int
	// Progress, when set, is called after each file (from any goroutine,
	// one call at a time).
	Progress func(Progress)
	// SourceName, when set, names the document read from a file instead of
	// its absolute path; the server names uploads by the name they were
	// given rather than by the temporary file holding them.
	SourceName func(path string) string
	// Preparing, when set, hears of one-time work that holds up the first
	// file (see loader.Options).
	Preparing func(what string)
	// Limits are the loader's limits against hostile files (the Limit
	// fields of loader.Options: PDFMemory, PageTime, ZipInflated, ...;
	// docs/reliability.md); its Pages, MaxBytes, MaxPages and Preparing are
	// ignored in favour of the fields above. Zero fields take the defaults.
	Limits loader.Options
}

// Progress tells how far a run is.
type Progress struct {
	Done, Total int
	DoneBytes   int64
	TotalBytes  int64
	File        FileResult
}

// Status is what happened to one file.
type Status string

// Statuses of a file.
const (
	Added     Status = "added"
	Updated   Status = "updated"
	Unchanged Status = "unchanged"
	Failed    Status = "failed"
	// Interrupted is a file whose run was cancelled while it was being
	// written: nothing of it was stored, and running again ingests it.
	Interrupted Status = "interrupted"
)

// FileResult reports one file.
type FileResult struct {
	Source string `json:"source"`
	DocID  string `json:"doc_id,omitempty"`
	Status Status `json:"status"`
	Pages  int    `json:"pages,omitempty"`
	Chunks int    `json:"chunks,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Error  string `json:"error,omitempty"`
	err    error
	// cancelled is a failure that came back after the run was cancelled.
	cancelled bool
}

// Err returns the failure, if any.
func (r FileResult) Err() error { return r.err }

// Report is the outcome of a run, in the order files were named and walked.
type Report struct {
	Files []FileResult `json:"files"`
	// NotStarted counts the files a cancelled run never reached; they are
	// not in Files.
	NotStarted int `json:"not_started,omitempty"`
	// Skipped lists the files a directory held that distill does not read
	// (hidden files and directories are passed over without a word).
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is a file passed over, and why.
type Skipped struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// Count returns how many files ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, f := range r.Files {
		if f.Status == s {
			n++
		}
	}
	return n
}

// Failures returns the failed files.
func (r *Report) Failures() []FileResult {
	var out []FileResult
	for _, f := range r.Files {
		if f.Status == Failed {
			out = append(out, f)
		}
	}
	return out
}

// Ingester writes files into a store.
type Ingester struct {
	Store  store.Store
	Splits []store.Split
	// Embedder, when set, embeds the chunks of searched splits before each
	// document's transaction commits; the store must be a
	// store.VectorWriter.
	Embedder model.Embedder
}

// smallFile is the size under which a file is loaded and split completely
// before its write transaction starts, so other writers wait only for the
// database writes. Larger files stream into an open transaction.
const smallFile = 64 << 20

// Ingest ingests paths (files, or directories walked recursively for the
// types distill reads). It returns an error only when the run as a whole
// cannot proceed; per-file failures are in the report.
func (in *Ingester) Ingest(ctx context.Context, paths []string, opts Options) (*Report, error) {
	if err := CheckSplits(in.Splits); err != nil {
		return nil, err
	}
	if err := in.checkEmbedding(ctx); err != nil {
		return nil, err
	}
	files, early, skipped := walk(paths)
	if len(files) > 1 {
		defer in.Bulk(ctx)()
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	results := make([]FileResult, len(files))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0) + 1
	}
	var (
		mu        sync.Mutex
		done      int
		doneBytes int64
		next      = make(chan int)
		wg        sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res := in.ingestFile(ctx, files[i].path, files[i].size, opts)
				// A file that fails once the run is cancelled was cut off,
				// whatever its error says: SQLite reports an interrupted
				// statement as "interrupted (9)", not as the context's error.
				res.cancelled = res.Status == Failed && ctx.Err() != nil
				results[i] = res
				if opts.Progress != nil {
					mu.Lock()
					done++
					doneBytes += files[i].size
					opts.Progress(Progress{Done: done, Total: len(files), DoneBytes: doneBytes, TotalBytes: total, File: res})
					mu.Unlock()
				}
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
	rep := &Report{Files: append([]FileResult{}, early...), Skipped: skipped}
	interrupted := ctx.Err() != nil
	for _, r := range results {
		switch {
		case r.Source == "":
			rep.NotStarted++ // never handed to a worker
			continue
		case interrupted && r.Status == Failed && (r.cancelled || errors.Is(r.err, ctx.Err())):
			r.Status = Interrupted // rolled back; a re-run does it
		}
		rep.Files = append(rep.Files, r)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// bulkWriter is a store that can put off index upkeep over a run of many
// documents (the embedded store merges its BM25 segments once at the end
// instead of after every document).
type bulkWriter interface {
	BeginBulk(ctx context.Context) (end func(context.Context) error, err error)
}

// Bulk starts a bulk run when the store has them, and returns what
// ends it. Upkeep that fails, or is cut short by an interrupt, is only
// postponed: later writes do it.
func (in *Ingester) Bulk(ctx context.Context) func() {
	bw, ok := in.Store.(bulkWriter)
	if !ok {
		return func() {}
	}
	end, err := bw.BeginBulk(ctx)
	if err != nil && ctx.Err() != nil {
		return func() {} // interrupted: the run stops anyway
	}
	if err != nil {
		slog.Warn("bulk write not started; indexes are kept up after every document", "err", err)
		return func() {}
	}
	return func() {
		if err := end(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("index upkeep after the run failed; later writes retry it", "err", err)
		}
	}
}

type file struct {
	path string
	size int64
}

// Path is the file's absolute path.
func (f file) Path() string { return f.path }

// Size is the file's size in bytes when it was walked.
func (f file) Size() int64 { return f.size }

// Walk expands paths into the files to ingest, sorted within each
// directory; paths that cannot be read come back as failures.
func Walk(paths []string) ([]file, []FileResult) {
	files, failed, _ := walk(paths)
	return files, failed
}

// walk is Walk that also returns the files of a type distill does not
// read. A file named on its own is always tried: its first bytes may say
// what it is.
func walk(paths []string) ([]file, []FileResult, []Skipped) {
	var files []file
	var failed []FileResult
	var skipped []Skipped
	seen := map[string]bool{}
	add := func(path string, size int64) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if !seen[path] {
			seen[path] = true
			files = append(files, file{path, size})
		}
	}
	fail := func(path string, err error) {
		failed = append(failed, FileResult{Source: path, Status: Failed, Error: err.Error(), err: err})
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			fail(p, &loader.Error{Source: p, Reason: describe(err), Err: err})
			continue
		}
		if !fi.IsDir() {
			add(p, fi.Size())
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				fail(path, &loader.Error{Source: path, Reason: describe(err), Err: err})
				return nil
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if !loader.Supported(path) {
				reason := "unsupported type"
				if ext := strings.ToLower(filepath.Ext(name)); ext != "" {
					reason += " " + ext
				}
				skipped = append(skipped, Skipped{Source: path, Reason: reason})
				return nil
			}
			info, err := d.Info()
			if err != nil {
				fail(path, err)
				return nil
			}
			add(path, info.Size())
			return nil
		})
		if err != nil {
			fail(p, err)
		}
	}
	return files, failed, skipped
}

func describe(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// StoredMeta is the metadata a document ingested with these options
// records: the --meta pairs and, when pages were trimmed, their range.
func (o Options) StoredMeta() map[string]string {
	meta := maps.Clone(o.Meta)
	if !o.Pages.All() {
		if meta == nil {
			meta = map[string]string{}
		}
		meta["pages"] = o.Pages.String()
	}
	return meta
}

// Same reports whether a stored document is what ingesting content with
// this hash and stored metadata would write, so ingesting it is a no-op.
func Same(stored store.DocumentInfo, hash string, meta map[string]string) bool {
	return stored.Hash == hash && maps.Equal(stored.Meta, meta)
}

// ingestFile ingests one file and reports it; it never returns an error.
func (in *Ingester) ingestFile(ctx context.Context, path string, size int64, opts Options) FileResult {
	source := path
	if opts.SourceName != nil {
		source = opts.SourceName(path)
	}
	res := FileResult{Source: source, DocID: document.IDFor(source), Bytes: size}
	fail := func(err error) FileResult {
		res.Status, res.err = Failed, err
		res.Error = err.Error()
		return res
	}
	hash, n, err := loader.Hash(path)
	if err != nil {
		return fail(&loader.Error{Source: source, Reason: describe(err), Err: err})
	}
	meta := opts.StoredMeta()
	doc := document.Document{ID: res.DocID, Source: source, Hash: hash, Size: n, Meta: meta}
	old, err := in.Store.Document(ctx, source)
	switch {
	case err == nil && Same(old, hash, meta):
		res.Status, res.Pages, res.Chunks = Unchanged, old.Pages, old.Chunks
		return res
	case err == nil:
		res.Status = Updated
	case errors.Is(err, store.ErrNotFound):
		res.Status = Added
	default:
		return fail(err)
	}
	pages, chunks, err := in.write(ctx, path, n, &doc, opts)
	if err != nil {
		return fail(err)
	}
	res.Pages, res.Chunks = pages, chunks
	return res
}

// write loads, splits and stores one document in one transaction.
func (in *Ingester) write(ctx context.Context, path string, size int64, doc *document.Document, opts Options) (pages, chunks int, err error) {
	lopts := opts.Limits
	lopts.Pages, lopts.MaxBytes, lopts.MaxPages, lopts.Preparing = opts.Pages, opts.MaxBytes, opts.MaxPages, opts.Preparing
	stream := size >= smallFile
	var w store.DocumentWriter
	defer func() {
		if w != nil && err != nil {
			w.Rollback()
		}
	}()
	put := func(pg page) error {
		if stream {
			if err := in.embed(ctx, path, pg.p.Text, pg.chunks); err != nil {
				return err
			}
		}
		if w == nil {
			if w, err = in.begin(ctx, *doc); err != nil {
				return err
			}
		}
		pages++
		chunks += len(pg.chunks)
		return w.AddPage(ctx, pg.p, pg.chunks)
	}
	var buffered []page
	err = loader.LoadFile(ctx, path, doc, lopts, func(p document.Page) error {
		pg := page{p, Chunks(in.Splits, p.Text)}
		if stream {
			return put(pg)
		}
		buffered = append(buffered, pg)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if err = in.embedDocument(ctx, path, buffered); err != nil {
		return 0, 0, err
	}
	for _, pg := range buffered {
		if err = put(pg); err != nil {
			return 0, 0, err
		}
	}
	if w == nil {
		return 0, 0, &loader.Error{Source: doc.Source, Reason: "has no text"}
	}
	if err = w.Commit(ctx); err != nil {
		return 0, 0, err
	}
	return pages, chunks, nil
}

// Chunks cuts a page's text into every split, parents before the splits
// cut from them. A child's Parent indexes its parent in the result.
func Chunks(splits []store.Split, text string) []store.Chunk {
	var out []store.Chunk
	for _, sp := range Ordered(splits) {
		s := split.Splitter{Size: sp.Size, Overlap: sp.Overlap}
		if sp.Parent == "" {
			for _, c := range s.Split(text) {
				out = append(out, store.Chunk{Split: sp.Name, Start: c.Start, End: c.End, Parent: -1})
			}
			continue
		}
		n := len(out)
		for i := 0; i < n; i++ {
			parent := out[i]
			if parent.Split != sp.Parent {
				continue
			}
			for _, c := range s.Split(text[parent.Start:parent.End]) {
				out = append(out, store.Chunk{Split: sp.Name, Start: parent.Start + c.Start, End: parent.Start + c.End, Parent: i})
			}
		}
	}
	return out
}

// Ordered returns splits with every parent before its children.
func Ordered(splits []store.Split) []store.Split { return store.ParentsFirst(splits) }

// CheckSplits reports splits that cannot be built: bad sizes, unknown or
// circular parents.
func CheckSplits(splits []store.Split) error {
	names := map[string]bool{}
	for _, sp := range splits {
		if err := (split.Splitter{Size: sp.Size, Overlap: sp.Overlap}).Validate(); err != nil {
			return fmt.Errorf("split %s: %w", sp.Name, err)
		}
		names[sp.Name] = true
	}
	for _, sp := range splits {
		if sp.Parent != "" && !names[sp.Parent] {
			return fmt.Errorf("split %s: parent split %q does not exist", sp.Name, sp.Parent)
		}
	}
	if len(Ordered(splits)) != len(splits) {
		var cyc []string
		for _, sp := range splits {
			cyc = append(cyc, sp.Name)
		}
		sort.Strings(cyc)
		return fmt.Errorf("splits %s: their parents form a cycle", strings.Join(cyc, ", "))
	}
	return nil
}
