package hf

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fileInfo is what the hub says about one file before it is fetched.
type fileInfo struct {
	url    string // where the bytes are (the CDN for LFS files)
	size   int64  // -1 if unknown
	sha256 string // for LFS files (X-Linked-Etag)
	gitID  string // for small files: the git blob id (ETag)
	commit string
}

// NotFoundError reports a repository, revision or file the hub does not have.
type NotFoundError struct {
	Repo, Path string
	Code       string // the hub's X-Error-Code
}

func (e *NotFoundError) Error() string {
	switch e.Code {
	case "RepoNotFound":
		return fmt.Sprintf("hf:%s: no such model on the hub (or it is private: set HF_TOKEN)", e.Repo)
	case "RevisionNotFound":
		return fmt.Sprintf("hf:%s: no such revision", e.Repo)
	}
	return fmt.Sprintf("hf:%s: the repository has no %s", e.Repo, e.Path)
}

// UserError marks the error as the user's to fix.
func (e *NotFoundError) UserError() {}

// AccessError reports a gated or private model.
type AccessError struct {
	Repo   string
	Status int
	Token  bool // whether a token was sent
}

func (e *AccessError) Error() string {
	if e.Token {
		return fmt.Sprintf("hf:%s: the hub refused access (%d) with the token in HF_TOKEN; accept the model's terms on its page or use a token that may read it", e.Repo, e.Status)
	}
	return fmt.Sprintf("hf:%s: the model is gated or private (%d); set HF_TOKEN to a token that may read it", e.Repo, e.Status)
}

// UserError marks the error as the user's to fix.
func (e *AccessError) UserError() {}

// ChecksumError reports a download whose content is not what the hub
// advertised; the bad file is deleted.
type ChecksumError struct {
	Repo, Path string
	Want, Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("hf:%s: %s is corrupt: checksum %s, the hub says %s (deleted; pull again)", e.Repo, e.Path, e.Got, e.Want)
}

// UnreachableError reports that the hub could not be reached.
type UnreachableError struct {
	Endpoint string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s: %v", e.Endpoint, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// resolveURL is the hub's file API address of a file.
func (h *Hub) resolveURL(repo, revision, path string) string {
	return strings.TrimRight(h.endpoint(), "/") + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + escapePath(path)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// head asks the hub about a file without following redirects to the CDN,
// since the checksum is in the redirect's headers. Redirects within the
// hub (a renamed repository) are followed.
func (h *Hub) head(ctx context.Context, repo, revision, path string) (fileInfo, error) {
	target := h.resolveURL(repo, revision, path)
	client := *h.client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for range 5 {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, target, nil)
		if err != nil {
			return fileInfo{}, err
		}
		h.authorize(req)
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := client.Do(req)
		if err != nil {
			return fileInfo{}, h.unreachable(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			if resp.Header.Get("X-Error-Code") == "RepoNotFound" {
				return fileInfo{}, &NotFoundError{Repo: repo, Path: path, Code: "RepoNotFound"}
			}
			return fileInfo{}, &AccessError{Repo: repo, Status: resp.StatusCode, Token: h.token() != ""}
		case resp.StatusCode == http.StatusNotFound:
			return fileInfo{}, &NotFoundError{Repo: repo, Path: path, Code: resp.Header.Get("X-Error-Code")}
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return fileInfo{}, fmt.Errorf("hf:%s: %s: redirect without a location", repo, path)
			}
			if linked := resp.Header.Get("X-Linked-Etag"); linked != "" {
				return fileInfo{url: loc.String(), size: headerSize(resp, "X-Linked-Size"), sha256: unquoteETag(linked), commit: resp.Header.Get("X-Repo-Commit")}, nil
			}
			target = loc.String()
			continue
		case resp.StatusCode == http.StatusOK:
			fi := fileInfo{url: target, size: headerSize(resp, "Content-Length"), commit: resp.Header.Get("X-Repo-Commit")}
			etag := unquoteETag(resp.Header.Get("X-Linked-Etag"))
			if etag == "" {
				etag = unquoteETag(resp.Header.Get("ETag"))
			}
			switch len(etag) {
			case 64:
				fi.sha256 = etag
			case 40:
				fi.gitID = etag
			}
			return fi, nil
		default:
			return fileInfo{}, fmt.Errorf("hf:%s: %s: the hub answered %s", repo, path, resp.Status)
		}
	}
	return fileInfo{}, fmt.Errorf("hf:%s: %s: too many redirects", repo, path)
}

func headerSize(resp *http.Response, name string) int64 {
	n, err := strconv.ParseInt(resp.Header.Get(name), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func unquoteETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// fetch downloads a file into dest, resuming a partial download left in
// dest+".incomplete" (with an HTTP Range request) and retrying a dropped
// connection a few times; the content is checked against the hub's
// checksum before it takes its place.
func (h *Hub) fetch(ctx context.Context, repo, path string, fi fileInfo, dest string) error {
	partial := dest + ".incomplete"
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		lastErr = h.fetchOnce(ctx, fi, partial)
		if lastErr == nil {
			break
		}
		var ue *UnreachableError
		if errors.As(lastErr, &ue) && attempt == 0 {
			return lastErr
		}
	}
	if lastErr != nil {
		return fmt.Errorf("hf:%s: %s: %w", repo, path, lastErr)
	}
	if err := verify(partial, fi); err != nil {
		os.Remove(partial)
		var ce *ChecksumError
		if errors.As(err, &ce) {
			ce.Repo, ce.Path = repo, path
		}
		return err
	}
	return os.Rename(partial, dest)
}

func (h *Hub) fetchOnce(ctx context.Context, fi fileInfo, partial string) error {
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if fi.size >= 0 && have > fi.size {
		// Longer than the file: not a prefix of it.
		if err := f.Truncate(0); err != nil {
			return err
		}
		have, _ = f.Seek(0, io.SeekStart)
	}
	if fi.size >= 0 && have == fi.size {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fi.url, nil)
	if err != nil {
		return err
	}
	if sameHost(fi.url, h.endpoint()) {
		h.authorize(req) // never hand the token to the CDN
	}
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := h.client().Do(req)
	if err != nil {
		return h.unreachable(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		// The server sends the whole file: start over.
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		have = 0
	case http.StatusRequestedRangeNotSatisfiable:
		if err := f.Truncate(0); err != nil {
			return err
		}
		return fmt.Errorf("the partial download did not match; starting over")
	default:
		return fmt.Errorf("download answered %s", resp.Status)
	}
	n, err := io.Copy(f, resp.Body)
	if h.Progress != nil {
		h.Progress(filepath.Base(partial), have+n, fi.size)
	}
	if err != nil {
		return fmt.Errorf("download cut after %d bytes: %w", have+n, err)
	}
	if fi.size >= 0 && have+n != fi.size {
		return fmt.Errorf("download cut: %d of %d bytes", have+n, fi.size)
	}
	return f.Sync()
}

// verify checks a downloaded file against the hub's checksum: sha256 for
// LFS files, the git blob id for small ones.
func verify(path string, fi fileInfo) error {
	var sum hash.Hash
	var want string
	switch {
	case fi.sha256 != "":
		sum, want = sha256.New(), fi.sha256
	case fi.gitID != "":
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		sum, want = sha1.New(), fi.gitID
		fmt.Fprintf(sum, "blob %d\x00", st.Size())
	default:
		return nil // the hub gave no checksum
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(sum, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, want) {
		return &ChecksumError{Want: want, Got: got}
	}
	return nil
}

func (h *Hub) authorize(req *http.Request) {
	if t := h.token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
}

// unreachable marks network failures (no route, refused, DNS, timeout) so
// that callers can explain how to work offline.
func (h *Hub) unreachable(err error) error {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout()) {
		return &UnreachableError{Endpoint: h.endpoint(), Err: err}
	}
	return err
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}
