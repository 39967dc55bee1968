//go:build !lite

package cli_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/hubfake"
	"github.com/distill-rag/distill/internal/testsupport/onnxgen"
)

// runModels runs the built binary with env added and returns stdout,
// stderr and the exit code.
func runModels(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testsupport.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestModelsPullLsRm(t *testing.T) {
	hub := hubfake.New(t)
	src := t.TempDir()
	if err := onnxgen.New(onnxgen.Tiny()).Write(src, onnxgen.Files{ONNX: "onnx/model.onnx", ExternalData: true, Pooling: "cls", Normalize: true}); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(src, path)
			hub.Add("org/tiny", filepath.ToSlash(rel), b)
		}
		return err
	})
	cache := t.TempDir()
	home := t.TempDir()
	env := []string{"HF_ENDPOINT=" + hub.URL, "HF_TOKEN=", "DISTILL_MODELS=" + cache, "HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"DISTILL_CONFIG=", "DISTILL_DB=", "DISTILL_LLM=", "DISTILL_EMBED=", "DISTILL_RERANK="}

	out, errOut, code := runModels(t, env, "models", "ls")
	if code != 0 || !strings.Contains(out, "No models in "+cache) {
		t.Fatalf("ls on an empty cache: %d %q %q", code, out, errOut)
	}
	out, errOut, code = runModels(t, env, "models", "pull", "hf:org/tiny")
	if code != 0 || !strings.Contains(out, "hf:org/tiny") || !strings.Contains(out, filepath.Join(cache, "org", "tiny")) {
		t.Fatalf("pull: %d %q %q", code, out, errOut)
	}
	out, _, code = runModels(t, env, "models", "ls", "--json")
	var ls struct {
		Cache  string `json:"cache"`
		Models []struct {
			Model string `json:"model"`
			Size  int64  `json:"size"`
			ONNX  string `json:"onnx"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &ls); err != nil || code != 0 {
		t.Fatalf("ls --json: %v %q", err, out)
	}
	if ls.Cache != cache || len(ls.Models) != 1 || ls.Models[0].Model != "hf:org/tiny" || ls.Models[0].ONNX != "onnx/model.onnx" || ls.Models[0].Size == 0 {
		t.Errorf("ls --json = %+v", ls)
	}

	// The pulled model embeds during ingest and answers a dense-capable ask.
	docs := t.TempDir()
	testsupport.Write(t, docs, "cat.txt", []byte("The cat sat on the mat. Revenue grew in June."))
	db := filepath.Join(t.TempDir(), "coll")
	if _, errOut, code := runModels(t, env, "--db", db, "--embed", "hf:org/tiny", "ingest", docs); code != 0 {
		t.Fatalf("ingest with hf:org/tiny: %d %s", code, errOut)
	}

	_, errOut, code = runModels(t, env, "models", "pull", "org/missing")
	if code != 1 || !strings.Contains(errOut, "no such model") || strings.Contains(errOut, "hf.") {
		t.Errorf("pull of a missing model: %d %q", code, errOut)
	}
	offline := append(append([]string(nil), env...), "HF_ENDPOINT=http://127.0.0.1:1")
	_, errOut, code = runModels(t, offline, "--db", db, "--embed", "hf:org/other", "ask", "what?")
	if code != 1 || !strings.Contains(errOut, filepath.Join(cache, "org", "other")) {
		t.Errorf("offline use of an uncached model: %d %q", code, errOut)
	}
	out, _, code = runModels(t, env, "models", "rm", "org/tiny")
	if code != 0 || !strings.Contains(out, "removed hf:org/tiny") {
		t.Errorf("rm: %d %q", code, out)
	}
	if _, errOut, code = runModels(t, env, "models", "rm", "org/tiny"); code != 1 || !strings.Contains(errOut, "not in the model cache") {
		t.Errorf("second rm: %d %q", code, errOut)
	}
}
