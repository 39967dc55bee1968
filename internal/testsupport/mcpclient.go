package testsupport

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MCPClient returns node and the script of the end-to-end MCP client
// (mcpserver/testdata/client, on the official TypeScript SDK). It skips
// the test when node or the SDK's packages are missing, unless
// DISTILL_REQUIRE_MCP_SDK=1 (as in CI), which makes that a failure.
func MCPClient(t testing.TB) (node, script string) {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "mcpserver", "testdata", "client")
	node, err := exec.LookPath("node")
	missing := "node is not installed (apt-get install nodejs)"
	if err == nil {
		missing = ""
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
			missing = "the MCP TypeScript SDK is not installed (npm ci --prefix mcpserver/testdata/client)"
		}
	}
	if missing != "" {
		if os.Getenv("DISTILL_REQUIRE_MCP_SDK") == "1" {
			t.Fatal(missing + ", but DISTILL_REQUIRE_MCP_SDK=1 requires it")
		}
		t.Skip(missing + "; set DISTILL_REQUIRE_MCP_SDK=1 to require it")
	}
	return node, filepath.Join(dir, "client.mjs")
}
