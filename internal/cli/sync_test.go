package cli_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport"
)

func TestSyncCommand(t *testing.T) {
	r := newRunner(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "db")
	dir := filepath.Join(tmp, "docs")
	keep := testsupport.Write(t, dir, "keep.txt", []byte("The harbour ledger lists copper."))
	gone := testsupport.Write(t, dir, "sub/gone.md", []byte("# Beacon\n\nThe zorblatt beacon was repaired."))

	out := r.ok("--db", db, "sync", dir)
	if !strings.Contains(out, "2 added, 0 replaced, 0 removed, 0 unchanged, 0 failed") {
		t.Errorf("first sync printed:\n%s", out)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	testsupport.Write(t, dir, "keep.txt", []byte("The harbour ledger lists copper and tin."))

	out = r.ok("--db", db, "sync", "--dry-run", dir)
	for _, want := range []string{"replace    " + keep, "remove     " + gone, "plan: 0 to add, 1 to replace, 1 to remove, 0 unchanged, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if ls := r.ok("--db", db, "ls", "--json"); !strings.Contains(ls, gone) {
		t.Errorf("the dry run removed the document:\n%s", ls)
	}

	out = r.ok("--db", db, "sync", "--json", dir)
	var rep struct {
		Plan struct {
			Remove []struct {
				Source string `json:"source"`
			} `json:"remove"`
		} `json:"plan"`
		Removed []struct {
			Source string `json:"source"`
		} `json:"removed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("sync --json: %v\n%s", err, out)
	}
	if len(rep.Removed) != 1 || rep.Removed[0].Source != gone {
		t.Errorf("sync --json removed %+v, want %s", rep.Removed, gone)
	}
	if ask := r.ok("--db", db, "ask", "--json", "zorblatt beacon"); strings.Contains(ask, "zorblatt") && strings.Contains(ask, gone) {
		t.Errorf("the removed document is still returned:\n%s", ask)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sync", filepath.Join(tmp, "missing")}, "no such directory"},
		{[]string{"sync", keep}, "not a directory"},
		{[]string{"sync", "--dry-run", "--watch", dir}, "--dry-run and --watch cannot be combined"},
		{[]string{"sync", "--debounce", "-1s", "--watch", dir}, "--debounce"},
	}
	for _, tt := range tests {
		_, errOut, code := r.run(append([]string{"--db", db}, tt.args...)...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("distill %v: exit %d, stderr %q; want exit 1 saying %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestSyncWatchCommand(t *testing.T) {
	r := newRunner(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "db")
	dir := filepath.Join(tmp, "docs")
	testsupport.Write(t, dir, "a.txt", []byte("The lighthouse keeper counted seagulls."))
	cmd := exec.Command(r.bin, "--db", db, "sync", "--watch", "--json", "--debounce", "50ms", dir)
	cmd.Env = r.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch exited before %s", what)
			}
			return l
		case <-time.After(20 * time.Second):
			t.Fatalf("no report for %s", what)
		}
		return ""
	}
	if l := next("the first sync"); !strings.Contains(l, `"status":"added"`) || !strings.Contains(l, "a.txt") {
		t.Fatalf("first report: %s", l)
	}
	b := testsupport.Write(t, dir, "new/b.txt", []byte("The kestrel nested."))
	if l := next("a created file"); !strings.Contains(l, b) || !strings.Contains(l, `"status":"added"`) {
		t.Fatalf("report after creating %s: %s", b, l)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("watch stopped by Ctrl-C: %v, want exit 0", err)
	}
}
