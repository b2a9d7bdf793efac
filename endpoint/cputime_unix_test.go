//go:build unix

package endpoint

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time so far. In the benchmarks
// the httptest server runs in the same process, so it is counted too.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
