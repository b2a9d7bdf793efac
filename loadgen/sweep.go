package loadgen

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/evalbench/evalbench/results"
)

// SweepRates returns the sweep's rate steps below a maximum throughput:
// max·sqrt(i/n) for i = 1..n, rounded to 3 significant digits. The square
// root packs the steps towards the maximum, where the knee is, while the
// first stays well below it (41% of the maximum with 6 steps).
func SweepRates(max float64, n int) []float64 {
	rates := make([]float64, 0, n)
	for i := 1; i <= n; i++ {
		r := max * math.Sqrt(float64(i)/float64(n))
		r, _ = strconv.ParseFloat(strconv.FormatFloat(r, 'g', 3, 64), 64)
		if len(rates) > 0 && r <= rates[len(rates)-1] {
			continue
		}
		if r > 0 {
			rates = append(rates, r)
		}
	}
	return rates
}

// sweep runs the saturation step (closed loop at MaxConcurrency) to find
// the maximum throughput, then open-loop steps at rising rates up to it,
// stopping once a step is not sustainable (achieved/offered below
// SaturationRatio), misses the SLOs, or delivers no more than the step
// before it although more was offered. The knee is the highest
// throughput of a sustainable step that met the SLOs.
func (g *runState) sweep(ctx context.Context, rep *results.LoadReport) error {
	o := &g.opts
	sw := &results.LoadSweep{MaxThroughput: results.NaN(), Knee: results.NaN(), KneeRate: results.NaN(), KneeStep: -1, Rates: []float64{}}
	rep.Sweep = sw
	err := g.step(ctx, rep, stepPlan{index: 0, kind: "concurrency", role: "throughput", concurrency: o.MaxConcurrency})
	if err != nil {
		sw.StoppedBy, sw.Reason = "interrupted", "stopped during the saturation step"
		return err
	}
	thr := rep.Steps[0].Throughput.RequestsPerSec
	if !thr.Valid() || thr <= 0 {
		sw.StoppedBy = "saturation"
		sw.Reason = "the saturation step completed no request inside its window"
		return nil
	}
	sw.MaxThroughput = thr
	sw.Rates = SweepRates(float64(thr), o.SweepSteps)
	var prev *results.LoadStep
	for i, r := range sw.Rates {
		err := g.step(ctx, rep, stepPlan{index: i + 1, kind: "rate", role: "rate", rate: r})
		s := &rep.Steps[len(rep.Steps)-1]
		if err != nil || s.Status != results.LoadComplete {
			// A step cut short says nothing about what the server sustains.
			sw.StoppedBy, sw.Reason = "interrupted", fmt.Sprintf("stopped during the rate %s/s step", fmtRate(r))
			return err
		}
		sustainable, knee, stop, reason := judgeSweepStep(o, prev, s)
		s.Sustainable = &sustainable
		if knee && (!sw.Knee.Valid() || s.Throughput.RequestsPerSec > sw.Knee) {
			sw.Knee, sw.KneeRate, sw.KneeStep = s.Throughput.RequestsPerSec, results.Float(r), s.Index
		}
		if stop != "" {
			sw.StoppedBy, sw.Reason = stop, reason
			return nil
		}
		prev = s
	}
	sw.StoppedBy = "completed"
	return nil
}

// judgeSweepStep decides on a finished rate step s (prev is the rate step
// before it, nil for the first): whether the server sustained it, whether
// it may be the knee (sustained, SLOs met), and whether the sweep stops
// there, why and in what words.
func judgeSweepStep(o *Options, prev, s *results.LoadStep) (sustainable, knee bool, stop, reason string) {
	ratio := s.Throughput.Achieved
	sustainable = ratio.Valid() && float64(ratio) >= o.SaturationRatio
	sloMet := !o.SLO.Set() || (s.Goodput != nil && s.Goodput.Met)
	knee = sustainable && sloMet
	switch {
	case !sustainable:
		return sustainable, knee, "saturation", fmt.Sprintf("at rate %s/s the server completed %s of the requests offered in the window (threshold %.0f%%)",
			fmtRate(s.Rate), pct(ratio), o.SaturationRatio*100)
	case !sloMet:
		good := results.NaN()
		if s.Goodput != nil {
			good = s.Goodput.GoodFraction
		}
		return sustainable, knee, "slo", fmt.Sprintf("at rate %s/s only %s of the requests met the SLOs (%s; target %.0f%%)",
			fmtRate(s.Rate), pct(good), o.SLO, o.SLOAttainment*100)
	case prev != nil && s.Throughput.RequestsPerSec <= prev.Throughput.RequestsPerSec &&
		s.Throughput.OfferedPerSec > prev.Throughput.OfferedPerSec:
		return sustainable, knee, "no-gain", fmt.Sprintf("at rate %s/s throughput did not grow over the previous step (%.2f vs %.2f req/s) although more was offered",
			fmtRate(s.Rate), finite(s.Throughput.RequestsPerSec), finite(prev.Throughput.RequestsPerSec))
	}
	return sustainable, knee, "", ""
}

func pct(f results.Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(f))
}
