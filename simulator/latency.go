package simulator

import (
	"context"
	"sync/atomic"
	"time"
)

// schedule times one request's decoding steps against absolute deadlines
// from the start of generation, so sleep overshoot never accumulates: step 0
// (the first token) is due at start + slow + TTFT', and step i at step i-1's
// deadline plus ITL×(1±jitter). TTFT' = (TTFT + PerPromptToken×prompt
// tokens)×(1±jitter). Jitter is uniform and seeded by the request, so the
// median interval is the configured one.
type schedule struct {
	lead     *lead
	key      uint64
	itl      time.Duration
	jitter   float64
	deadline time.Time // of step `step`
	step     int
	timer    *time.Timer
}

func newSchedule(start time.Time, lat Latency, promptTokens int, slow time.Duration, key uint64, ld *lead) *schedule {
	ttft := lat.TTFT + time.Duration(promptTokens)*lat.PerPromptToken
	ttft = jittered(ttft, lat.Jitter, mix(key^saltTTFT))
	return &schedule{lead: ld, key: key, itl: lat.ITL, jitter: lat.Jitter, deadline: start.Add(slow + ttft)}
}

func jittered(d time.Duration, j float64, h uint64) time.Duration {
	if j == 0 || d == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + j*(2*unit(h)-1)))
}

// at returns the deadline of step i; steps are visited in increasing order.
func (s *schedule) at(i int) time.Time {
	for s.step < i {
		s.step++
		s.deadline = s.deadline.Add(jittered(s.itl, s.jitter, mix(s.key^saltITL^uint64(s.step))))
	}
	return s.deadline
}

// wait sleeps until the deadline of step i (less the lead), or until ctx
// is done.
func (s *schedule) wait(ctx context.Context, i int) error {
	d := time.Until(s.at(i)) - s.lead.get()
	if d <= 0 {
		return ctx.Err()
	}
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	select {
	case <-s.timer.C:
		return nil
	case <-ctx.Done():
		s.timer.Stop()
		return ctx.Err()
	}
}

func (s *schedule) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// written reports that the output due at the current step's deadline has
// been written out.
func (s *schedule) written() { s.lead.observe(time.Since(s.deadline)) }

// lead is how early timers are set so that output leaves the server at its
// deadline. A loaded machine wakes timers late and spends time in write
// syscalls; without correction every token, the first included, would leave
// that much late, which a client measures as extra TTFT (intervals are not
// affected: every token is equally late). The lead tracks the median
// lateness of the server's own writes (a stochastic median estimate: step
// up when a write is late, down when early), shared by all streams, and is
// capped so it can never run away. It corrects the simulator's own
// scheduling delay only, not the network's or the client's.
type lead struct{ ns atomic.Int64 }

const (
	leadStep = 2 * time.Microsecond
	leadMax  = 2 * time.Millisecond
)

func (l *lead) get() time.Duration { return time.Duration(l.ns.Load()) }

func (l *lead) observe(late time.Duration) {
	step := int64(leadStep)
	if late <= 0 {
		step = -step
	}
	for {
		old := l.ns.Load()
		v := min(max(old+step, 0), int64(leadMax))
		if v == old || l.ns.CompareAndSwap(old, v) {
			return
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
