//go:build !unix

package sqlite

// notWritable cannot ask the system ahead on this platform; a collection
// that cannot be written fails at its first write instead.
func notWritable(dir, dbPath string) string { return "" }
