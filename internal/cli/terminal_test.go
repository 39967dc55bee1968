package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/distill-rag/distill/internal/testsupport"
)

// ptyRun runs the binary with stdin, stdout and stderr on a pseudo-terminal
// of the given width, types input, and returns everything it printed (with
// the terminal's \r\n turned into \n) and the exit code.
func (r *runner) ptyRun(cols int, env []string, input string, args ...string) (string, int) {
	r.t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(append([]string(nil), r.env...), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: uint16(cols)})
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	if input != "" {
		go func() {
			time.Sleep(300 * time.Millisecond) // after the prompt is up
			io.WriteString(f, input)
		}()
	}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(&out, f) // ends with EIO when the child exits
	}()
	err = cmd.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		r.t.Fatal(err)
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

// visible strips ANSI escape sequences.
func visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func longLines(text string, w int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if utf8.RuneCountInString(line) > w {
			out = append(out, line)
		}
	}
	return out
}

// TestHelpFitsEightyColumns walks every command's --help (not on a
// terminal: 80 columns) and checks that no line is wider.
func TestHelpFitsEightyColumns(t *testing.T) {
	r := newRunner(t)
	var walk func(path []string)
	walk = func(path []string) {
		out := r.ok(append(append([]string(nil), path...), "--help")...)
		if long := longLines(out, 80); len(long) > 0 {
			t.Errorf("distill %s --help has lines over 80 columns:\n%s", strings.Join(path, " "), strings.Join(long, "\n"))
		}
		_, rest, ok := strings.Cut(out, "Available Commands:\n")
		if !ok {
			return
		}
		block, _, _ := strings.Cut(rest, "\n\n")
		for _, line := range strings.Split(block, "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				walk(append(append([]string(nil), path...), f[0]))
			}
		}
	}
	walk(nil)
}

// TestOutputFollowsTheTerminal: on a narrow terminal, output wraps to its
// width (it always wrapped at 80) and is coloured unless NO_COLOR is set;
// piped output has no escape codes.
func TestOutputFollowsTheTerminal(t *testing.T) {
	r := newRunner(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	docs := filepath.Join(dir, "docs")
	testsupport.Write(t, docs, "a.txt", []byte(strings.Repeat("The Zephyr lanterns were recalled over faulty batteries in the spring of that year. ", 8)))
	r.ok("--db", db, "ingest", docs)

	out, code := r.ptyRun(60, nil, "", "--db", db, "compare", "--techniques", "regular,parent", "Why were the lanterns recalled?")
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, out)
	}
	if long := longLines(visible(out), 60); len(long) > 0 {
		t.Errorf("compare on a 60-column terminal printed wider lines:\n%s", strings.Join(long, "\n"))
	}
	if !strings.Contains(out, "\x1b[") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}
	out, _ = r.ptyRun(60, []string{"NO_COLOR=1"}, "", "techniques")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("NO_COLOR is set but output has escape codes:\n%q", out)
	}
	if long := longLines(out, 60); len(long) > 0 {
		t.Errorf("techniques on a 60-column terminal:\n%s", strings.Join(long, "\n"))
	}
	piped := r.ok("--db", db, "compare", "--techniques", "regular", "Why were the lanterns recalled?")
	if strings.Contains(piped, "\x1b[") || len(longLines(piped, 80)) > 0 {
		t.Errorf("piped output must be plain 80 columns:\n%s", piped)
	}
}

// TestTechniquesMarkUnavailable: offline, the techniques that need a model
// say so, and every row's stages start in one column (parent-hybrid, the
// longest name, pushed its row out).
func TestTechniquesMarkUnavailable(t *testing.T) {
	r := newRunner(t)
	rows := map[string]string{}
	col := -1
	for _, line := range strings.Split(r.ok("techniques"), "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		f := strings.Fields(line)
		rows[f[0]] = line
		if strings.HasPrefix(f[0], "parent") || f[0] == "regular" {
			at := len(f[0]) + strings.Index(line[len(f[0]):], f[1])
			if col >= 0 && at != col {
				t.Errorf("row %q: stages at column %d, others at %d", line, at, col)
			}
			col = at
		}
	}
	for name, want := range map[string]bool{"regular": false, "parent": false, "hybrid": true, "parent-hybrid": true, "rerank": true} {
		if got := strings.Contains(rows[name], "(unavailable)"); got != want {
			t.Errorf("offline %s row %q: unavailable %v, want %v", name, rows[name], got, want)
		}
	}
	withModel := r.ok("--embed", "hash:64", "techniques")
	if strings.Contains(withModel, "technique \"hybrid\" needs") {
		t.Errorf("with --embed, hybrid is still unavailable:\n%s", withModel)
	}
}

// TestInterruptedIngest: Ctrl-C during a large ingest prints one line with
// how much was stored, reports no in-flight file as failed, exits 130, and
// a re-run resumes (it printed a line per file never reached, without
// names, counted in-flight files as failed and exited 1).
func TestInterruptedIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and ingests 3,000 files")
	}
	r := newRunner(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	docs := filepath.Join(dir, "docs")
	const files = 3000
	for i := 0; i < files; i++ {
		testsupport.Write(t, docs, fmt.Sprintf("f%04d.txt", i), []byte(strings.Repeat(fmt.Sprintf("Document %d tells of lantern %d and warehouse %d. ", i, i*7, i*13), 20)))
	}
	cmd := exec.Command(r.bin, "--db", db, "ingest", docs)
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once documents are being stored.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(filepath.Join(db, "collection.db-wal")); err == nil && fi.Size() > 2<<20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("ingest never started writing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("want one line on stderr and nothing on stdout:\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`^distill: interrupted: ([\d,]+) documents? stored by this run, ([\d,]+) files? left; run the same command again to resume\n$`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("interrupt line: %q", stderr.String())
	}
	stored, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	left, _ := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
	if stored == 0 || stored+left != files {
		t.Errorf("stored %d + left %d != %d files", stored, left, files)
	}
	out := r.ok("--db", db, "ingest", docs)
	want := fmt.Sprintf("%d added, 0 updated, %d unchanged, 0 failed", left, stored)
	if !strings.Contains(out, want) {
		t.Errorf("re-run: want %q in\n%s", want, out[max(0, len(out)-300):])
	}
}
