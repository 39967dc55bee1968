package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klippa-app/go-pdfium"
	pdferrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sync/semaphore"

	"github.com/distill-rag/distill/document"
)

// PDF reads PDF files page by page with PDFium compiled to WebAssembly
// (pure Go, no cgo). The compiled module is cached on disk (see CacheDir),
// which turns a 3 s start into well under 0.1 s on later runs.
var PDF Format = pdfFormat{}

type pdfFormat struct{}

func (pdfFormat) Name() string { return "pdf" }

var (
	poolOnce sync.Once
	pool     pdfium.Pool
	poolErr  error
	// pdfMemory is the wasm memory of one instance, fixed when the pool
	// starts; pdfBudget is reserved from by every instance in use, so that
	// concurrent PDF work is bounded by memory, not only by cores.
	pdfMemory int64
	pdfBudget *semaphore.Weighted
)

// CacheDir returns distill's cache directory: $DISTILL_CACHE_DIR, else the
// user cache directory's "distill".
func CacheDir() string {
	if d := os.Getenv("DISTILL_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "distill")
	}
	return filepath.Join(os.TempDir(), "distill-cache")
}

// PreparingPDF is what Options.Preparing hears while PDFium is compiled.
const PreparingPDF = "preparing the PDF reader (first run only; it can take a minute)"

// Pool returns the process-wide PDFium pool, starting it on first use.
func Pool() (pdfium.Pool, error) { return startPool(Options{}) }

// startPool starts the pool once; preparing hears of it when the
// compilation cache is cold, which makes the start take up to a minute.
// The memory limits of opts are fixed by the first call.
func startPool(opts Options) (pdfium.Pool, error) {
	preparing := opts.Preparing
	poolOnce.Do(func() {
		pdfMemory = opts.pdfMemory()
		pdfBudget = semaphore.NewWeighted(opts.pdfMemoryBudget())
		pages := min(pdfMemory/wasmPage, 65536)
		rc := wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithCloseOnContextDone(true).
			WithMemoryLimitPages(uint32(pages))
		dir := filepath.Join(CacheDir(), "wasm")
		if preparing != nil && !holdsFiles(dir) {
			preparing(PreparingPDF)
		}
		if err := os.MkdirAll(dir, 0o700); err == nil {
			if cache, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				rc = rc.WithCompilationCache(cache)
			}
		}
		workers := runtime.GOMAXPROCS(0)
		pool, poolErr = webassembly.Init(webassembly.Config{
			MinIdle:       0,
			MaxIdle:       workers,
			MaxTotal:      workers,
			RuntimeConfig: rc,
			// PDFium reads from memory or our reader; it gets no file system.
			FSConfig: wazero.NewFSConfig(),
		})
		if poolErr != nil {
			poolErr = fmt.Errorf("start PDFium: %w", poolErr)
		}
	})
	return pool, poolErr
}

const wasmPage = 64 << 10 // bytes in a WebAssembly memory page

// PDFReaderCompiled reports whether PDFium's compilation cache is warm, so
// that starting the PDF reader takes a moment rather than up to a minute.
func PDFReaderCompiled() bool { return holdsFiles(filepath.Join(CacheDir(), "wasm")) }

// holdsFiles reports whether dir or a directory under it holds a file: a
// compilation cache that holds none is cold.
func holdsFiles(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

func (pdfFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	p, err := startPool(opts)
	if err != nil {
		return err
	}
	// Each instance reserves its whole memory limit from the budget.
	if err := pdfBudget.Acquire(ctx, pdfMemory); err != nil {
		return err
	}
	defer pdfBudget.Release(pdfMemory)
	inst, err := p.GetInstanceWithContext(ctx)
	if err != nil {
		return fmt.Errorf("start PDFium: %w", err)
	}
	// A hostile file can keep PDFium busy; cancelling lctx (the caller, or
	// a time limit with a *LimitError as cause) kills the instance, which
	// aborts the WebAssembly call in progress.
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	docTimer := time.AfterFunc(opts.documentTime(), func() {
		cancel(&LimitError{Source: doc.Source, Limit: LimitDocumentTime, Value: opts.documentTime().String(), Option: "Options.DocumentTime"})
	})
	defer docTimer.Stop()
	done := make(chan struct{})
	killed := make(chan bool, 1)
	go func() {
		select {
		case <-lctx.Done():
			inst.Kill()
			killed <- true
		case <-done:
			killed <- false
		}
	}()
	trapped := false
	defer func() {
		close(done)
		if !<-killed {
			if trapped {
				inst.Kill() // a trapped instance is not reused
			} else {
				inst.Close()
			}
		}
	}()
	// The pages are kept until the document is read, so that its soft
	// hyphens are decided with the whole document's vocabulary.
	var pages []document.Page
	var text int64
	err = loadPDF(lctx, cancel, inst, r, size, doc, opts, func(p document.Page) error {
		text += int64(len(p.Text))
		if text > opts.documentText() {
			return &LimitError{Source: doc.Source, Page: p.Number, Limit: LimitDocumentText, Value: bytesString(opts.documentText()), Option: "Options.DocumentText"}
		}
		pages = append(pages, p)
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var lim *LimitError
	if cause := context.Cause(lctx); errors.As(cause, &lim) {
		return lim
	}
	if err != nil {
		trapped = strings.Contains(err.Error(), "wasm error")
		return err
	}
	return emitResolvingHyphens(pages, emit)
}

// emitResolvingHyphens emits a document's pages without their running
// headers, footers and page numbers (see dropFurniture), and with each soft
// hyphen decided (see hyphenResolver).
func emitResolvingHyphens(pages []document.Page, emit EmitFunc) error {
	texts := make([]string, len(pages))
	for i, p := range pages {
		texts[i] = p.Text
	}
	texts = dropFurniture(texts)
	h := newHyphenResolver(texts)
	for i, p := range pages {
		p.Text = h.resolve(texts[i])
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

func loadPDF(ctx context.Context, cancel context.CancelCauseFunc, inst pdfium.Pdfium, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	opened, err := inst.OpenDocument(&requests.OpenDocument{FileReader: io.NewSectionReader(r, 0, size), FileReaderSize: size})
	if err != nil {
		return &Error{Source: doc.Source, Reason: describePDFError(err), Err: err}
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: opened.Document})
	if meta, err := inst.FPDF_GetMetaText(&requests.FPDF_GetMetaText{Document: opened.Document, Tag: "Title"}); err == nil {
		doc.Title = strings.TrimSpace(meta.Value)
	}
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: opened.Document})
	if err != nil {
		return &Error{Source: doc.Source, Reason: describePDFError(err), Err: err}
	}
	last := count.PageCount
	if l := opts.Pages.Last(); l > 0 && l < last {
		last = l
	}
	for i := 0; i < last; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		number := i + 1
		if !opts.Pages.Contains(number) {
			if err := emit(document.Page{Number: number}); err != nil { // counted, not kept
				return err
			}
			continue
		}
		pageTimer := time.AfterFunc(opts.pageTime(), func() {
			cancel(&LimitError{Source: doc.Source, Page: number, Limit: LimitPageTime, Value: opts.pageTime().String(), Option: "Options.PageTime"})
		})
		text, err := inst.GetPageText(&requests.GetPageText{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: opened.Document, Index: i}}})
		pageTimer.Stop()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isOutOfMemory(err) {
				// PDFium aborts (a wasm "unreachable" trap) when an
				// allocation fails, which the memory limit makes it do.
				return &LimitError{Source: doc.Source, Page: number, Limit: LimitPDFMemory, Value: bytesString(pdfMemory), Option: "Options.PDFMemory"}
			}
			return &Error{Source: doc.Source, Page: number, Reason: "cannot read text: " + describePDFError(err), Err: err}
		}
		if n := opts.pageText(); int64(len(text.Text)) > n {
			return &LimitError{Source: doc.Source, Page: number, Limit: LimitPageText, Value: bytesString(n), Option: "Options.PageText"}
		}
		if err := emit(document.Page{Number: number, Text: cleanPDFText(text.Text)}); err != nil {
			return err
		}
	}
	return nil
}

// isOutOfMemory reports whether err is PDFium's abort on a failed
// allocation: a wasm "unreachable" trap.
func isOutOfMemory(err error) bool {
	return strings.Contains(err.Error(), "wasm error: unreachable")
}

func describePDFError(err error) string {
	switch {
	case errors.Is(err, pdferrors.ErrPassword), errors.Is(err, pdferrors.ErrSecurity):
		return "is encrypted (password protected); distill cannot read it"
	case errors.Is(err, pdferrors.ErrFormat), errors.Is(err, pdferrors.ErrFile):
		return "is not a readable PDF (corrupt or truncated)"
	case errors.Is(err, pdferrors.ErrPage):
		return "has a page PDFium cannot read"
	}
	return err.Error()
}

// cleanPDFText normalizes PDFium's page text: CRLF line ends become LF, a
// number range broken at a line end is mended ("300-\n400" to "300-400"),
// and the markers PDFium uses for unknown glyphs are dropped. Soft hyphens
// stay, for emitResolvingHyphens to decide with the whole document.
func cleanPDFText(s string) string {
	s = joinBrokenNumbers(normalizeNewlines(s))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case 0, 0xFFFE, 0xFFFF:
			return -1
		}
		return r
	}, s)
}
