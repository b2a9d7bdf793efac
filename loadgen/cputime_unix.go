//go:build unix

package loadgen

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time so far (every thread: the
// whole client, and an in-process server if there is one).
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
