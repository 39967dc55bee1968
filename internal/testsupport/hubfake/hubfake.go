// Package hubfake is a local stand-in for the Hugging Face hub's file API,
// for tests of model downloads. Like the real hub it answers
// /{repo}/resolve/{revision}/{path}: small files directly with their git
// blob id as ETag, large (LFS) files with a redirect to a separate CDN
// server and their sha256 in X-Linked-Etag; it reports X-Repo-Commit,
// answers 404 with X-Error-Code for missing repos and files, honours Range
// on the CDN, and can require a token.
package hubfake

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request a server received.
type Request struct {
	Server        string // "hub" or "cdn"
	Method        string
	Path          string
	Range         string
	Authorization string
}

// Hub is a fake hub with its CDN.
type Hub struct {
	URL    string // the hub's endpoint, for HF_ENDPOINT
	Commit string // reported as X-Repo-Commit
	// Token, when set, must come as "Authorization: Bearer TOKEN".
	Token string

	mu       sync.Mutex
	repos    map[string]map[string][]byte // repo → path → content
	badHash  map[string]bool              // paths whose advertised checksum is wrong
	cutAfter map[string]int               // paths whose next CDN body stops after n bytes
	requests []Request
	cdn      *httptest.Server
}

// LFSThreshold is the size from which files are served as LFS files; the
// real hub stores ONNX weights in LFS.
const LFSThreshold = 1024

// New starts a hub and its CDN, closed when the test ends.
func New(t testing.TB) *Hub {
	h := &Hub{Commit: strings.Repeat("c0ffee", 6) + "abcd", repos: map[string]map[string][]byte{}, badHash: map[string]bool{}, cutAfter: map[string]int{}}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	hub := httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.URL = hub.URL
	t.Cleanup(func() { hub.Close(); h.cdn.Close() })
	return h
}

// Add puts a file into a repository ("org/name") at revision main.
func (h *Hub) Add(repo, path string, content []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.repos[repo] == nil {
		h.repos[repo] = map[string][]byte{}
	}
	h.repos[repo][path] = content
}

// CorruptChecksum makes the hub advertise a wrong checksum for path.
func (h *Hub) CorruptChecksum(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.badHash[path] = true
}

// CutAfter makes the next CDN download of path stop after n bytes, as a
// dropped connection would.
func (h *Hub) CutAfter(path string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cutAfter[path] = n
}

// Requests returns the requests received so far.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

func (h *Hub) log(server string, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, Request{Server: server, Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")})
}

// GitBlobID is the id git (and the hub's ETag) gives a small file.
func GitBlobID(content []byte) string {
	s := sha1.New()
	fmt.Fprintf(s, "blob %d\x00", len(content))
	s.Write(content)
	return hex.EncodeToString(s.Sum(nil))
}

func sha256Hex(content []byte) string {
	s := sha256.Sum256(content)
	return hex.EncodeToString(s[:])
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.log("hub", r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// /{org}/{name}/resolve/{revision}/{path...}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	repo, revision, path := parts[0]+"/"+parts[1], parts[3], parts[4]
	if h.Token != "" && r.Header.Get("Authorization") != "Bearer "+h.Token {
		w.Header().Set("X-Error-Code", "GatedRepo")
		http.Error(w, "Access to model "+repo+" is restricted. You must have access to it and be authenticated to access it.", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	files, ok := h.repos[repo]
	content, found := files[path]
	bad := h.badHash[path]
	h.mu.Unlock()
	if !ok {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	if revision != "main" && revision != h.Commit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id: "+revision, http.StatusNotFound)
		return
	}
	if !found {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", h.Commit)
	if len(content) >= LFSThreshold {
		sum := sha256Hex(content)
		if bad {
			sum = sha256Hex(append([]byte("tampered"), content...))
		}
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		w.Header().Set("ETag", `"`+GitBlobID([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:"+sum))+`"`)
		w.Header().Set("Location", h.cdn.URL+"/repos/"+repo+"/"+sha256Hex(content)+"?path="+path)
		w.WriteHeader(http.StatusFound)
		return
	}
	etag := GitBlobID(content)
	if bad {
		etag = GitBlobID(append([]byte("tampered"), content...))
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	if r.Method == http.MethodGet {
		w.Write(content)
	}
}

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.log("cdn", r)
	path := r.URL.Query().Get("path")
	repo := strings.Join(strings.Split(strings.TrimPrefix(r.URL.Path, "/repos/"), "/")[:2], "/")
	h.mu.Lock()
	content, ok := h.repos[repo][path]
	cut, cutting := h.cutAfter[path]
	if cutting && r.Method == http.MethodGet {
		delete(h.cutAfter, path)
	}
	h.mu.Unlock()
	if !ok || !strings.HasSuffix(r.URL.Path, "/"+sha256Hex(content)) {
		http.NotFound(w, r)
		return
	}
	if cutting && r.Method == http.MethodGet {
		// Promise the whole file, send part of it, drop the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:cut])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(content))
}
