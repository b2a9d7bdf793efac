// Package grace gives work in flight a grace period after an interrupt:
// new work stops when the caller's context is cancelled, work already
// running gets a little longer to finish.
package grace

import (
	"context"
	"time"
)

// Context returns a context that survives parent's cancellation by d: it
// is cancelled d after parent is, or at once by cancel. Its values are
// parent's.
func Context(parent context.Context, d time.Duration) (ctx context.Context, cancel context.CancelFunc) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			cancelWork()
		case <-work.Done():
		}
	})
	return work, func() {
		stop()
		cancelWork()
	}
}
