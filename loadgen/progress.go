package loadgen

import (
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/evalbench/evalbench/results"
)

// stepProgress shows a step's advance on opts.Log: a bar over the step's
// planned time on a terminal, a line every LogEvery otherwise, nothing
// under Quiet. The start and end lines are printed either way.
type stepProgress struct {
	st   *step
	bar  *progressbar.ProgressBar
	stop chan struct{}
	wg   sync.WaitGroup
}

// planned is the step's expected dispatch time (the request count of a
// closed-loop step is not a time; the bar then counts requests).
func (g *runState) planned() time.Duration {
	o := g.opts
	if o.Duration > 0 {
		return o.Warmup + o.Duration + o.Cooldown
	}
	return 0
}

func (g *runState) newStepProgress(st *step) *stepProgress {
	o := g.opts
	p := &stepProgress{st: st, stop: make(chan struct{})}
	if o.Quiet {
		return p
	}
	what := fmt.Sprintf("measure %s", o.Duration)
	if o.Requests > 0 {
		what = fmt.Sprintf("measure %d requests", o.Requests)
	}
	arrival := ""
	if st.plan.kind == "rate" {
		arrival = fmt.Sprintf(", %s arrivals", o.Arrival)
	}
	fmt.Fprintf(o.Log, "load: step %d: %s%s: warm-up %s, %s, cool-down %s\n",
		st.plan.index+1, st.plan.label(), arrival, o.Warmup, what, o.Cooldown)
	total := g.planned()
	tick := o.LogEvery
	if o.Terminal {
		max := int64(total / time.Millisecond)
		if total == 0 {
			max = int64(o.Requests)
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(o.Log),
			progressbar.OptionSetDescription(fmt.Sprintf("step %d %s", st.plan.index+1, st.plan.label())),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		tick = 200 * time.Millisecond
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				if p.bar == nil {
					fmt.Fprintln(o.Log, st.progressLine(total))
					continue
				}
				p.bar.Describe(fmt.Sprintf("step %d %s  in flight %d  errors %d", st.plan.index+1, st.plan.label(), st.inFlight.Load(), st.failed.Load()))
				if total > 0 {
					_ = p.bar.Set64(min(int64(time.Since(st.t0)/time.Millisecond), int64(total/time.Millisecond)))
				} else {
					_ = p.bar.Set64(min(st.done.Load(), int64(o.Requests)))
				}
			}
		}
	}()
	return p
}

func (p *stepProgress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// logStepEnd prints the step's headline figures.
func (g *runState) logStepEnd(s *results.LoadStep) {
	if g.opts.Quiet {
		return
	}
	partial := ""
	if s.Status == results.LoadPartial {
		partial = " (partial)"
	}
	l := s.Latency
	fmt.Fprintf(g.opts.Log, "load: step %d done%s in %.1fs: %s req/s, %s output tok/s, TTFT p50 %s ms (from sent), ITL p50 %s ms, errors %d/%d\n",
		s.Index+1, partial, s.WallSeconds, num(s.Throughput.RequestsPerSec, 2), num(s.Throughput.OutputTokensPerSec, 1),
		num(l.TTFT.FromSent.P50, 1), num(l.ITL.P50, 2), s.Requests.Errors, s.Requests.OK+s.Requests.Errors)
}

func num(f results.Float, digits int) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.*f", digits, float64(f))
}
