package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
)

// addDocumentsRequest is the JSON form of POST documents: texts to ingest
// as documents, and server paths when the allow-list permits them.
type addDocumentsRequest struct {
	Documents []textDocument    `json:"documents"`
	Paths     []string          `json:"paths"`
	Pages     string            `json:"pages"`
	Meta      map[string]string `json:"meta"`
}

type textDocument struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// upload is what a POST documents request asks to ingest: files staged in
// a temporary directory under their upload names, and allowed server paths.
type upload struct {
	dir   string            // staging directory; removed by cleanup
	files []string          // staged file paths
	names map[string]string // staged path -> the name it was uploaded as
	paths []string          // server paths
	bytes int64             // staged bytes
	opts  ingest.Options
}

func (u *upload) cleanup() {
	if u.dir != "" {
		os.RemoveAll(u.dir)
	}
}

// sourceName names staged files by their upload name; server paths keep
// their absolute path, as the CLI names them.
func (u *upload) sourceName(p string) string {
	if n, ok := u.names[p]; ok {
		return n
	}
	return p
}

// readUpload reads a multipart or JSON request into staged files.
func (s *Server) readUpload(r *http.Request) (*upload, error) {
	dir, err := os.MkdirTemp(s.stagingRoot(), "upload-")
	if err != nil {
		return nil, fmt.Errorf("staging an upload: %w", err)
	}
	u := &upload{dir: dir, names: map[string]string{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		err = s.readMultipart(r, u)
	} else {
		err = s.readJSONUpload(r, u)
	}
	if err == nil && len(u.files) == 0 && len(u.paths) == 0 {
		err = badRequest("nothing to ingest: send files as multipart parts named \"file\", or JSON {\"documents\": [{\"name\", \"text\"}]}")
	}
	if err != nil {
		u.cleanup()
		return nil, err
	}
	return u, nil
}

// stagingRoot is where uploads wait to be ingested: in the data directory,
// so that moving them is never a copy across file systems, and hidden from
// the collection listing by its dot.
func (s *Server) stagingRoot() string {
	dir := filepath.Join(s.cfg.DataDir, ".uploads")
	os.MkdirAll(dir, 0o700)
	return dir
}

func (s *Server) readMultipart(r *http.Request, u *upload) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("multipart body: %v", err)
	}
	var pages string
	var meta []string
	fields := s.cfg.MaxBody // the fields are held in memory: all of them together at most MaxBody
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadError(err)
		}
		switch name := part.FormName(); {
		case (name == "file" || name == "files") && part.FileName() != "":
			if err := u.stage(part.FileName(), part); err != nil {
				return err
			}
		case name == "pages" || name == "meta":
			v, err := io.ReadAll(io.LimitReader(part, min(64<<10, fields)+1))
			if err != nil {
				return uploadError(err)
			}
			if fields -= int64(len(v)); fields < 0 || len(v) > 64<<10 {
				return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge,
					Message: fmt.Sprintf("the upload's %q field is over 64 KiB, or its fields together over %d bytes", name, s.cfg.MaxBody)}
			}
			if name == "pages" {
				pages = string(v)
			} else {
				meta = append(meta, string(v))
			}
		default:
			return badRequest("unexpected multipart part %q: send files as \"file\" and optional \"pages\" and \"meta\" (key=value) fields", name)
		}
	}
	m := map[string]string{}
	for _, kv := range meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return badRequest("meta %q: want key=value", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return u.setOptions(pages, m)
}

func (s *Server) readJSONUpload(r *http.Request, u *upload) error {
	var req addDocumentsRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	for i, d := range req.Documents {
		if strings.TrimSpace(d.Text) == "" {
			ae := badRequest("documents[%d] (%q): the text is empty", i, d.Name)
			ae.Param = fmt.Sprintf("documents[%d].text", i)
			return ae
		}
		if err := u.stage(d.Name, strings.NewReader(d.Text)); err != nil {
			return err
		}
	}
	for _, p := range req.Paths {
		abs, err := s.allowedPath(p)
		if err != nil {
			return err
		}
		u.paths = append(u.paths, abs)
	}
	return u.setOptions(req.Pages, req.Meta)
}

func (u *upload) setOptions(pages string, meta map[string]string) error {
	var err error
	if u.opts.Pages, err = loader.ParsePageRange(pages); err != nil {
		ae := badRequest("pages: %v", err)
		ae.Param = "pages"
		return ae
	}
	if _, ok := meta["pages"]; ok {
		return badRequest("meta: the key pages is reserved for the pages range")
	}
	if len(meta) > 0 {
		u.opts.Meta = meta
	}
	u.opts.SourceName = u.sourceName
	return nil
}

// uploadName checks the name a file was uploaded as and keeps its last
// element: a client names a document, it does not pick a server path.
func uploadName(name string) (string, error) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	switch {
	case strings.TrimSpace(name) == "" || base == "." || base == "/" || base == "..":
		return "", badRequest("a document needs a name (with an extension such as .pdf, .txt, .md or .html)")
	case len(base) > 255:
		return "", badRequest("document name %q is longer than 255 bytes", base[:40]+"…")
	case strings.IndexFunc(base, unicode.IsControl) >= 0:
		return "", badRequest("document name %q has control characters", base)
	}
	return base, nil
}

// stage writes one uploaded file under its name after checking that
// distill reads its type.
func (u *upload) stage(name string, r io.Reader) error {
	base, err := uploadName(name)
	if err != nil {
		return err
	}
	for _, n := range u.names {
		if n == base {
			return badRequest("two documents are named %q in one request", base)
		}
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return uploadError(err)
	}
	if _, err := loader.Detect(base, head[:n]); err != nil {
		return err
	}
	dir := filepath.Join(u.dir, strconv.Itoa(len(u.files)))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	p := filepath.Join(dir, base)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	written, err := io.Copy(f, io.MultiReader(bytes.NewReader(head[:n]), r))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err)
	}
	u.files = append(u.files, p)
	u.names[p] = base
	u.bytes += written
	return nil
}

// uploadError reports a failure reading the request body: over the size
// limit (413) or cut off (400).
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge,
			Message: fmt.Sprintf("the upload is over the limit of %d bytes", mbe.Limit)}
	}
	if errors.As(err, new(*slowBodyError)) {
		return err
	}
	return badRequest("reading the upload: %v", err)
}

// allowedPath resolves a server path a client asked to ingest and checks
// it lies in an allowed directory.
func (s *Server) allowedPath(p string) (string, error) {
	deny := func(format string, args ...any) error {
		return &apiError{Status: http.StatusForbidden, Type: typePermission, Message: fmt.Sprintf(format, args...), Param: "paths"}
	}
	if len(s.cfg.AllowPaths) == 0 {
		return "", deny("ingesting server paths is disabled; upload the files, or start distill serve with --allow-path DIR")
	}
	if !filepath.IsAbs(p) {
		return "", deny("path %q: give an absolute path", p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", deny("path %q is not under an allowed directory or does not exist", p)
	}
	for _, root := range s.cfg.AllowPaths {
		if rel, err := filepath.Rel(root, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return real, nil
		}
	}
	return "", deny("path %q is not under an allowed directory or does not exist", p)
}
