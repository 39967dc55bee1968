//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// notWritable says why the collection at dir cannot be written ("" when it
// can): SQLite needs to write the database and to create its -wal and
// -shm files beside it.
func notWritable(dir, dbPath string) string {
	for _, p := range []string{dir, dbPath} {
		err := unix.Access(p, unix.W_OK)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
			continue
		case errors.Is(err, syscall.EROFS):
			return "a read-only file system"
		default:
			return "no write permission on " + p
		}
	}
	return ""
}
