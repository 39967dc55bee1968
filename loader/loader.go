// Package loader reads source files into documents and pages: PDF (one page
// per PDF page, through PDFium compiled to WebAssembly), plain text,
// Markdown, HTML (as clean text), office documents (docx, odt, pptx,
// xlsx) and CSV; docs/formats.md lists what each keeps. Loaders stream pages to a callback so
// that a large file never has to fit in memory at once.
package loader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distill-rag/distill/document"
)

// Options limit and shape what a loader reads.
type Options struct {
	Pages    PageRange // pages to keep; empty keeps all
	MaxBytes int64     // largest source accepted; 0 means DefaultMaxBytes
	MaxPages int       // most pages accepted; 0 means DefaultMaxPages
	// Preparing, when set, hears of one-time work that makes the first
	// file slow (compiling the PDF reader into a cold cache), so that a
	// caller can say why nothing moves.
	Preparing func(what string)

	// Limits against hostile files; 0 means the Default* constant. See
	// docs/reliability.md.
	PDFMemory       int64         // wasm memory of one PDFium instance (DefaultPDFMemory); fixed by the first PDF read in a process
	PDFMemoryBudget int64         // wasm memory of all PDFium instances at once (DefaultPDFMemoryBudget)
	PageTime        time.Duration // PDFium's time on one page (DefaultPageTime)
	DocumentTime    time.Duration // PDFium's time on one document (DefaultDocumentTime)
	PageText        int64         // bytes of text of one page (DefaultPageText)
	DocumentText    int64         // bytes of text of one document (DefaultDocumentText)
	ZipEntries      int           // entries of a zip container (DefaultZipEntries)
	ZipInflated     int64         // inflated bytes read from one zip container (DefaultZipInflated)
}

// Defaults for Options.
const (
	DefaultMaxBytes = 2 << 30 // 2 GiB
	DefaultMaxPages = 20000
	// SectionBytes is the size near which text without page breaks is cut
	// into numbered sections, so a huge text file streams page by page.
	SectionBytes = 256 << 10
)

// EmitFunc receives pages in order. The document's title may be set by the
// time the first page arrives.
type EmitFunc func(page document.Page) error

// Format reads one kind of file.
type Format interface {
	// Name is the document type recorded for the format ("pdf", ...).
	Name() string
	// Load reads r (size bytes) and emits its pages. It may set doc.Title.
	Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error
}

// Error is a problem with one source file; the CLI prints it as is.
type Error struct {
	Source string
	Page   int // 0 when the problem is not on one page
	Reason string
	Err    error // the underlying cause, if any
}

func (e *Error) Error() string {
	if e.Page > 0 {
		return fmt.Sprintf("%s: page %d: %s", e.Source, e.Page, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Source, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported marks a file whose type distill cannot read.
var ErrUnsupported = errors.New("unsupported file type")

var formats = map[string]Format{
	".pdf":      PDF,
	".txt":      Text,
	".text":     Text,
	".md":       Markdown,
	".markdown": Markdown,
	".html":     HTML,
	".htm":      HTML,
	".xhtml":    HTML,
	".docx":     DOCX,
	".odt":      ODT,
	".pptx":     PPTX,
	".xlsx":     XLSX,
	".csv":      CSV,
}

// Supported reports whether path has an extension distill reads; walking a
// directory skips other files.
func Supported(path string) bool {
	_, ok := formats[strings.ToLower(filepath.Ext(path))]
	return ok
}

// Detect picks the format for a file from its extension, falling back to
// its first bytes for files without a known extension.
func Detect(name string, head []byte) (Format, error) {
	if f, ok := formats[strings.ToLower(filepath.Ext(name))]; ok {
		return f, nil
	}
	switch {
	case len(head) >= 5 && string(head[:5]) == "%PDF-":
		return PDF, nil
	case looksLikeHTML(head):
		return HTML, nil
	case filepath.Ext(name) == "" && looksLikeText(head):
		return Text, nil
	}
	ext := filepath.Ext(name)
	if ext == "" {
		ext = "without an extension"
	}
	return nil, &Error{Source: name, Reason: fmt.Sprintf("unsupported file type %s (distill reads .pdf, .txt, .md, .html, .docx, .odt, .pptx, .xlsx and .csv; see docs/formats.md)", ext), Err: ErrUnsupported}
}

func looksLikeHTML(head []byte) bool {
	h := strings.ToLower(strings.TrimSpace(string(head)))
	return strings.HasPrefix(h, "<!doctype html") || strings.HasPrefix(h, "<html")
}

func looksLikeText(head []byte) bool {
	for _, c := range head {
		if c == 0 {
			return false
		}
	}
	return len(head) > 0
}

// Hash returns the hex SHA-256 of a file and its size, reading it as a stream.
func Hash(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, bufferFor(size, 1<<20)))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// LoadFile reads the file at path. doc must carry the Source, Hash and Size;
// Load fills Type and Title.
func LoadFile(ctx context.Context, path string, doc *document.Document, opts Options, emit EmitFunc) error {
	f, err := os.Open(path)
	if err != nil {
		return &Error{Source: path, Reason: describeOSError(err), Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &Error{Source: path, Reason: describeOSError(err), Err: err}
	}
	if fi.IsDir() {
		return &Error{Source: path, Reason: "is a directory"}
	}
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	format, err := Detect(path, head[:n])
	if err != nil {
		return err
	}
	return Load(ctx, format, f, fi.Size(), doc, opts, emit)
}

// Load reads r with format, enforcing the size and page limits of opts and
// naming doc.Source in every error.
func Load(ctx context.Context, format Format, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if size > maxBytes {
		return &Error{Source: doc.Source, Reason: fmt.Sprintf("is %d bytes, over the limit of %d (raise --max-bytes)", size, maxBytes)}
	}
	if size == 0 {
		return &Error{Source: doc.Source, Reason: "is empty"}
	}
	doc.Type = format.Name()
	maxPages := opts.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	pages, kept := 0, 0
	err := format.Load(ctx, r, size, doc, opts, func(p document.Page) error {
		pages++
		if p.Number > maxPages {
			return &Error{Source: doc.Source, Reason: fmt.Sprintf("has more than %d pages (raise --max-pages)", maxPages)}
		}
		if !opts.Pages.Contains(p.Number) || strings.TrimSpace(p.Text) == "" {
			return nil
		}
		kept++
		return emit(p)
	})
	if err != nil {
		var le *Error
		var lim *LimitError
		if errors.As(err, &lim) {
			return lim // it names the file and page itself
		}
		if errors.As(err, &le) || ctx.Err() != nil {
			return err
		}
		return &Error{Source: doc.Source, Reason: err.Error(), Err: err}
	}
	if kept == 0 {
		switch {
		case pages == 0:
			return &Error{Source: doc.Source, Reason: "has no pages"}
		case !opts.Pages.All():
			return &Error{Source: doc.Source, Reason: fmt.Sprintf("has no text on pages %s (it has %d pages)", opts.Pages, pages)}
		case format == PDF:
			return &Error{Source: doc.Source, Reason: "has no extractable text (a scanned PDF? distill does not do OCR)"}
		default:
			return &Error{Source: doc.Source, Reason: "has no text"}
		}
	}
	return nil
}

func describeOSError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
