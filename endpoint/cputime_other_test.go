//go:build !unix

package endpoint

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
