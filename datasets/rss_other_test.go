//go:build !unix

package datasets

import "os"

// maxRSSMB is not available here; the benchmark skips.
func maxRSSMB(*os.ProcessState) (float64, bool) { return 0, false }
