package testsupport

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ReadOnly takes write access to dir and the files in it away until the
// test ends: by mode for a user, by the immutable attribute for root (whom
// modes do not stop). The test is skipped where neither works.
func ReadOnly(t testing.TB, dir string) {
	t.Helper()
	paths := []string{dir}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	if os.Geteuid() != 0 {
		for _, p := range paths {
			if err := os.Chmod(p, 0o500); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			for _, p := range paths {
				os.Chmod(p, 0o700)
			}
		})
		return
	}
	if out, err := exec.Command("chattr", append([]string{"+i"}, paths...)...).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s immutable as root: %v %s", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", append([]string{"-i"}, paths...)...).Run() })
}
