package loadgen

import (
	"encoding/base64"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalbench/evalbench/results"
)

// HDR histogram range: durations are recorded in microseconds from 1 µs to
// one hour with 3 significant digits (every percentile within 0.1%), the
// same as the eval reports' latency histograms. Token counts use the same
// geometry with a unit of one token.
const (
	hdrLowest  = 1
	hdrHighest = 3600 * 1000 * 1000
	hdrDigits  = 3
)

// dist accumulates one metric: an HDR histogram for the percentiles (and
// for merging and plotting later), plus exact count, mean, variance
// (Welford), min and max, so those never carry the histogram's rounding.
type dist struct {
	h        *hdrhistogram.Histogram
	scale    float64 // histogram units per value unit: 1000 for ms → µs
	n        int64
	mean, m2 float64
	min, max float64

	// pending holds values not yet in h. A histogram's counts run to
	// hundreds of KiB, and a request records into a dozen of them: one
	// value at a time, between streams, nearly every record missed the
	// cache. A batch at a time finds the counts it touches hot.
	pending []pendingValue
}

type pendingValue struct{ u, k int64 }

const distBatch = 256

func newDist(scale float64) *dist {
	return &dist{h: hdrhistogram.New(hdrLowest, hdrHighest, hdrDigits), scale: scale, min: math.Inf(1), max: math.Inf(-1),
		pending: make([]pendingValue, 0, distBatch)}
}

// flush records the pending values in the histogram.
func (d *dist) flush() {
	for _, p := range d.pending {
		_ = d.h.RecordValues(p.u, p.k) // cannot fail: u is within range
	}
	d.pending = d.pending[:0]
}

func newMSDist() *dist    { return newDist(1000) }
func newCountDist() *dist { return newDist(1) }

// add records value v, k times (an ITL gap split over k tokens is k
// samples of the same value).
func (d *dist) add(v float64, k int64) {
	if k <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	// Chan et al.'s pairwise update: merging k copies of v into the
	// running (n, mean, m2) is exact and O(1).
	n := d.n + k
	delta := v - d.mean
	d.mean += delta * float64(k) / float64(n)
	d.m2 += delta * delta * float64(d.n) * float64(k) / float64(n)
	d.n = n
	d.min = min(d.min, v)
	d.max = max(d.max, v)
	// Values outside the histogram's range are clamped into it so the count
	// stays right; the exact min and max above still tell the truth.
	u := int64(math.Round(v * d.scale))
	u = min(max(u, hdrLowest), hdrHighest)
	d.pending = append(d.pending, pendingValue{u, k})
	if len(d.pending) == distBatch {
		d.flush()
	}
}

func (d *dist) summary() results.Dist {
	d.flush()
	s := results.EmptyDist()
	s.Count = d.n
	if d.n == 0 {
		return s
	}
	s.Mean, s.Min, s.Max = results.Float(d.mean), results.Float(d.min), results.Float(d.max)
	if d.n > 1 {
		s.Std = results.Float(math.Sqrt(d.m2 / float64(d.n-1)))
	}
	q := func(p float64) results.Float {
		v := float64(d.h.ValueAtQuantile(p)) / d.scale
		return results.Float(min(max(v, d.min), d.max))
	}
	s.P50, s.P90, s.P95, s.P99 = q(50), q(90), q(95), q(99)
	return s
}

// encode is base64 of HdrHistogram's V2 compressed encoding, readable by
// every HdrHistogram implementation; "" for an empty histogram.
func (d *dist) encode() string {
	if d.n == 0 {
		return ""
	}
	d.flush()
	b, err := d.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}
