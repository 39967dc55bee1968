package testsupport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Chromium returns the path of a headless-capable Chromium. It skips the
// test when there is none, unless DISTILL_REQUIRE_CHROMIUM=1 (as in CI),
// which makes a missing browser a failure.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DISTILL_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is required (DISTILL_REQUIRE_CHROMIUM=1) but not installed: apt-get install chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); set DISTILL_REQUIRE_CHROMIUM=1 to require it")
	return ""
}

// DumpDOM loads a local HTML file in headless Chromium, lets its scripts
// run, and returns the DOM as serialized afterwards. The browser gets its
// own profile and no network.
func DumpDOM(t testing.TB, htmlFile string) string {
	t.Helper()
	bin := Chromium(t)
	abs, err := filepath.Abs(htmlFile)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a hung browser from hanging the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("chromium --dump-dom %s: %v\n%s", htmlFile, err, stderr)
	}
	return string(out)
}
