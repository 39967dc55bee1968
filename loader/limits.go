package loader

import (
	"fmt"
	"time"
)

// Limits that refuse hostile files (docs/reliability.md lists them). A zero
// field in Options means the default.
const (
	// DefaultPDFMemory is the WebAssembly memory one PDFium instance may
	// grow to. A real 2,000-page PDF needs well under 256 MiB.
	DefaultPDFMemory = 1 << 30
	// DefaultPDFMemoryBudget is the wasm memory all PDFium instances may
	// hold at once; each instance reserves its PDFMemory from it, so at most
	// budget/PDFMemory PDFs are read at once (and never more than
	// GOMAXPROCS).
	DefaultPDFMemoryBudget = 4 << 30
	// DefaultPageTime bounds PDFium's work on one page.
	DefaultPageTime = 30 * time.Second
	// DefaultDocumentTime bounds PDFium's work on one document.
	DefaultDocumentTime = 30 * time.Minute
	// DefaultPageText bounds the text of one page.
	DefaultPageText = 16 << 20
	// DefaultDocumentText bounds the text of one document.
	DefaultDocumentText = 1 << 30
	// DefaultZipEntries bounds the entries of a zip container (docx, odt,
	// pptx, xlsx).
	DefaultZipEntries = 10000
	// DefaultZipInflated bounds the inflated bytes read from one zip
	// container.
	DefaultZipInflated = 512 << 20
)

// Kept for callers of the former constants.
const (
	MaxZipEntries  = DefaultZipEntries
	MaxZipInflated = DefaultZipInflated
)

// Limit names, in LimitError.Limit.
const (
	LimitPDFMemory    = "PDF memory"
	LimitPageTime     = "page time"
	LimitDocumentTime = "document time"
	LimitPageText     = "page text"
	LimitDocumentText = "document text"
	LimitZipEntries   = "zip entries"
	LimitZipInflated  = "zip inflated size"
)

// LimitError is a file refused because reading it hit a limit: a PDF or zip
// bomb, or a file larger than the limits allow. Page is 0 when the limit is
// not about one page.
type LimitError struct {
	Source string
	Page   int
	Limit  string // one of the Limit* names
	Value  string // the limit's value, as "1 GiB" or "30s"
	Option string // the loader.Options field that raises it
}

func (e *LimitError) Error() string {
	where := e.Source
	if e.Page > 0 {
		where = fmt.Sprintf("%s: page %d", e.Source, e.Page)
	}
	return fmt.Sprintf("%s: refused: hit the %s limit of %s (a decompression bomb? raise %s if the file is genuine)", where, e.Limit, e.Value, e.Option)
}

func (o Options) pdfMemory() int64 { return orDefault(o.PDFMemory, DefaultPDFMemory) }
func (o Options) pdfMemoryBudget() int64 {
	return max(orDefault(o.PDFMemoryBudget, DefaultPDFMemoryBudget), o.pdfMemory())
}
func (o Options) pageTime() time.Duration     { return orDefault(o.PageTime, DefaultPageTime) }
func (o Options) documentTime() time.Duration { return orDefault(o.DocumentTime, DefaultDocumentTime) }
func (o Options) pageText() int64             { return orDefault(o.PageText, DefaultPageText) }
func (o Options) documentText() int64         { return orDefault(o.DocumentText, DefaultDocumentText) }
func (o Options) zipEntries() int             { return orDefault(o.ZipEntries, DefaultZipEntries) }
func (o Options) zipInflated() int64          { return orDefault(o.ZipInflated, DefaultZipInflated) }

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// bytesString writes n bytes for a message: "1 GiB", "512 MiB", "1000 bytes".
func bytesString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
