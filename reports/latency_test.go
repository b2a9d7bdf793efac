package reports

import (
	"math"
	"strings"
	"testing"
)

func TestLatencyPercentiles(t *testing.T) {
	// 1..1000 ms: the nearest-rank percentiles are exact integers; HDR with 3
	// significant digits must be within 0.1% of them.
	a := newLatencyAcc()
	for i := 1000; i >= 1; i-- {
		a.add(float64(i))
	}
	l := a.result()
	for _, c := range []struct {
		name string
		got  Float
		want float64
	}{{"p50", l.P50, 500}, {"p90", l.P90, 900}, {"p95", l.P95, 950}, {"p99", l.P99, 990}} {
		if math.Abs(float64(c.got)-c.want) > c.want*1e-3 {
			t.Errorf("%s = %v, want %v ±0.1%%", c.name, c.got, c.want)
		}
	}
	near(t, "mean", float64(l.Mean), 500.5, 1e-9)
	near(t, "std", float64(l.Std), math.Sqrt(1000*1001/12.0), 1e-9) // var of 1..n with n−1: n(n+1)/12
	near(t, "min", float64(l.Min), 1, 0)
	near(t, "max", float64(l.Max), 1000, 0)
	if l.Count != 1000 {
		t.Errorf("count = %d", l.Count)
	}
}

func TestLatencyEdges(t *testing.T) {
	a := newLatencyAcc()
	if l := a.result(); l.Count != 0 || l.Mean.Valid() || l.P50.Valid() {
		t.Errorf("empty = %+v, want count 0 and nulls", l)
	}
	// Below 1µs and beyond an hour are clamped into the histogram; the
	// percentiles stay within the exact [min, max].
	a.add(0)
	a.add(5 * 3600 * 1000)
	l := a.result()
	if l.Count != 2 || l.Min != 0 || l.Max != 5*3600*1000 {
		t.Errorf("got %+v", l)
	}
	if l.P50 < l.Min || l.P99 > l.Max {
		t.Errorf("percentiles outside [min, max]: %+v", l)
	}
	if l.Std.Valid() != true {
		t.Error("std of two values must be defined")
	}
	one := newLatencyAcc()
	one.add(12.5)
	if l := one.result(); l.Std.Valid() || l.P99 != 12.5 {
		t.Errorf("one value: %+v, want std null and p99 12.5", l)
	}
}

func TestLogTicksAlwaysLabelled(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []string
	}{
		{27, 42, []string{"30", "40"}},
		{0.8, 30, []string{"1", "2", "5", "10", "20"}},
		{3, 4.5, []string{"3", "4"}},
	}
	for _, tc := range cases {
		var got []string
		for _, tk := range (ticks125{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("ticks(%v, %v) labelled %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}
