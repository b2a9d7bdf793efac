//go:build unix

package datasets

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSSMB is a finished child's peak resident set size in MB (2^20 bytes).
func maxRSSMB(ps *os.ProcessState) (float64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return rssMB(ru), true
}

func rssMB(ru *syscall.Rusage) float64 {
	kb := float64(ru.Maxrss) // Linux and the BSDs report KiB
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		kb /= 1024 // macOS reports bytes
	}
	return kb / 1024
}
