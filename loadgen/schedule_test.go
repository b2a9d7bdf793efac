package loadgen

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Constant arrivals are exactly i/rate apart: no drift, however long.
func TestConstantScheduleExact(t *testing.T) {
	for _, rate := range []float64{1, 7, 2000, 0.25} {
		s, err := NewSchedule(Constant, rate, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100000 {
			got := s.Next()
			want := time.Duration(float64(i) / rate * float64(time.Second))
			if got != want {
				t.Fatalf("rate %v: arrival %d at %v, want %v", rate, i, got, want)
			}
		}
	}
}

// Random schedules have the asked-for mean rate, and gamma gaps the
// dispersion of their burstiness: the squared coefficient of variation of
// Gamma(shape B) gaps is 1/B (1 for Poisson).
func TestRandomSchedulesRateAndDispersion(t *testing.T) {
	const n = 200000
	for _, c := range []struct {
		arrival    Arrival
		burstiness float64
		cv2        float64
	}{
		{Poisson, 0, 1}, {Gamma, 1, 1}, {Gamma, 0.25, 4}, {Gamma, 4, 0.25},
	} {
		for _, rate := range []float64{3, 500} {
			s, err := NewSchedule(c.arrival, rate, c.burstiness, 42)
			if err != nil {
				t.Fatal(err)
			}
			var prev, sum, sum2 float64
			for range n {
				at := s.Next().Seconds()
				g := at - prev
				if g < 0 {
					t.Fatalf("%s: schedule went backwards", c.arrival)
				}
				prev = at
				sum += g
				sum2 += g * g
			}
			mean := sum / n
			cv2 := (sum2/n - mean*mean) / (mean * mean)
			gotRate := 1 / mean
			if math.Abs(gotRate/rate-1) > 0.02 {
				t.Errorf("%s B=%v rate %v: mean rate %.4f, want within 2%%", c.arrival, c.burstiness, rate, gotRate)
			}
			if math.Abs(cv2/c.cv2-1) > 0.05 {
				t.Errorf("%s B=%v rate %v: CV² of gaps %.4f, want %v ± 5%%", c.arrival, c.burstiness, rate, cv2, c.cv2)
			}
		}
	}
}

func TestScheduleSeeded(t *testing.T) {
	draw := func(a Arrival, seed uint64) []time.Duration {
		s, err := NewSchedule(a, 10, 0.5, seed)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]time.Duration, 50)
		for i := range out {
			out[i] = s.Next()
		}
		return out
	}
	for _, a := range []Arrival{Poisson, Gamma} {
		x, y, z := draw(a, 7), draw(a, 7), draw(a, 8)
		same := true
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s: seed 7 gave two schedules (arrival %d: %v vs %v)", a, i, x[i], y[i])
			}
			same = same && x[i] == z[i]
		}
		if same {
			t.Errorf("%s: seeds 7 and 8 gave the same schedule", a)
		}
	}
}

func TestScheduleBadInput(t *testing.T) {
	for _, c := range []struct {
		a          Arrival
		rate, b    float64
		wantErrSub string
	}{
		{Constant, 0, 0, "rate 0"},
		{Poisson, -1, 0, "rate -1"},
		{Poisson, math.NaN(), 0, "rate NaN"},
		{Constant, math.Inf(1), 0, "rate +Inf"},
		{Gamma, 1, -2, "burstiness -2"},
		{"uniform", 1, 0, `arrival "uniform"`},
	} {
		_, err := NewSchedule(c.a, c.rate, c.b, 1)
		if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
			t.Errorf("NewSchedule(%q, %v, %v): error %v, want one naming %q", c.a, c.rate, c.b, err, c.wantErrSub)
		}
	}
}
