package loader

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/distill-rag/distill/document"
)

// Text reads plain text. A form feed starts a new page (pdftotext writes
// them); text without page breaks is cut into numbered sections of about
// SectionBytes at paragraph breaks, so that a huge file streams.
var Text Format = textFormat{}

type textFormat struct{}

func (textFormat) Name() string { return "text" }

func (textFormat) Load(ctx context.Context, r io.ReaderAt, size int64, doc *document.Document, opts Options, emit EmitFunc) error {
	rd, err := decodedReader(io.NewSectionReader(r, 0, size), size)
	if err != nil {
		return err
	}
	return readPages(ctx, rd, size, func(p document.Page) error {
		if doc.Title == "" && p.Number == 1 {
			doc.Title = firstLineTitle(p.Text)
		}
		return emit(p)
	})
}

// decodedReader returns a UTF-8 reader for r: a UTF-8 byte order mark is
// dropped and UTF-16 (with its byte order mark) is converted.
// size is the source's size, which bounds the buffer.
func decodedReader(r io.Reader, size int64) (io.Reader, error) {
	br := bufio.NewReaderSize(r, bufferFor(size, 1<<20))
	bom, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, nil
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}), bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(br, dec), nil
	}
	// Without a byte order mark, look at the start of the file (up to the
	// buffer, 1 MiB): NUL bytes or an executable's magic mean binary; bytes
	// that are not UTF-8 mean a legacy 8-bit encoding, read as
	// Windows-1252 (a superset of Latin-1's printable range, and what
	// "Latin-1" files from Windows actually are).
	head, _ := br.Peek(br.Size())
	if isBinary(head) {
		return nil, errBinary
	}
	if !validUTF8Prefix(head) {
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), nil
	}
	return br, nil
}

// errBinary refuses a file that is not text whatever its name says.
var errBinary = errors.New("is a binary file, not text (NUL bytes or an executable header)")

var binaryMagics = [][]byte{
	[]byte("\x7fELF"), []byte("MZ\x90\x00"), {0xCF, 0xFA, 0xED, 0xFE}, {0xCE, 0xFA, 0xED, 0xFE},
	[]byte("PK\x03\x04"), {0x1F, 0x8B}, []byte("\x89PNG"), {0xFF, 0xD8, 0xFF},
}

func isBinary(head []byte) bool {
	for _, m := range binaryMagics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return bytes.IndexByte(head, 0) >= 0
}

// validUTF8Prefix reports whether b is UTF-8 except perhaps for a rune cut
// at its end by the buffer.
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) && !utf8.FullRune(b[len(b)-cut:]) {
			return true
		}
	}
	return false
}

// readPages splits a stream into pages at form feeds and into sections of
// about SectionBytes, checking that the text is UTF-8.
// size is the stream's size (or an estimate), which bounds the buffers.
func readPages(ctx context.Context, r io.Reader, size int64, emit EmitFunc) error {
	buf := make([]byte, 0, bufferFor(size+1, SectionBytes+64<<10))
	chunk := make([]byte, bufferFor(size+1, 64<<10))
	page, offset := 1, int64(0)
	flush := func(text []byte) error {
		if err := checkUTF8(text, offset); err != nil {
			return err
		}
		offset += int64(len(text))
		p := document.Page{Number: page, Text: normalizeNewlines(string(text))}
		page++
		return emit(p)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			if i := bytes.IndexByte(buf, '\f'); i >= 0 {
				if err := flush(buf[:i]); err != nil {
					return err
				}
				offset++ // the form feed
				buf = append(buf[:0], buf[i+1:]...)
				continue
			}
			if len(buf) < SectionBytes {
				break
			}
			cut := sectionCut(buf[:SectionBytes])
			if err := flush(buf[:cut]); err != nil {
				return err
			}
			buf = append(buf[:0], buf[cut:]...)
		}
		if rerr == io.EOF {
			if len(buf) > 0 || page == 1 {
				return flush(buf)
			}
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// sectionCut picks where to end a section within b: after the last
// paragraph break, else the last line break, else the last space, else at
// a character boundary.
func sectionCut(b []byte) int {
	for _, sep := range [][]byte{[]byte("\n\n"), []byte("\n"), []byte(" ")} {
		if i := bytes.LastIndex(b, sep); i > len(b)/2 {
			return i + len(sep)
		}
	}
	i := len(b)
	for i > 0 && !utf8.RuneStart(b[i-1]) {
		i--
	}
	if i > 0 {
		i-- // keep the whole last rune for the next section
	}
	if i == 0 {
		return len(b)
	}
	return i
}

func checkUTF8(b []byte, offset int64) error {
	if utf8.Valid(b) {
		return nil
	}
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	line := 1 + bytes.Count(b[:i], []byte("\n"))
	return fmt.Errorf("is not UTF-8 text: invalid byte 0x%02x at byte %d (line %d of its page); convert it first, e.g. iconv -f WINDOWS-1252 -t UTF-8", b[i], offset+int64(i), line)
}

func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func firstLineTitle(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.TrimSpace(strings.TrimLeft(line, "#"))
	if utf8.RuneCountInString(line) > 120 || line == "" {
		return ""
	}
	return line
}

// bufferFor sizes a read buffer for a source of size bytes: the whole
// source when it is small, else limit. Buffers of the largest size for
// every small file were a sixth of the CPU of ingesting a folder of
// abstracts, in allocation and garbage collection.
func bufferFor(size int64, limit int) int {
	return int(min(max(size, 4<<10), int64(limit)))
}
