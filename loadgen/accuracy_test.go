package loadgen

import (
	"testing"
	"time"

	"github.com/evalbench/evalbench/results"
)

// skipHeavy skips tests whose figures are tolerances on timing: under the
// race detector (several times slower) or -short they mean nothing.
func skipHeavy(t *testing.T) {
	t.Helper()
	if testing.Short() || raceEnabled {
		t.Skip("timing-accuracy test skipped in -short mode and under the race detector")
	}
}

func within(got results.Float, want, tol float64) bool {
	return got.Valid() && float64(got) >= want*(1-tol) && float64(got) <= want*(1+tol)
}

// At 256 concurrent streams the measured p50 TTFT (from sent) and p50 ITL
// are within 2% of the simulator's configured TTFT and ITL. The 256
// clients' first starts are spread over 400 ms (RampUp), as a real
// population of users would be, so they do not all hit the loopback at the
// same microsecond; the warm-up covers the ramp.
func TestAccuracy256Streams(t *testing.T) {
	skipHeavy(t)
	const ttft, itl = 100 * time.Millisecond, 20 * time.Millisecond
	cfg := simConfig(ttft, itl)
	cfg.Capacity = 1024
	_, c := startSim(t, cfg, 256)
	rep := mustRun(t, c, quick(Options{
		Concurrency: []int{256}, RampUp: 400 * time.Millisecond,
		Warmup: 500 * time.Millisecond, Duration: 1200 * time.Millisecond,
		OutputTokens: 12,
	}))
	s := rep.Steps[0]
	l := s.Latency
	t.Logf("%d measured; p50 TTFT from sent %.3f ms (%+.2f%%), from intended %.3f ms; p50 ITL %.3f ms (%+.2f%%) over %d tokens; client %.2f cores",
		s.Requests.Measured, float64(l.TTFT.FromSent.P50), 100*(float64(l.TTFT.FromSent.P50)/ms(ttft)-1),
		float64(l.TTFT.FromIntended.P50), float64(l.ITL.P50), 100*(float64(l.ITL.P50)/ms(itl)-1), l.ITL.Count, float64(s.Client.Cores))
	if s.Requests.Errors != 0 || s.Requests.Measured < 500 {
		t.Fatalf("%d measured, %d errors: %+v", s.Requests.Measured, s.Requests.Errors, s.Errors)
	}
	if !within(l.TTFT.FromSent.P50, ms(ttft), 0.02) {
		t.Errorf("p50 TTFT %v ms, want %v ± 2%%", l.TTFT.FromSent.P50, ms(ttft))
	}
	if !within(l.ITL.P50, ms(itl), 0.02) {
		t.Errorf("p50 ITL %v ms, want %v ± 2%%", l.ITL.P50, ms(itl))
	}
	if s.PeakInFlight != 256 {
		t.Errorf("peak in flight %d, want 256", s.PeakInFlight)
	}
}
