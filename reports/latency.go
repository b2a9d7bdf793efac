package reports

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HDR histogram range: latencies are recorded in microseconds from 1µs to
// one hour with 3 significant digits, so every percentile is within 0.1%.
const (
	hdrLowestUS  = 1
	hdrHighestUS = 3600 * 1000 * 1000
	hdrDigits    = 3
)

// Request kinds with a fixed place in the report.
const (
	KindCompletions = "completions"
	KindTokenize    = "tokenize"
)

// Latency summarises the latency of one kind of request, in milliseconds.
// Count, mean, std (sample, n−1), min and max are exact; the percentiles
// come from an HDR histogram (3 significant digits) and are clamped to
// [min, max].
type Latency struct {
	Count int   `json:"count"`
	Mean  Float `json:"mean"`
	Std   Float `json:"std"`
	Min   Float `json:"min"`
	P50   Float `json:"p50"`
	P90   Float `json:"p90"`
	P95   Float `json:"p95"`
	P99   Float `json:"p99"`
	Max   Float `json:"max"`
}

// latencyAcc accumulates one kind of request's latencies.
type latencyAcc struct {
	h        *hdrhistogram.Histogram
	n        int
	mean, m2 float64 // Welford's running mean and sum of squared deviations
	min, max float64
}

func newLatencyAcc() *latencyAcc {
	return &latencyAcc{
		h:   hdrhistogram.New(hdrLowestUS, hdrHighestUS, hdrDigits),
		min: math.Inf(1), max: math.Inf(-1),
	}
}

func (a *latencyAcc) add(ms float64) {
	a.n++
	d := ms - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (ms - a.mean)
	a.min = min(a.min, ms)
	a.max = max(a.max, ms)
	// Out-of-range values are clamped into the histogram so the count stays
	// right; the exact min and max above still tell the truth.
	us := int64(math.Round(ms * 1000))
	us = min(max(us, hdrLowestUS), hdrHighestUS)
	_ = a.h.RecordValue(us) // cannot fail: us is within the histogram's range
}

func (a *latencyAcc) result() *Latency {
	l := &Latency{Count: a.n, Mean: NaN(), Std: NaN(), Min: NaN(), P50: NaN(), P90: NaN(), P95: NaN(), P99: NaN(), Max: NaN()}
	if a.n == 0 {
		return l
	}
	l.Mean, l.Min, l.Max = Float(a.mean), Float(a.min), Float(a.max)
	if a.n > 1 {
		l.Std = Float(math.Sqrt(a.m2 / float64(a.n-1)))
	}
	q := func(p float64) Float {
		v := float64(a.h.ValueAtQuantile(p)) / 1000
		return Float(min(max(v, a.min), a.max))
	}
	l.P50, l.P90, l.P95, l.P99 = q(50), q(90), q(95), q(99)
	return l
}
