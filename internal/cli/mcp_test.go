package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// TestMCPCommand checks what distill mcp does before a client speaks; the
// protocol itself is tested in package mcpserver.
func TestMCPCommand(t *testing.T) {
	r := newRunner(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "coll")
	r.ok("--db", db, "ingest", testsupport.Write(t, tmp, "a.txt", []byte("Some text about herons.")))
	missing := filepath.Join(tmp, "missing")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"missing collection", []string{"--db", missing, "mcp"}, 1, []string{missing, "does not exist"}},
		{"unknown technique", []string{"--db", db, "mcp", "-t", "magic"}, 1, []string{"mcp: --technique:", `"magic"`, "regular", "distill mcp --help"}},
		// The client closing stdin ends the session cleanly.
		{"client hangs up", []string{"--db", db, "mcp"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := r.run(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout, the protocol's channel, got %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("a read-only mcp created %s", missing)
	}
	// With writes allowed, a missing collection is created to write into.
	created := filepath.Join(tmp, "new")
	r.ok("--db", created, "mcp", "--allow-writes")
	if out := r.ok("--db", created, "ls"); !strings.Contains(out, "empty") {
		t.Errorf("ls of the created collection: %q", out)
	}
}
