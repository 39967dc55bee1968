package sqlite

import "time"

// SetBusyTimeout shortens how long new connections wait for a lock.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}
