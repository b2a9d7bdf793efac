package loadgen

import (
	"strings"
	"testing"

	"github.com/evalbench/evalbench/results"
)

// Each warning fires on its own condition and not otherwise.
func TestStepWarnings(t *testing.T) {
	dist := func(p50, p99 float64) results.Dist {
		d := results.EmptyDist()
		d.Count, d.P50, d.P99 = 100, results.Float(p50), results.Float(p99)
		return d
	}
	// healthy is a step that warrants no warning.
	healthy := func() results.LoadStep {
		s := results.LoadStep{Index: 0, Label: "rate 10/s", Kind: "rate", Rate: 10, Status: results.LoadComplete,
			WindowStart: 5, WindowSeconds: 30}
		s.Requests = results.LoadCounts{Sent: 300, Measured: 300, OK: 300}
		s.Client = results.LoadClient{CPUSeconds: 1, Cores: 0.1, GOMAXPROCS: 2}
		s.Throughput.SendRate = 10
		s.Latency.ScheduleLag = dist(0.2, 1)
		s.Latency.DispatchLag = dist(0.1, 0.5)
		s.Latency.E2E.FromIntended = dist(400, 900)
		return s
	}
	for _, c := range []struct {
		name string
		edit func(*results.LoadStep)
		want string // "" for no warning
	}{
		{"healthy", func(*results.LoadStep) {}, ""},
		{"busy client", func(s *results.LoadStep) { s.Client.Cores = 0.93 }, "used 0.93 CPU cores"},
		{"late schedule", func(s *results.LoadStep) { s.Latency.ScheduleLag = dist(2, 8) }, "schedule lag p99 8.0 ms"},
		{"queue under a cap is not lateness", func(s *results.LoadStep) {
			s.MaxConcurrency = 4
			s.Latency.ScheduleLag = dist(50, 300)
		}, ""},
		{"late dispatch under a cap", func(s *results.LoadStep) {
			s.MaxConcurrency = 4
			s.Latency.DispatchLag = dist(2, 7)
		}, "dispatch lag p99 7.0 ms"},
		{"every request failed", func(s *results.LoadStep) { s.Requests.OK, s.Requests.Errors = 0, 300 }, "every measured request failed"},
		{"short warm-up", func(s *results.LoadStep) { s.WindowStart, s.WindowSeconds = 0, 2 }, "warm-up (0s) is shorter than the median E2E latency (0.4s): completions lag the window's start, so its throughput is underestimated by about E2E/window (20%)"},
		{"window shorter than E2E", func(s *results.LoadStep) { s.WindowStart, s.WindowSeconds = 0, 0.3 }, "the window ends before a request started in it can finish"},
		{"short warm-up, small effect", func(s *results.LoadStep) { s.WindowStart = 0 }, ""},
		{"send rate short", func(s *results.LoadStep) { s.Throughput.SendRate = 8 }, "sent at 8.0/s, below the 10.0/s"},
		{"usage missing", func(s *results.LoadStep) { s.Requests.UsageMissing = 3 }, "3 requests had no usage chunk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := healthy()
			c.edit(&s)
			o := Options{Arrival: Constant}
			w := stepWarnings(&o, &s)
			switch {
			case c.want == "" && len(w) > 0:
				t.Errorf("warnings %q, want none", w)
			case c.want != "" && (len(w) != 1 || !strings.Contains(w[0], c.want)):
				t.Errorf("warnings %q, want one saying %q", w, c.want)
			}
		})
	}
}
