package loadgen

import (
	"testing"
	"time"
)

// Open-loop steps send at the rate asked for, within 1%, up to 2,000
// requests per second on loopback: achieved = requests sent per second
// over the dispatch span. The requests are short (one output token, no
// server latency) so the server is never the limit.
func TestOpenLoopRatesAchieved(t *testing.T) {
	skipHeavy(t)
	_, c := startSim(t, simConfig(0, 0), 0)
	rates := []float64{50, 500, 2000}
	rep := mustRun(t, c, quick(Options{
		Profile: ProfileRate, Rates: rates, Arrival: Constant,
		Duration: 1500 * time.Millisecond, OutputTokens: 1,
	}))
	for i, s := range rep.Steps {
		tp := s.Throughput
		t.Logf("rate %v/s: sent %d at %.2f/s (%+.3f%%), completed %.1f/s; dispatch lag p50 %.3f p99 %.3f ms; client %.2f cores",
			rates[i], s.Requests.Sent, float64(tp.SendRate), 100*(float64(tp.SendRate)/rates[i]-1), float64(tp.RequestsPerSec),
			float64(s.Latency.DispatchLag.P50), float64(s.Latency.DispatchLag.P99), float64(s.Client.Cores))
		if !within(tp.SendRate, rates[i], 0.01) {
			t.Errorf("rate %v: sent at %v/s, want within 1%%", rates[i], tp.SendRate)
		}
		if s.Requests.Errors != 0 {
			t.Errorf("rate %v: %d errors: %v", rates[i], s.Requests.Errors, s.Errors)
		}
		if want := int64(rates[i] * 1.5); s.Requests.Measured < want-1 || s.Requests.Measured > want+1 {
			t.Errorf("rate %v: %d measured, want %d", rates[i], s.Requests.Measured, want)
		}
	}
}
