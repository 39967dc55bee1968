// Package hf fetches models from the Hugging Face hub into a local cache
// and opens them in-process with package onnx: "hf:ORG/NAME" as an
// embedding model or a reranker (e.g. hf:BAAI/bge-small-en-v1.5). It uses
// the hub's file API (/{repo}/resolve/{revision}/{path}; $HF_ENDPOINT
// overrides the hub, $HF_TOKEN is sent for gated models), resumes cut
// downloads with Range requests and checks each file against the hub's
// checksum. The cache is ~/.cache/distill/models (or $DISTILL_MODELS), one
// folder per model; a folder filled by hand works the same, offline.
package hf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/onnx"
)

func init() {
	model.RegisterEmbedder("hf", func(ctx context.Context, u model.URI) (model.Embedder, error) {
		dir, opts, err := Default().prepare(ctx, u)
		if err != nil {
			return nil, err
		}
		return onnx.OpenEmbedder(ctx, "hf:"+u.Target, dir, opts)
	})
	model.RegisterReranker("hf", func(ctx context.Context, u model.URI) (model.Reranker, error) {
		dir, opts, err := Default().prepare(ctx, u)
		if err != nil {
			return nil, err
		}
		return onnx.OpenReranker(ctx, "hf:"+u.Target, dir, opts)
	})
}

// Hub is a Hugging Face hub and the local cache of its models.
type Hub struct {
	Endpoint string // "" means $HF_ENDPOINT, else https://huggingface.co
	Token    string // "" means $HF_TOKEN
	Cache    string // "" means $DISTILL_MODELS, else the user cache's distill/models
	Client   *http.Client
	// Progress, when set, hears how far each download got.
	Progress func(file string, done, total int64)
}

// Default is the hub and cache the environment names.
func Default() *Hub { return &Hub{} }

func (h *Hub) endpoint() string {
	return firstOf(h.Endpoint, os.Getenv("HF_ENDPOINT"), "https://huggingface.co")
}

func (h *Hub) token() string { return firstOf(h.Token, os.Getenv("HF_TOKEN")) }

func (h *Hub) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	return http.DefaultClient
}

// CacheDir is the folder models are kept in.
func (h *Hub) CacheDir() string {
	if d := firstOf(h.Cache, os.Getenv("DISTILL_MODELS")); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), "cache")
	}
	return filepath.Join(base, "distill", "models")
}

// Ref names a model on the hub: "ORG/NAME", at a revision.
type Ref struct {
	Repo     string
	Revision string // "" means main
}

// ParseRef reads "ORG/NAME" or "ORG/NAME@REVISION" (an "hf:" prefix is
// allowed).
func ParseRef(s string) (Ref, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "hf:")
	var r Ref
	r.Repo, r.Revision, _ = strings.Cut(s, "@")
	parts := strings.Split(r.Repo, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || parts[0] == "." || parts[0] == ".." || parts[1] == "." || parts[1] == ".." || strings.ContainsAny(r.Repo, `\ `) {
		return Ref{}, &model.URIError{URI: "hf:" + s, Reason: "want hf:ORG/NAME, e.g. hf:BAAI/bge-small-en-v1.5"}
	}
	return r, nil
}

func (r Ref) revision() string { return firstOf(r.Revision, "main") }

// String is "ORG/NAME" or "ORG/NAME@REVISION".
func (r Ref) String() string {
	if r.Revision == "" || r.Revision == "main" {
		return r.Repo
	}
	return r.Repo + "@" + r.Revision
}

// Dir is where the model is cached.
func (h *Hub) Dir(r Ref) string {
	name := filepath.FromSlash(r.Repo)
	if r.Revision != "" && r.Revision != "main" {
		name += "@" + strings.ReplaceAll(r.Revision, "/", "_")
	}
	return filepath.Join(h.CacheDir(), name)
}

// manifestFile records what a pull fetched, in the model's folder.
const manifestFile = ".distill-pull.json"

// Manifest says what was fetched for a cached model.
type Manifest struct {
	Repo     string    `json:"repo"`
	Revision string    `json:"revision"`
	Commit   string    `json:"commit,omitempty"`
	ONNX     string    `json:"onnx"`
	Files    []File    `json:"files"`
	Pulled   time.Time `json:"pulled"`
}

// File is one fetched file.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	GitID  string `json:"git_id,omitempty"`
}

// configFiles are fetched when the repository has them: they say how to
// tokenize, pool and normalize.
var configFiles = []string{"config.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
	"sentence_bert_config.json", "config_sentence_transformers.json"}

// Pull fetches a model's ONNX export (file, or the usual places), its
// external weights, tokenizer and configuration into the cache, skipping
// files already there, and returns the folder.
func (h *Hub) Pull(ctx context.Context, r Ref, file string) (string, *Manifest, error) {
	dir, man, err := h.pull(ctx, r, file)
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return dir, nil, &OfflineError{Ref: r, Dir: dir, Err: ue}
	}
	return dir, man, err
}

func (h *Hub) pull(ctx context.Context, r Ref, file string) (string, *Manifest, error) {
	dir := h.Dir(r)
	man := &Manifest{Repo: r.Repo, Revision: r.revision(), Pulled: time.Now().UTC()}
	get := func(path string, required bool) (bool, error) {
		if err := onnx.SafeRelative(path); err != nil {
			return false, fmt.Errorf("hf:%s: file %q: %w", r.Repo, path, err)
		}
		fi, err := h.head(ctx, r.Repo, r.revision(), path)
		var nf *NotFoundError
		if errors.As(err, &nf) && nf.Code != "RepoNotFound" && nf.Code != "RevisionNotFound" && !required {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if man.Commit == "" {
			man.Commit = fi.commit
		}
		dest := filepath.Join(dir, filepath.FromSlash(path))
		if st, err := os.Stat(dest); err == nil && (fi.size < 0 || st.Size() == fi.size) && verify(dest, fi) == nil {
			// Already here and intact.
		} else if err := h.fetch(ctx, r.Repo, path, fi, dest); err != nil {
			return false, err
		}
		st, err := os.Stat(dest)
		if err != nil {
			return false, err
		}
		man.Files = append(man.Files, File{Path: path, Size: st.Size(), SHA256: fi.sha256, GitID: fi.gitID})
		return true, nil
	}

	// The hub's sentence-transformers layout first, then a plain export;
	// the ONNX file comes first as its absence is the likeliest problem.
	candidates := []string{"onnx/model.onnx", "model.onnx"}
	if file != "" {
		candidates = []string{file}
	}
	for _, c := range candidates {
		ok, err := get(c, file != "")
		if err != nil {
			return dir, nil, err
		}
		if ok {
			man.ONNX = c
			break
		}
	}
	if man.ONNX == "" {
		return dir, nil, &NotFoundError{Repo: r.Repo, Path: "ONNX export (tried " + strings.Join(candidates, ", ") + "; name another with ?file=PATH)"}
	}
	graph, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(man.ONNX)))
	if err != nil {
		return dir, nil, err
	}
	weights, err := onnx.ExternalDataFiles(graph)
	if err != nil {
		return dir, nil, fmt.Errorf("hf:%s: %s: %w", r.Repo, man.ONNX, err)
	}
	for _, w := range weights {
		if _, err := get(pathJoin(pathDir(man.ONNX), w), true); err != nil {
			return dir, nil, err
		}
	}
	if _, err := get("tokenizer.json", true); err != nil {
		return dir, nil, err
	}
	for _, c := range configFiles {
		if _, err := get(c, false); err != nil {
			return dir, nil, err
		}
	}
	if pooling := poolingConfig(dir); pooling != "" {
		if _, err := get(pooling, false); err != nil {
			return dir, nil, err
		}
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return dir, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, manifestFile), b, 0o644); err != nil {
		return dir, nil, err
	}
	return dir, man, nil
}

// poolingConfig is the Pooling module's configuration file that
// modules.json names, if any.
func poolingConfig(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "modules.json"))
	if err != nil {
		return ""
	}
	var modules []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &modules) != nil {
		return ""
	}
	for _, m := range modules {
		if strings.HasSuffix(m.Type, ".Pooling") && onnx.SafeRelative(m.Path) == nil {
			return pathJoin(m.Path, "config.json")
		}
	}
	return ""
}

// OfflineError reports a model that is not cached while the hub cannot
// be reached.
type OfflineError struct {
	Ref Ref
	Dir string
	Err error
}

func (e *OfflineError) Error() string {
	return fmt.Sprintf("hf:%s is not in the model cache and the hub cannot be reached (%v).\n"+
		"To use it offline, copy the model's files (onnx/model.onnx or model.onnx, tokenizer.json, config.json, "+
		"and modules.json, 1_Pooling/config.json if it has them) into %s, or run `distill models pull %s` where the hub is reachable",
		e.Ref, e.Err, e.Dir, e.Ref)
}

func (e *OfflineError) Unwrap() error { return e.Err }

// UserError marks the error as the user's to fix.
func (e *OfflineError) UserError() {}

// Ensure returns the folder of a cached model, pulling it first if it is
// not complete. A folder filled by hand (with tokenizer.json and an ONNX
// file) is used as it is.
func (h *Hub) Ensure(ctx context.Context, r Ref, file string) (dir, onnxFile string, err error) {
	dir = h.Dir(r)
	if man, err := readManifest(dir); err == nil && (file == "" || file == man.ONNX) && complete(dir, man) {
		return dir, man.ONNX, nil
	}
	if _, err := readManifest(dir); errors.Is(err, fs.ErrNotExist) && handFilled(dir, file) {
		return dir, file, nil
	}
	_, man, err := h.Pull(ctx, r, file)
	if err != nil {
		return dir, "", err
	}
	return dir, man.ONNX, nil
}

func complete(dir string, man *Manifest) bool {
	for _, f := range man.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || st.Size() != f.Size {
			return false
		}
	}
	return true
}

func handFilled(dir, file string) bool {
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return false
	}
	candidates := onnx.ONNXCandidates
	if file != "" {
		candidates = []string{file}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(c))); err == nil {
			return true
		}
	}
	return false
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestFile), err)
	}
	return &m, nil
}

// prepare turns an hf: URI into a cached folder and the options for
// package onnx (revision is this package's own).
func (h *Hub) prepare(ctx context.Context, u model.URI) (string, url.Values, error) {
	r, err := ParseRef(u.Target)
	if err != nil {
		return "", nil, err
	}
	opts := url.Values{}
	for k, v := range u.Options {
		opts[k] = v
	}
	if rev := opts.Get("revision"); rev != "" {
		r.Revision = rev
	}
	opts.Del("revision")
	dir, file, err := h.Ensure(ctx, r, opts.Get("file"))
	if err != nil {
		return "", nil, err
	}
	if file != "" {
		opts.Set("file", file)
	}
	return dir, opts, nil
}

// Cached is a model in the cache.
type Cached struct {
	Ref    Ref
	Dir    string
	Size   int64
	Pulled time.Time // zero for folders filled by hand
	ONNX   string
}

// List returns the cached models, by name.
func (h *Hub) List() ([]Cached, error) {
	root := h.CacheDir()
	orgs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Cached
	for _, org := range orgs {
		if !org.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(root, org.Name()))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !n.IsDir() {
				continue
			}
			dir := filepath.Join(root, org.Name(), n.Name())
			repo, rev, _ := strings.Cut(n.Name(), "@")
			c := Cached{Ref: Ref{Repo: org.Name() + "/" + repo, Revision: rev}, Dir: dir}
			if man, err := readManifest(dir); err == nil {
				c.Pulled, c.ONNX = man.Pulled, man.ONNX
			}
			_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if info, err := d.Info(); err == nil {
						c.Size += info.Size()
					}
				}
				return nil
			})
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.String() < out[j].Ref.String() })
	return out, nil
}

// NotCachedError reports removing a model that is not in the cache.
type NotCachedError struct{ Ref Ref }

func (e *NotCachedError) Error() string { return fmt.Sprintf("hf:%s is not in the model cache", e.Ref) }

// UserError marks the error as the user's to fix.
func (e *NotCachedError) UserError() {}

// Remove deletes a cached model.
func (h *Hub) Remove(r Ref) error {
	dir := h.Dir(r)
	if _, err := os.Stat(dir); err != nil {
		return &NotCachedError{Ref: r}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	// Drop the organization's folder once it is empty.
	_ = os.Remove(filepath.Dir(dir))
	return nil
}

func pathDir(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return ""
}

func pathJoin(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
