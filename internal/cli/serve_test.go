package cli_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// serve starts `distill serve` with args and returns its address, the rest
// of its stderr and the command; the address comes from its first line.
func serve(t *testing.T, args ...string) (string, *exec.Cmd, *strings.Builder, []string) {
	t.Helper()
	return serveEnv(t, nil, args...)
}

// serveEnv is serve with more environment variables.
func serveEnv(t *testing.T, env []string, args ...string) (string, *exec.Cmd, *strings.Builder, []string) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(testsupport.Binary(t), append([]string{"serve", "--quiet"}, args...)...)
	cmd.Env = append(os.Environ(), "DISTILL_API_KEYS=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "DISTILL_DB=", "DISTILL_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rd := bufio.NewReader(stderr)
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("distill serve ended: %v; stderr:\n%s", err, strings.Join(lines, ""))
		}
		lines = append(lines, line)
		if m := regexp.MustCompile(`serving \S+ on http://(\S+) `).FindStringSubmatch(line); m != nil {
			rest := &strings.Builder{}
			go io.Copy(rest, rd)
			return m[1], cmd, rest, lines
		}
	}
}

func TestServeCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "collections")
	addr, cmd, _, lines := serve(t, "--addr", "127.0.0.1:0", "--data", data, "--collection", "letters")
	if strings.Contains(strings.Join(lines, ""), "warning") {
		t.Errorf("warned on loopback: %s", lines)
	}
	resp, err := http.Get("http://" + addr + "/v1/collections/letters")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the default collection: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(data, "letters", "collection.db")); err != nil {
		t.Errorf("the default collection is not in the data directory: %v", err)
	}
	// SIGTERM stops it cleanly.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func TestServeBeyondLoopbackNeedsAKey(t *testing.T) {
	keys := testsupport.Write(t, t.TempDir(), "keys", []byte("# clients\nsk-one\n\nsk-two\n"))
	tests := []struct {
		name   string
		args   []string
		env    []string
		warn   bool
		status int // of a request with the key sk-two
	}{
		{"all interfaces, --insecure-no-key", []string{"--addr", "0.0.0.0:0", "--insecure-no-key"}, nil, true, 200},
		{"all interfaces, another key", []string{"--addr", "0.0.0.0:0", "--api-key", "sk-one"}, nil, false, 401},
		{"all interfaces, a keys file", []string{"--addr", "0.0.0.0:0", "--api-key-file", keys}, nil, false, 200},
		{"all interfaces, the old name of the keys file flag", []string{"--addr", "0.0.0.0:0", "--api-keys-file", keys}, nil, false, 200},
		{"all interfaces, keys in the environment", []string{"--addr", "0.0.0.0:0"}, []string{"DISTILL_API_KEYS=sk-one, sk-two"}, false, 200},
		{"all interfaces, another key in the environment", []string{"--addr", "0.0.0.0:0"}, []string{"DISTILL_API_KEYS=sk-one"}, false, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _, _, lines := serveEnv(t, tt.env, append(tt.args, "--data", t.TempDir())...)
			warned := strings.Contains(strings.Join(lines, ""), "warning: serving on") && strings.Contains(strings.Join(lines, ""), "without API keys")
			if warned != tt.warn {
				t.Errorf("warned %v, want %v: %s", warned, tt.warn, lines)
			}
			_, port, _ := strings.Cut(addr, "]:")
			if port == "" {
				_, port, _ = strings.Cut(addr, ":")
			}
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/v1/collections", nil)
			req.Header.Set("Authorization", "Bearer sk-two")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func TestServeBadFlags(t *testing.T) {
	empty := testsupport.Write(t, t.TempDir(), "keys", []byte("# nobody\n"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing keys file", []string{"--api-key-file", "/nonexistent/keys"}, "distill: serve: --api-key-file: open /nonexistent/keys"},
		{"empty keys file", []string{"--api-key-file", empty}, "holds no keys"},
		{"all interfaces without a key", []string{"--addr", "0.0.0.0:0"}, "distill: serve: --addr 0.0.0.0:0 listens beyond this machine without an API key"},
		{"all interfaces without a key, short form", []string{"--addr", ":0"}, "--insecure-no-key"},
		{"empty key", []string{"--api-key", " "}, "--api-key: a key cannot be empty"},
		{"bad address", []string{"--addr", "127.0.0.1:99999"}, "distill: serve: --addr 127.0.0.1:99999"},
		{"bad collection name", []string{"--collection", "../x"}, "collection name \"../x\""},
		{"no jobs", []string{"--max-jobs", "0"}, "--max-jobs 0: want at least 1"},
		{"no body time", []string{"--body-timeout", "0s"}, "--body-timeout 0s: want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(testsupport.Binary(t), append([]string{"serve", "--data", t.TempDir()}, tt.args...)...)
			cmd.Env = append(os.Environ(), "DISTILL_API_KEYS=")
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Errorf("err %v, output %q, want %q", err, out, tt.want)
			}
		})
	}
}
