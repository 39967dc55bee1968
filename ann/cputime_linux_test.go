package ann

import "golang.org/x/sys/unix"

// threadCPU returns the CPU time the calling OS thread has used. On a
// machine shared with other work, a search's CPU time is what its latency
// would be on an idle one (memory stalls included), while its wall time
// also counts waiting for a core.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}
