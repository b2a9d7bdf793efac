package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

func TestSweepRates(t *testing.T) {
	for _, c := range []struct {
		max  float64
		n    int
		want []float64
	}{
		{100, 4, []float64{50, 70.7, 86.6, 100}},
		{80, 1, []float64{80}},
		{0.01, 2, []float64{0.00707, 0.01}},
	} {
		if got := SweepRates(c.max, c.n); !slices.Equal(got, c.want) {
			t.Errorf("SweepRates(%v, %d) = %v, want %v", c.max, c.n, got, c.want)
		}
	}
}

// The sweep finds the simulator's saturation knee: capacity C sequences,
// each held for the service time S = TTFT + (output − 1)·ITL, saturate at
// C/S requests per second.
func TestSweepFindsKnee(t *testing.T) {
	skipHeavy(t)
	const capacity = 8
	const ttft, itl, out = 50 * time.Millisecond, 10 * time.Millisecond, 6
	service := ttft + (out-1)*itl
	knee := capacity / service.Seconds() // 80 req/s
	cfg := simConfig(ttft, itl)
	cfg.Capacity = capacity
	_, c := startSim(t, cfg, 32)
	rep := mustRun(t, c, quick(Options{
		Profile: ProfileSweep, MaxConcurrency: 32, SweepSteps: 5, Arrival: Constant,
		Warmup: 300 * time.Millisecond, Duration: time.Second, Cooldown: 100 * time.Millisecond,
		OutputTokens: out,
	}))
	sw := rep.Sweep
	for _, s := range rep.Steps {
		t.Logf("step %d %-28s offered %6.1f/s achieved %6.1f/s (ratio %.3f) TTFT p50 %.1f ms from intended",
			s.Index, s.Label, float64(s.Throughput.OfferedPerSec), float64(s.Throughput.RequestsPerSec),
			float64(s.Throughput.Achieved), float64(s.Latency.TTFT.FromIntended.P50))
	}
	t.Logf("max throughput %.1f/s, knee %.1f/s at step %d (capacity/service = %.1f/s); stopped by %s: %s",
		float64(sw.MaxThroughput), float64(sw.Knee), sw.KneeStep, knee, sw.StoppedBy, sw.Reason)
	if !within(sw.MaxThroughput, knee, 0.10) {
		t.Errorf("max throughput %v, want %v ± 10%%", sw.MaxThroughput, knee)
	}
	if !within(sw.Knee, knee, 0.10) {
		t.Errorf("knee %v, want %v ± 10%%", sw.Knee, knee)
	}
}

// A sweep stops at the first rate step that misses the SLOs; with none
// met there is no knee.
func TestSweepStopsOnSLO(t *testing.T) {
	_, c := startSim(t, simConfig(30*time.Millisecond, time.Millisecond), 8)
	slo, _ := ParseSLO("ttft=5ms")
	rep := mustRun(t, c, quick(Options{
		Profile: ProfileSweep, MaxConcurrency: 4, SweepSteps: 3, Arrival: Constant,
		Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond, OutputTokens: 2, SLO: slo,
	}))
	sw := rep.Sweep
	if sw.StoppedBy != "slo" || sw.KneeStep != -1 || sw.Knee.Valid() || len(rep.Steps) != 2 {
		t.Errorf("sweep %+v after %d steps; want a stop on the SLO at the first rate step and no knee", sw, len(rep.Steps))
	}
	if !strings.Contains(sw.Reason, "met the SLOs") {
		t.Errorf("reason %q", sw.Reason)
	}
}

// degradingServer serves at most 4 streams at once; each takes 10 ms
// until the switch, 80 ms after it: the saturation step sees 400 req/s,
// the rate steps a server that sustains 50.
func degradingServer(t *testing.T, after time.Duration) *endpoint.Client {
	slots := make(chan struct{}, 4)
	var once sync.Once
	var start time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { start = time.Now() })
		slots <- struct{}{}
		defer func() { <-slots }()
		service := 10 * time.Millisecond
		if time.Since(start) > after {
			service = 80 * time.Millisecond
		}
		time.Sleep(service)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range []string{complChunk(" a", 1), complFinish, complUsage(1), "[DONE]"} {
			fmt.Fprintf(w, "data: %s\n\n", e)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := endpoint.New(endpoint.Options{BaseURL: srv.URL, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// When the rate steps find the server slower than the saturation step
// did, the sweep stops at the first step that does not keep up, marks it
// unsustainable, and reports no knee above it.
func TestSweepStopsOnSaturation(t *testing.T) {
	skipHeavy(t)
	c := degradingServer(t, 600*time.Millisecond)
	rep := mustRun(t, c, quick(Options{
		Profile: ProfileSweep, MaxConcurrency: 16, SweepSteps: 3, Arrival: Constant,
		Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond, OutputTokens: 1, PromptsFile: "testdata/prompts.jsonl",
	}))
	sw := rep.Sweep
	for _, s := range rep.Steps {
		t.Logf("%s: offered %.1f/s, achieved %.1f/s", s.Label, float64(s.Throughput.OfferedPerSec), float64(s.Throughput.RequestsPerSec))
	}
	if sw.StoppedBy != "saturation" || len(rep.Steps) != 2 || sw.KneeStep != -1 {
		t.Fatalf("sweep %+v after %d steps; want a stop on saturation at the first rate step", sw, len(rep.Steps))
	}
	if s := rep.Steps[1]; s.Sustainable == nil || *s.Sustainable {
		t.Errorf("the saturated step is not marked unsustainable: %+v", s.Sustainable)
	}
}

// Each of the sweep's stopping rules, on hand-made steps.
func TestJudgeSweepStep(t *testing.T) {
	step := func(rate, offered, achieved float64, good float64) *results.LoadStep {
		s := &results.LoadStep{Rate: rate}
		s.Throughput.OfferedPerSec = results.Float(offered)
		s.Throughput.Achieved = results.Float(achieved)
		s.Throughput.RequestsPerSec = results.Float(offered * achieved)
		if good >= 0 {
			s.Goodput = &results.LoadGoodput{GoodFraction: results.Float(good), Met: good >= 0.9}
		}
		return s
	}
	plain := &Options{SaturationRatio: 0.95, SLOAttainment: 0.9}
	slo := &Options{SaturationRatio: 0.95, SLOAttainment: 0.9, SLO: SLO{TTFT: time.Second}}
	for _, c := range []struct {
		name        string
		o           *Options
		prev, s     *results.LoadStep
		sustainable bool
		knee        bool
		stop        string
	}{
		{"keeps up", plain, nil, step(10, 10, 1, -1), true, true, ""},
		{"saturated", plain, nil, step(10, 10, 0.8, -1), false, false, "saturation"},
		{"misses the SLOs", slo, nil, step(10, 10, 1, 0.5), true, false, "slo"},
		{"meets the SLOs", slo, nil, step(10, 10, 1, 0.95), true, true, ""},
		{"no gain although more offered", plain, step(20, 20, 1, -1), step(21, 21, 0.95, -1), true, true, "no-gain"},
		{"gain", plain, step(20, 20, 1, -1), step(30, 30, 0.99, -1), true, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sustainable, knee, stop, reason := judgeSweepStep(c.o, c.prev, c.s)
			if sustainable != c.sustainable || knee != c.knee || stop != c.stop || (stop != "") != (reason != "") {
				t.Errorf("got sustainable %v knee %v stop %q (%s); want %v %v %q", sustainable, knee, stop, reason, c.sustainable, c.knee, c.stop)
			}
		})
	}
}
