package cli_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// TestModelRetriesAreReported: a model server that hangs was retried in
// silence; each retry now prints a line.
func TestModelRetriesAreReported(t *testing.T) {
	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hung.Close()
	defer close(stop)
	r := newRunner(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	testsupport.Write(t, dir, "a.txt", []byte("The Zephyr lanterns were recalled over faulty batteries."))
	r.ok("--db", db, "ingest", filepath.Join(dir, "a.txt"))
	llm := "ollama:m?host=" + hung.URL + "&timeout=100ms&retries=2&backoff=10ms"
	_, stderr, code := r.run("--db", db, "--llm", llm, "ask", "-t", "regular", "Why were the lanterns recalled?")
	if code == 0 {
		t.Fatal("ask succeeded against a server that never answers")
	}
	for _, want := range []string{"retrying (2/3) after", "retrying (3/3) after", "no answer within 100ms"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
