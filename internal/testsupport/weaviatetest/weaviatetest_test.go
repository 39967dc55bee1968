package weaviatetest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSingleNode(t *testing.T) {
	nodes := StartCluster(t, 1)
	n := nodes[0]
	resp, err := http.Get(n.URL() + "/v1/meta")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/meta: %s", resp.Status)
	}
	n.Stop()
	if _, err := http.Get(n.URL() + "/v1/meta"); err == nil {
		t.Fatal("node still answers after Stop")
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	nodes := StartCluster(t, 3)
	for _, n := range nodes {
		if !ready(http.DefaultClient, n, 3) {
			t.Fatalf("%s does not see three healthy nodes", n.Name)
		}
	}
}

// TestInstallFailure checks that a server that cannot be built is reported
// with the command and its output (Binary then skips or fails with it).
func TestInstallFailure(t *testing.T) {
	t.Setenv(EnvCache, t.TempDir())
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-modcacherw")
	_, err := Install(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "go install "+Module+"@"+Version) || !strings.Contains(err.Error(), "GOPROXY") && !strings.Contains(err.Error(), "module lookup disabled") {
		t.Fatalf("got %v", err)
	}
	dir, _ := CacheDir()
	if _, err := os.Stat(filepath.Join(dir, "weaviate-server")); !os.IsNotExist(err) {
		t.Fatalf("a failed build left a binary: %v", err)
	}
}
