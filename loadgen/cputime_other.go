//go:build !unix

package loadgen

import "time"

// cpuTime is unavailable here: the reports say so (null) rather than guess.
func cpuTime() (time.Duration, bool) { return 0, false }
