package all_test

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the packages that only the heavy backends may bring in.
var heavy = []string{
	"github.com/aws/",
	"google.golang.org/grpc",
	"github.com/weaviate/",
	"github.com/gomlx/",
	"github.com/knights-analytics/",
	"github.com/yalue/onnxruntime_go",
}

func deps(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

func heavyIn(pkgs []string) []string {
	var found []string
	for _, p := range pkgs {
		for _, h := range heavy {
			if strings.HasPrefix(p, h) {
				found = append(found, p)
				break
			}
		}
	}
	return found
}

// A program that embeds the engine with the embedded store and one
// provider compiles only those, not every backend distill ships.
func TestEngineWithOneProviderHasNoHeavyDependencies(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"engine, sqlite, ollama", []string{"github.com/distill-rag/distill", "github.com/distill-rag/distill/store/sqlite", "github.com/distill-rag/distill/model/ollama"}},
		{"engine, sqlite, tei", []string{"github.com/distill-rag/distill", "github.com/distill-rag/distill/store/sqlite", "github.com/distill-rag/distill/model/tei"}},
		{"lite command", []string{"-tags", "lite", "github.com/distill-rag/distill/cmd/distill"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkgs := deps(t, c.args...)
			if len(pkgs) < 50 {
				t.Fatalf("go list found only %d packages: %v", len(pkgs), pkgs)
			}
			if found := heavyIn(pkgs); len(found) > 0 {
				t.Errorf("%d heavy packages, e.g. %v", len(found), found[:min(5, len(found))])
			}
		})
	}
}

// The default build keeps every backend (the check above is not vacuous).
func TestDefaultCommandHasEveryBackend(t *testing.T) {
	pkgs := deps(t, "github.com/distill-rag/distill/cmd/distill")
	for _, want := range []string{"github.com/distill-rag/distill/store/weaviate", "github.com/distill-rag/distill/model/bedrock", "github.com/distill-rag/distill/model/sagemaker", "github.com/distill-rag/distill/model/hf"} {
		found := false
		for _, p := range pkgs {
			found = found || p == want
		}
		if !found {
			t.Errorf("the default build lacks %s", want)
		}
	}
	if len(heavyIn(pkgs)) == 0 {
		t.Error("the default build has no heavy package")
	}
}
