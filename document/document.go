// Package document owns the data types that flow through distill: a source
// Document with its Pages as loaded, and the Passages cut from them that
// retrieval, compression and answering pass along with their provenance.
package document

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Document is one source (a file or an upload) as a loader read it.
type Document struct {
	ID     string            // stable id derived from Source; see IDFor
	Source string            // absolute path, or the name an upload was given
	Title  string            // from the file's metadata or first heading, when known
	Type   string            // "pdf", "text", "markdown" or "html"
	Hash   string            // hex SHA-256 of the source bytes
	Size   int64             // bytes read from the source
	Meta   map[string]string // user metadata (--meta key=value)
}

// Page is one page of a document: a PDF page, or a section of a text file.
// Number counts from 1 in the source; pages skipped by a page range keep
// their original numbers.
type Page struct {
	Number int
	Text   string
}

// IDFor returns the document id for a source: the first 16 hex digits of
// the SHA-256 of the source name, so re-ingesting the same path keeps its id.
func IDFor(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:8])
}

// Span is a byte range [Start, End) of a page's text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Passage is a piece of a page that retrieval found, with the score of the
// stage that last ranked it and everything needed to cite it.
type Passage struct {
	ChunkID string            `json:"chunk_id"`
	DocID   string            `json:"doc_id"`
	Source  string            `json:"source"`
	Title   string            `json:"title,omitempty"`
	Page    int               `json:"page"`
	Split   string            `json:"split"`
	Start   int               `json:"start"` // byte offsets of the chunk in its page
	End     int               `json:"end"`
	Text    string            `json:"text"`
	Score   float64           `json:"score"`
	Spans   []Span            `json:"spans,omitempty"` // the parts a compressor kept, when it cut the chunk
	Meta    map[string]string `json:"meta,omitempty"`
}

// SpanSeparator joins the pieces of a passage that a compressor cut.
const SpanSeparator = " … "

// Piece is one contiguous part of a passage with its text.
type Piece struct {
	Span
	Text string
}

// Pieces returns the parts of p: the spans a compressor kept, or the whole
// chunk when it was not cut.
func (p Passage) Pieces() []Piece {
	if len(p.Spans) == 0 {
		return []Piece{{Span: Span{Start: p.Start, End: p.End}, Text: p.Text}}
	}
	out := make([]Piece, 0, len(p.Spans))
	offset := 0
	for _, sp := range p.Spans {
		n := sp.End - sp.Start
		if offset+n > len(p.Text) {
			break
		}
		out = append(out, Piece{Span: sp, Text: p.Text[offset : offset+n]})
		offset += n + len(SpanSeparator)
	}
	return out
}

// Cut returns p reduced to spans, which must lie within its pieces (others
// are ignored); the text becomes the spans' text joined by SpanSeparator.
func (p Passage) Cut(spans []Span) Passage {
	spans = append([]Span(nil), spans...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	have := p.Pieces()
	parts := make([]string, 0, len(spans))
	kept := spans[:0]
	for _, sp := range spans {
		for _, pc := range have {
			if sp.Start >= pc.Start && sp.End <= pc.End && sp.Start <= sp.End {
				parts = append(parts, pc.Text[sp.Start-pc.Start:sp.End-pc.Start])
				kept = append(kept, sp)
				break
			}
		}
	}
	q := p
	q.Spans = kept
	q.Text = strings.Join(parts, SpanSeparator)
	return q
}
