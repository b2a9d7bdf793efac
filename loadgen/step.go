package loadgen

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evalbench/evalbench/results"
)

// stepPlan is one load level.
type stepPlan struct {
	index       int
	kind        string // "concurrency" or "rate"
	role        string // sweep: "throughput" or "rate"
	concurrency int
	rate        float64
	maxConc     int
}

func (p stepPlan) label() string {
	switch {
	case p.role == "throughput":
		return fmt.Sprintf("throughput (concurrency %d)", p.concurrency)
	case p.kind == "concurrency":
		return fmt.Sprintf("concurrency %d", p.concurrency)
	case p.maxConc > 0:
		return fmt.Sprintf("rate %s/s (max %d in flight)", fmtRate(p.rate), p.maxConc)
	}
	return fmt.Sprintf("rate %s/s", fmtRate(p.rate))
}

func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.3g", r)
}

// step runs one load level. Its timeline, as offsets from t0:
//
//	[0, w0)            warm-up: requests started here are not measured
//	[w0, w1)           the measurement window: requests whose intended
//	                   start falls here are measured
//	[w1, w1+cooldown)  cool-down: the load goes on so the last measured
//	                   requests finish under it; not measured
//
// Then dispatch stops, the measured requests still running finish, and
// the unmeasured ones still running are cancelled.
type step struct {
	run  *runState
	plan stepPlan
	rec  *recorder

	t0       time.Time
	w0       time.Duration
	w1       atomic.Int64 // nanoseconds; -1 until known (closed loop with a request count)
	cooldown time.Duration

	// admission: a request is admitted under mu unless dispatch stopped,
	// so that after stopDispatch no WaitGroup grows.
	mu       sync.Mutex
	stopped  bool
	stopCh   chan struct{}
	measured sync.WaitGroup // measured requests running
	all      sync.WaitGroup // every request running

	work, extra             context.Context // measured requests use work, the others extra
	cancelWork, cancelExtra context.CancelFunc
	sem                     chan struct{} // max-concurrency slots; nil: no cap
	jobs                    chan job      // open loop: arrivals for idle workers (unbuffered)

	seq         atomic.Int64
	tickets     atomic.Int64 // closed loop with a request count: measured tickets handed out
	inFlight    atomic.Int64
	peak        atomic.Int64
	done        atomic.Int64
	failed      atomic.Int64
	interrupted atomic.Bool

	endTimer *time.Timer

	fatalMu sync.Mutex
	fatal   error
}

func newStep(g *runState, plan stepPlan) *step {
	st := &step{run: g, plan: plan, stopCh: make(chan struct{}), jobs: make(chan job)}
	st.w1.Store(-1)
	st.work, st.cancelWork = context.WithCancel(g.work)
	st.extra, st.cancelExtra = context.WithCancel(st.work)
	if plan.kind == "rate" && plan.maxConc > 0 {
		st.sem = make(chan struct{}, plan.maxConc)
	}
	st.rec = newRecorder(st, g.opts.SLO, g.log)
	o := g.opts
	st.w0 = o.Warmup
	st.cooldown = o.Cooldown
	if o.Duration > 0 {
		st.w1.Store(int64(st.w0 + o.Duration))
	}
	return st
}

// windowEnd is w1, or "not yet known" as the far future: any event seen
// before it is known happened before it.
func (st *step) windowEnd() time.Duration {
	if w := st.w1.Load(); w >= 0 {
		return time.Duration(w)
	}
	return math.MaxInt64
}

// admit registers a request about to start, unless dispatch has stopped.
func (st *step) admit(measured bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped {
		return false
	}
	st.all.Add(1)
	if measured {
		st.measured.Add(1)
	}
	return true
}

func (st *step) stopDispatch() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.stopped {
		st.stopped = true
		close(st.stopCh)
	}
}

// interrupt ends dispatch early.
func (st *step) interrupt() {
	if st.interrupted.Swap(true) {
		return
	}
	st.endWindow()
	st.stopDispatch()
}

// endWindow ends the measurement window now if it has not ended yet, so a
// step cut short is measured over the time it ran, not the time planned.
func (st *step) endWindow() {
	now := int64(time.Since(st.t0))
	for {
		w := st.w1.Load()
		if (w >= 0 && w <= now) || st.w1.CompareAndSwap(w, max(now, int64(st.w0))) {
			return
		}
	}
}

// fail stops the step for an error that is not a request's (prompts that
// cannot be read): it ends there, partial, with the error as its reason.
func (st *step) fail(err error) {
	st.fatalMu.Lock()
	first := st.fatal == nil
	if first {
		st.fatal = err
	}
	st.fatalMu.Unlock()
	if first {
		st.endWindow()
	}
	st.stopDispatch()
	st.cancelWork()
}

func (st *step) phaseAt(off time.Duration) string {
	switch {
	case off < st.w0:
		return results.PhaseWarmup
	case off < st.windowEnd():
		return results.PhaseMeasure
	}
	return results.PhaseCooldown
}

// openLoop dispatches the step's schedule: each arrival at its absolute
// time goes to an idle worker or a new one, whatever the requests in
// flight are doing.
func (st *step) openLoop(ctx context.Context) {
	defer st.stopDispatch()
	o := st.run.opts
	seed := st.run.stepSeed(st.plan.index)
	sched, err := NewSchedule(o.Arrival, st.plan.rate, o.Burstiness, seed)
	if err != nil {
		st.fail(err)
		return
	}
	if o.Requests > 0 {
		// The window ends at the intended time of the first arrival after
		// the measured ones: replay the seeded schedule to find it.
		probe, _ := NewSchedule(o.Arrival, st.plan.rate, o.Burstiness, seed)
		n := 0
		for {
			off := probe.Next()
			if off < st.w0 {
				continue
			}
			if n == o.Requests {
				st.w1.Store(int64(off))
				break
			}
			n++
		}
	}
	end := st.windowEnd() + st.cooldown
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		off := sched.Next()
		if off >= end {
			return
		}
		target := st.t0.Add(off)
		if d := time.Until(target); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			case <-st.stopCh:
				return
			}
		} else if ctx.Err() != nil {
			return
		}
		phase := st.phaseAt(off)
		measured := phase == results.PhaseMeasure
		if !st.admit(measured) {
			return
		}
		j := job{seq: st.seq.Add(1) - 1, intended: target, phase: phase, measured: measured}
		select {
		case st.jobs <- j: // an idle worker took it
		default:
			go st.worker(j)
		}
	}
}

// job is one open-loop arrival.
type job struct {
	seq      int64
	intended time.Time
	phase    string
	measured bool
}

// worker runs open-loop requests: the one it was started for, then any
// the dispatcher hands it while it is idle. The dispatcher never waits for
// a worker: with none idle it starts another, so the pool grows to the
// requests in flight and the schedule never waits on a busy one. Reusing
// workers spares each request a new goroutine and the growth of its stack
// through the HTTP and JSON code, which vegeta-style pools also avoid.
func (st *step) worker(j job) {
	for {
		st.fire(j.seq, j.intended, j.phase, j.measured)
		select {
		case j = <-st.jobs:
		case <-st.stopCh:
			return
		}
	}
}

// closedLoop starts n clients, each sending its next request as soon as
// the previous one ends. Its intended start is that moment, so the
// schedule lag is the client's own turnaround. Clients run their requests
// themselves and return once dispatch has stopped and theirs has ended.
func (st *step) closedLoop(ctx context.Context, n int) {
	o := st.run.opts
	if o.Duration > 0 {
		st.endTimer = time.AfterFunc(time.Until(st.t0.Add(st.windowEnd()+st.cooldown)), st.stopDispatch)
	}
	for w := range n {
		go func() {
			next := st.t0.Add(o.RampUp * time.Duration(w) / time.Duration(n))
			if d := time.Until(next); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-st.stopCh:
					t.Stop()
					return
				}
			}
			for ctx.Err() == nil {
				phase, ok := st.closedPhase(next.Sub(st.t0))
				if !ok {
					return
				}
				measured := phase == results.PhaseMeasure
				if !st.admit(measured) {
					return
				}
				st.fire(st.seq.Add(1)-1, next, phase, measured)
				next = time.Now()
			}
		}()
	}
}

// closedPhase classifies a closed-loop start; false means dispatch is over.
func (st *step) closedPhase(off time.Duration) (string, bool) {
	o := st.run.opts
	if off < st.w0 {
		return results.PhaseWarmup, true
	}
	if o.Duration > 0 {
		switch w1 := st.windowEnd(); {
		case off < w1:
			return results.PhaseMeasure, true
		case off < w1+st.cooldown:
			return results.PhaseCooldown, true
		}
		st.stopDispatch()
		return "", false
	}
	t := st.tickets.Add(1)
	switch {
	case t <= int64(o.Requests):
		return results.PhaseMeasure, true
	case t == int64(o.Requests)+1:
		// The first start after the measured ones closes the window.
		st.w1.CompareAndSwap(-1, int64(off))
		time.AfterFunc(st.cooldown, st.stopDispatch)
	}
	if w1 := st.windowEnd(); off >= w1+st.cooldown {
		st.stopDispatch()
		return "", false
	}
	return results.PhaseCooldown, true
}

// fire runs one request and records it. The caller has admitted it.
func (st *step) fire(seq int64, intended time.Time, phase string, measured bool) {
	defer st.all.Done()
	if measured {
		defer st.measured.Done()
	}
	ctx := st.extra
	if measured {
		ctx = st.work
	}
	gp := gapPool.Get().(*[]itlGap)
	o := outcome{seq: seq, phase: phase, measured: measured, intended: intended, dispatched: time.Now(), gaps: (*gp)[:0]}
	defer func() {
		*gp = o.gaps[:0]
		gapPool.Put(gp)
	}()
	if st.sem != nil {
		select {
		case st.sem <- struct{}{}:
			defer func() { <-st.sem }()
			o.queue = time.Since(o.dispatched)
		case <-ctx.Done():
			o.cancelled, o.end = true, time.Now()
			st.rec.add(&o)
			return
		}
	}
	p, err := st.run.prompts.next(ctx)
	if err != nil {
		if ctx.Err() == nil {
			st.fail(err)
		}
		o.cancelled, o.end = true, time.Now()
		st.rec.add(&o)
		return
	}
	o.knownInput = p.InputTokens
	peak(&st.peak, st.inFlight.Add(1))
	st.exchange(ctx, &p, &o)
	st.inFlight.Add(-1)
	if o.err != nil && ctx.Err() != nil {
		o.cancelled = true
	}
	st.rec.add(&o)
	st.done.Add(1)
	switch {
	case o.cancelled:
	case o.err != nil || o.streamTokens == 0:
		st.failed.Add(1)
		if err := st.run.health.failed(o.err); err != nil {
			st.fail(err)
		}
	default:
		st.run.health.ok()
	}
}

func peak(p *atomic.Int64, v int64) {
	for {
		old := p.Load()
		if v <= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

// exchange sends the request and reads its stream to the end, stamping
// every token-carrying chunk. It is the hot path of the load generator.
func (st *step) exchange(ctx context.Context, p *Prompt, o *outcome) {
	g := st.run
	req, err := g.request(p)
	if err != nil {
		o.err = err
		o.end = time.Now()
		return
	}
	s, call, err := g.client.SendStream(ctx, req)
	if n := len(call.Attempts); n > 0 {
		// The attempt's start is after the body was encoded: the moment
		// the request went to the HTTP client. With no attempt (a context
		// already done) nothing was sent.
		o.sent = call.Attempts[0].Start
		o.status = call.Attempts[n-1].Status
	}
	if err != nil {
		o.err = err
		o.end = time.Now()
		return
	}
	w0 := st.w0
	for {
		ch, err := s.Next()
		if err != nil {
			if err != io.EOF {
				o.err = err
			}
			break
		}
		o.chunks++
		if ch.Usage != nil {
			o.usage, o.hasUsage = *ch.Usage, true
		}
		if ch.FinishReason != "" {
			o.finish = ch.FinishReason
		}
		k := ch.Tokens
		if k == 0 && len(ch.ToolCalls) > 0 {
			// A tool-call delta is model output too; the chunk does not say
			// how many tokens, so it counts as one (usage has the total).
			k = 1
		}
		if k <= 0 {
			continue
		}
		at := ch.Arrived
		if o.streamTokens == 0 {
			// TTFT is stamped here, at the first chunk with a token: never
			// at a role-only or empty first chunk. Tokens beyond the first
			// in this chunk add no ITL sample: they arrived with the first,
			// their time is inside TTFT.
			o.first, o.firstTokens = at, k
		} else {
			o.gaps = append(o.gaps, itlGap{per: at.Sub(o.last) / time.Duration(k), k: int64(k)})
		}
		o.streamTokens += k
		o.last = at
		if rel := at.Sub(st.t0); rel >= w0 && rel < st.windowEnd() {
			o.winTokens += k
		}
	}
	s.Close()
	o.end = time.Now()
}

// progressLine is the periodic line for logs.
func (st *step) progressLine(total time.Duration) string {
	el := time.Since(st.t0).Round(time.Second)
	return fmt.Sprintf("load: step %d: %s  %s/%s  sent %d  done %d  in flight %d  errors %d",
		st.plan.index+1, st.plan.label(), el, total.Round(time.Second), st.seq.Load(), st.done.Load(), st.inFlight.Load(), st.failed.Load())
}

// execute runs the step and returns its summary.
func (st *step) execute(ctx context.Context) (*results.LoadStep, error) {
	g := st.run
	cpu0, cpuOK := cpuTime()
	st.t0 = time.Now()
	stopWatch := context.AfterFunc(ctx, st.interrupt)
	defer stopWatch()
	prog := g.newStepProgress(st)
	if st.plan.kind == "rate" {
		go st.openLoop(ctx)
	} else {
		go st.closedLoop(ctx, st.plan.concurrency)
	}
	<-st.stopCh
	if st.endTimer != nil {
		st.endTimer.Stop()
	}
	st.measured.Wait()
	st.cancelExtra()
	st.all.Wait()
	st.cancelWork()
	prog.finish()
	wall := time.Since(st.t0)
	cpu1, cpuOK1 := cpuTime()

	s := &results.LoadStep{
		Index: st.plan.index, Label: st.plan.label(), Kind: st.plan.kind, Role: st.plan.role,
		Status: results.LoadComplete, Started: st.t0, WallSeconds: wall.Seconds(),
		PeakInFlight: st.peak.Load(),
	}
	if st.plan.kind == "concurrency" {
		s.Concurrency = st.plan.concurrency
	} else {
		s.Rate = st.plan.rate
		s.Arrival = string(g.opts.Arrival)
		if g.opts.Arrival == Gamma {
			s.Burstiness = g.opts.Burstiness
		}
		s.MaxConcurrency = st.plan.maxConc
	}
	st.fatalMu.Lock()
	err := st.fatal
	st.fatalMu.Unlock()
	switch {
	case err != nil:
		s.Status, s.Stopped = results.LoadPartial, err.Error()
	case st.interrupted.Load():
		s.Status, s.Stopped = results.LoadPartial, "interrupted"
	}
	w1 := st.windowEnd()
	if w1 == math.MaxInt64 { // interrupted before the window closed
		w1 = max(wall, st.w0)
	}
	window := max(w1-st.w0, 0)
	s.WindowStart = st.w0.Seconds()
	s.WindowSeconds = window.Seconds()
	st.rec.summary(s, window, g.opts.SLOAttainment)
	s.Client = results.LoadClient{CPUSeconds: results.NaN(), Cores: results.NaN(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if cpuOK && cpuOK1 {
		c := (cpu1 - cpu0).Seconds()
		s.Client.CPUSeconds = results.Float(c)
		s.Client.Cores = float(c / wall.Seconds())
	}
	return s, err
}
