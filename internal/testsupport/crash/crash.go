//go:build unix

// Package crash kills a child process at random moments, for tests that
// show a command leaves its collection sound whenever it dies: run the
// command, SIGKILL it after a random delay, let the test verify what is on
// disk, and repeat. The ingest crash test uses it; a command that rewrites
// an index (reindex, index saves) plugs in the same way with its own
// command line and checks.
package crash

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options describe a kill loop.
type Options struct {
	// Command is the command to interrupt: binary and arguments.
	Command []string
	// Env is added to the environment of every run.
	Env []string
	// Kills is how many runs to kill; runs that finish before their kill
	// moment do not count.
	Kills int
	// MaxAttempts bounds the runs started (default 4*Kills).
	MaxAttempts int
	// Window is the span kill moments are drawn from, uniformly: usually
	// how long one uninterrupted run takes (see Time).
	Window time.Duration
	// From shifts the kill moments to [From, From+Window): to aim kills at
	// the end of a run, where a command saves what it built.
	From time.Duration
	// Seed makes the kill moments reproducible; the test logs it.
	Seed uint64
	// Before, when set, runs before every attempt (attempt counts from 0):
	// to reset the collection or change the input so later runs have work
	// to interrupt again.
	Before func(t testing.TB, attempt int)
	// After runs after every attempt, killed or finished, and checks what
	// the run left behind.
	After func(t testing.TB, attempt int, killed bool)
}

// Stats say what a loop did.
type Stats struct {
	Attempts, Kills, Finished int
	// Delays are the kill moments of the killed runs.
	Delays []time.Duration
}

// Run runs the kill loop and returns what it did. A run that exits with an
// error before its kill moment fails the test.
func Run(t testing.TB, opts Options) Stats {
	t.Helper()
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 4 * opts.Kills
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash: %d kills of %s within %v, seed %d", opts.Kills, strings.Join(opts.Command, " "), opts.Window, opts.Seed)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	var st Stats
	for st.Kills < opts.Kills {
		if st.Attempts >= opts.MaxAttempts {
			t.Fatalf("crash: only %d of %d kills landed in %d runs; widen the window or give the runs more work", st.Kills, opts.Kills, st.Attempts)
		}
		if opts.Before != nil {
			opts.Before(t, st.Attempts)
		}
		delay := opts.From + time.Duration(rng.Int64N(int64(max(opts.Window, time.Millisecond))))
		killed := runOnce(t, opts, delay)
		if killed {
			st.Kills++
			st.Delays = append(st.Delays, delay)
		} else {
			st.Finished++
		}
		if opts.After != nil {
			opts.After(t, st.Attempts, killed)
		}
		st.Attempts++
	}
	return st
}

// runOnce starts the command and kills it after delay unless it ends first.
func runOnce(t testing.TB, opts Options, delay time.Duration) (killed bool) {
	t.Helper()
	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Env = append(os.Environ(), opts.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("crash: %s ended with %v before its kill at %v:\n%s", strings.Join(opts.Command, " "), err, delay, out.String())
		}
		return false
	case <-timer.C:
		cmd.Process.Kill() // SIGKILL: no deferred function, no cleanup runs
		err := <-done
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
		if err != nil {
			t.Fatalf("crash: %s ended with %v:\n%s", strings.Join(opts.Command, " "), err, out.String())
		}
		return false // it finished just before the kill
	}
}

// Time runs a command to completion and returns how long it took, for the
// kill window.
func Time(t testing.TB, env []string, command ...string) time.Duration {
	t.Helper()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(command, " "), err, out)
	}
	return time.Since(start)
}
