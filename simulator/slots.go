package simulator

import (
	"context"
	"sync"
)

// slots is the engine's capacity: a FIFO counting semaphore over sequences.
// A request needing n sequences waits until n are free and every earlier
// waiter has been served, so the queue is fair and a large request cannot be
// starved by small ones.
type slots struct {
	mu    sync.Mutex
	cap   int // 0 = unlimited
	used  int
	queue []*waiter
	stats *counters
}

type waiter struct {
	n       int
	ready   chan struct{}
	granted bool
}

func newSlots(capacity int, st *counters) *slots {
	return &slots{cap: capacity, stats: st}
}

// acquire takes n sequences (capped at the capacity), waiting its turn.
// It returns the number taken, for release, and whether it had to wait.
func (s *slots) acquire(ctx context.Context, n int) (int, bool, error) {
	if s.cap > 0 {
		n = min(n, s.cap)
	}
	s.mu.Lock()
	if len(s.queue) == 0 && (s.cap == 0 || s.used+n <= s.cap) {
		s.used += n
		s.stats.generating(int64(n))
		s.mu.Unlock()
		return n, false, nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	s.queue = append(s.queue, w)
	s.mu.Unlock()
	s.stats.queueEnter()

	select {
	case <-w.ready:
		s.stats.queueLeave()
		return n, true, nil
	case <-ctx.Done():
		s.mu.Lock()
		if w.granted {
			s.mu.Unlock()
			s.stats.queueLeave()
			s.release(n)
			return 0, true, ctx.Err()
		}
		for i, q := range s.queue {
			if q == w {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
		// Removing the head may let the next waiters in.
		s.grantLocked()
		s.mu.Unlock()
		s.stats.queueLeave()
		return 0, true, ctx.Err()
	}
}

func (s *slots) release(n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.used -= n
	// Count the release before any grant, so the generating gauge never
	// shows more than the capacity.
	s.stats.generating(-int64(n))
	s.grantLocked()
	s.mu.Unlock()
}

func (s *slots) grantLocked() {
	for len(s.queue) > 0 {
		w := s.queue[0]
		if s.cap > 0 && s.used+w.n > s.cap {
			return
		}
		s.used += w.n
		w.granted = true
		s.stats.generating(int64(w.n))
		close(w.ready)
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
}
