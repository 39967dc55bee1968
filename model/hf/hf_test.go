package hf

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/hubfake"
	"github.com/distill-rag/distill/internal/testsupport/onnxgen"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/onnx"
)

// publish writes a tiny model and puts its files on the fake hub under
// repo; it returns the model's local folder.
func publish(t *testing.T, hub *hubfake.Hub, repo string, cfg onnxgen.Config, files onnxgen.Files) string {
	t.Helper()
	src := t.TempDir()
	if err := onnxgen.New(cfg).Write(src, files); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		hub.Add(repo, filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(repo, "README.md", []byte("# a model card, not fetched"))
	return src
}

var bgeLike = onnxgen.Files{ONNX: "onnx/model.onnx", ExternalData: true, Pooling: "cls", Normalize: true, MaxSeqLength: 32}

func TestPullOpenAndCache(t *testing.T) {
	hub := hubfake.New(t)
	src := publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
	t.Setenv("HF_ENDPOINT", hub.URL)
	t.Setenv("HF_TOKEN", "")
	cache := t.TempDir()
	t.Setenv("DISTILL_MODELS", cache)
	ctx := context.Background()

	e, err := model.OpenEmbedder(ctx, "hf:org/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "hf:org/tiny" {
		t.Errorf("Name() = %q", e.Name())
	}
	local, err := onnx.OpenEmbedder(ctx, "local", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"The cat sat on the mat.", "revenue grew in june"}
	got, err := e.Embed(ctx, texts, model.ForQuery)
	if err != nil {
		t.Fatal(err)
	}
	want, err := local.Embed(ctx, texts, model.ForQuery)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for k := range want[i] {
			if got[i][k] != want[i][k] {
				t.Fatalf("text %d: hub copy gives %v, local folder %v", i, got[i][:4], want[i][:4])
			}
		}
	}

	dir := filepath.Join(cache, "org", "tiny")
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range man.Files {
		paths = append(paths, f.Path)
		if f.SHA256 == "" && f.GitID == "" {
			t.Errorf("%s recorded without a checksum", f.Path)
		}
	}
	for _, p := range []string{"onnx/model.onnx", "onnx/model.onnx_data", "tokenizer.json", "config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"} {
		if !contains(paths, p) {
			t.Errorf("pull did not fetch %s (fetched %v)", p, paths)
		}
	}
	if contains(paths, "README.md") || man.Commit != hub.Commit || man.ONNX != "onnx/model.onnx" {
		t.Errorf("manifest %+v", man)
	}
	before := len(hub.Requests())
	for _, r := range hub.Requests() {
		if r.Server == "hub" && !strings.HasPrefix(r.Path, "/org/tiny/resolve/main/") {
			t.Errorf("hub request %s %s is not the file API", r.Method, r.Path)
		}
		if r.Server == "cdn" && r.Method != "GET" {
			t.Errorf("cdn request %+v", r)
		}
	}

	// Cached: no request at all, and reranking the same way works.
	if _, err := model.OpenEmbedder(ctx, "hf:org/tiny"); err != nil {
		t.Fatal(err)
	}
	if n := len(hub.Requests()); n != before {
		t.Errorf("opening a cached model made %d requests", n-before)
	}
}

func TestPullResumesCutDownload(t *testing.T) {
	hub := hubfake.New(t)
	src := publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
	hub.CutAfter("onnx/model.onnx_data", 1000)
	h := &Hub{Endpoint: hub.URL, Cache: t.TempDir()}
	dir, _, err := h.Pull(context.Background(), Ref{Repo: "org/tiny"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, r := range hub.Requests() {
		if r.Server == "cdn" && r.Range != "" {
			ranges = append(ranges, r.Range)
		}
	}
	if len(ranges) != 1 || ranges[0] != "bytes=1000-" {
		t.Errorf("range requests %v, want one for bytes=1000-", ranges)
	}
	want, _ := os.ReadFile(filepath.Join(src, "onnx", "model.onnx_data"))
	got, _ := os.ReadFile(filepath.Join(dir, "onnx", "model.onnx_data"))
	if string(got) != string(want) {
		t.Errorf("resumed file differs: %d bytes, want %d", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, "onnx", "model.onnx_data.incomplete")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file left behind: %v", err)
	}
}

func TestPullRejectsBadChecksum(t *testing.T) {
	for _, path := range []string{"onnx/model.onnx_data", "config.json"} { // an LFS file (sha256) and a small one (git id)
		t.Run(path, func(t *testing.T) {
			hub := hubfake.New(t)
			publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
			hub.CorruptChecksum(path)
			h := &Hub{Endpoint: hub.URL, Cache: t.TempDir()}
			dir, _, err := h.Pull(context.Background(), Ref{Repo: "org/tiny"}, "")
			var ce *ChecksumError
			if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), "corrupt") {
				t.Fatalf("Pull = %v, want a checksum error for %s", err, path)
			}
			for _, p := range []string{path, path + ".incomplete", manifestFile} {
				if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists after a bad checksum", p)
				}
			}
		})
	}
}

func TestToken(t *testing.T) {
	hub := hubfake.New(t)
	hub.Token = "hf_secret"
	publish(t, hub, "org/gated", onnxgen.Tiny(), bgeLike)
	ctx := context.Background()

	_, _, err := (&Hub{Endpoint: hub.URL, Cache: t.TempDir(), Token: ""}).Pull(ctx, Ref{Repo: "org/gated"}, "")
	var ae *AccessError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Fatalf("Pull without token = %v", err)
	}
	if _, _, err := (&Hub{Endpoint: hub.URL, Cache: t.TempDir(), Token: "hf_secret"}).Pull(ctx, Ref{Repo: "org/gated"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, r := range hub.Requests() {
		if r.Server == "cdn" && r.Authorization != "" {
			t.Errorf("the token was sent to the CDN: %+v", r)
		}
	}
}

func TestOffline(t *testing.T) {
	hub := hubfake.New(t)
	src := publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
	cache := t.TempDir()
	t.Setenv("DISTILL_MODELS", cache)
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1") // nothing listens there
	ctx := context.Background()

	_, err := model.OpenEmbedder(ctx, "hf:org/tiny")
	var oe *OfflineError
	dir := filepath.Join(cache, "org", "tiny")
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Fatalf("offline open = %v, want a message naming %s", err, dir)
	}
	var ue interface{ UserError() }
	if !errors.As(err, &ue) {
		t.Errorf("offline error is not marked as the user's")
	}

	// Put the files where the message says: it works without the hub.
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	e, err := model.OpenEmbedder(ctx, "hf:org/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(ctx, []string{"the cat"}, model.ForDocuments); err != nil {
		t.Fatal(err)
	}
}

func TestPullErrors(t *testing.T) {
	hub := hubfake.New(t)
	publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
	hub.Add("org/no-onnx", "tokenizer.json", []byte("{}"))
	ce := onnxgen.Tiny()
	ce.CrossEncoder = true
	publish(t, hub, "org/reranker", ce, onnxgen.Files{})
	tests := []struct {
		ref  Ref
		file string
		want string
	}{
		{ref: Ref{Repo: "org/missing"}, want: "no such model"},
		{ref: Ref{Repo: "org/no-onnx"}, want: "onnx/model.onnx, model.onnx"},
		{ref: Ref{Repo: "org/tiny"}, file: "onnx/model_quantized.onnx", want: "onnx/model_quantized.onnx"},
		{ref: Ref{Repo: "org/tiny", Revision: "v9"}, want: "no such revision"},
		{ref: Ref{Repo: "org/tiny"}, file: "../../etc/passwd", want: "inside the model folder"},
	}
	for _, tt := range tests {
		h := &Hub{Endpoint: hub.URL, Cache: t.TempDir()}
		_, _, err := h.Pull(context.Background(), tt.ref, tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Pull(%v, %q) = %v, want %q", tt.ref, tt.file, err, tt.want)
		}
	}
	// The reranker repository has model.onnx at the top: found and usable.
	t.Setenv("HF_ENDPOINT", hub.URL)
	t.Setenv("DISTILL_MODELS", t.TempDir())
	r, err := model.OpenReranker(context.Background(), "hf:org/reranker?batch=4")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rerank(context.Background(), "cat", []string{"the cat sat", "revenue grew"}); err != nil {
		t.Fatal(err)
	}
}

func TestRefAndCache(t *testing.T) {
	h := &Hub{Cache: "/c"}
	tests := []struct {
		in      string
		dir     string
		wantErr bool
	}{
		{in: "BAAI/bge-small-en-v1.5", dir: "/c/BAAI/bge-small-en-v1.5"},
		{in: "hf:org/name@abc123", dir: "/c/org/name@abc123"},
		{in: "org/name@main", dir: "/c/org/name"},
		{in: "bge-small", wantErr: true},
		{in: "../etc", wantErr: true},
		{in: "org/..", wantErr: true},
		{in: "a/b/c", wantErr: true},
	}
	for _, tt := range tests {
		r, err := ParseRef(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseRef(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseRef(%q): %v", tt.in, err)
		}
		if got := h.Dir(r); got != filepath.FromSlash(tt.dir) {
			t.Errorf("Dir(%q) = %q, want %q", tt.in, got, tt.dir)
		}
	}
}

func TestListRemove(t *testing.T) {
	hub := hubfake.New(t)
	publish(t, hub, "org/tiny", onnxgen.Tiny(), bgeLike)
	h := &Hub{Endpoint: hub.URL, Cache: t.TempDir()}
	if list, err := h.List(); err != nil || len(list) != 0 {
		t.Fatalf("List of an empty cache = %v, %v", list, err)
	}
	if _, _, err := h.Pull(context.Background(), Ref{Repo: "org/tiny"}, ""); err != nil {
		t.Fatal(err)
	}
	list, err := h.List()
	if err != nil || len(list) != 1 || list[0].Ref.Repo != "org/tiny" || list[0].Size == 0 || list[0].ONNX != "onnx/model.onnx" || list[0].Pulled.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := h.Remove(Ref{Repo: "org/tiny"}); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.List(); len(list) != 0 {
		t.Errorf("List after Remove = %+v", list)
	}
	var nc *NotCachedError
	if err := h.Remove(Ref{Repo: "org/tiny"}); !errors.As(err, &nc) {
		t.Errorf("second Remove = %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
