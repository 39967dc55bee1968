package sqlite

import "time"

// SetBusyTimeout shortens how long new connections wait for a lock.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}

// SetFlushBytes changes how much page text a writer buffers before it
// writes, so that a small document is written in several flushes.
func SetFlushBytes(n int) (restore func()) {
	old := flushBytes
	flushBytes = n
	return func() { flushBytes = old }
}
