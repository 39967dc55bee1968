package loader

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// zipDoc is an opened zip container with a budget of inflated bytes, so
// that a zip bomb is refused instead of filling memory.
type zipDoc struct {
	zr     *zip.Reader
	source string
	limit  int64 // Options.ZipInflated
	budget int64
}

func openZip(r io.ReaderAt, size int64, kind, source string, opts Options) (*zipDoc, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("is not a valid %s file (its zip container cannot be read: %w)", kind, err)
	}
	if n := opts.zipEntries(); len(zr.File) > n {
		return nil, &LimitError{Source: source, Limit: LimitZipEntries, Value: fmt.Sprintf("%d (it has %d)", n, len(zr.File)), Option: "Options.ZipEntries"}
	}
	limit := opts.zipInflated()
	return &zipDoc{zr: zr, source: source, limit: limit, budget: limit}, nil
}

func zipInflatedError(source string, limit int64) error {
	return &LimitError{Source: source, Limit: LimitZipInflated, Value: bytesString(limit), Option: "Options.ZipInflated"}
}

var errNoEntry = errors.New("no such entry")

func (z *zipDoc) has(name string) bool {
	for _, f := range z.zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

// names returns the entry names with prefix, in archive order.
func (z *zipDoc) names(prefix string) []string {
	var out []string
	for _, f := range z.zr.File {
		if strings.HasPrefix(f.Name, prefix) {
			out = append(out, f.Name)
		}
	}
	return out
}

// read inflates one entry, charging it to the budget; an entry that
// inflates past the budget is refused as a zip bomb.
func (z *zipDoc) read(name string) ([]byte, error) {
	for _, f := range z.zr.File {
		if f.Name != name {
			continue
		}
		if f.UncompressedSize64 > uint64(z.budget) {
			return nil, zipInflatedError(z.source, z.limit)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, z.budget+1))
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", name, err)
		}
		if int64(len(b)) > z.budget {
			return nil, zipInflatedError(z.source, z.limit)
		}
		z.budget -= int64(len(b))
		return b, nil
	}
	return nil, fmt.Errorf("entry %s: %w", name, errNoEntry)
}

// xnode is an XML element or text node; a token walk keeps text and
// elements in document order, which office XML needs.
type xnode struct {
	name  xml.Name
	attrs []xml.Attr
	kids  []*xnode
	text  string // for text nodes (name.Local == "")
}

func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(strings.NewReader(string(b)))
	d.Strict = false
	root := &xnode{}
	stack := []*xnode{root}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 512 {
				return nil, errors.New("XML nested too deeply")
			}
			n := &xnode{name: t.Name, attrs: t.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			depth--
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			top.kids = append(top.kids, &xnode{text: string(t)})
		}
	}
	return root, nil
}

func (n *xnode) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// find returns the descendants named local, not looking inside a match.
func (n *xnode) find(local string) []*xnode {
	var out []*xnode
	var walk func(*xnode)
	walk = func(m *xnode) {
		for _, k := range m.kids {
			if k.name.Local == local {
				out = append(out, k)
				continue
			}
			walk(k)
		}
	}
	walk(n)
	return out
}

// plain returns all the text under n.
func (n *xnode) plain() string {
	var b strings.Builder
	var walk func(*xnode)
	walk = func(m *xnode) {
		if m.name.Local == "" {
			b.WriteString(m.text)
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}
