package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/simulator"
)

// readLog parses requests.jsonl lines.
func readLog(t *testing.T, log *bytes.Buffer) []results.LoadRequest {
	t.Helper()
	var out []results.LoadRequest
	for _, line := range bytes.Split(bytes.TrimSpace(log.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var q results.LoadRequest
		if err := jsonUnmarshal(line, &q); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, q)
	}
	return out
}

// A request belongs to the phase its intended start falls in. With one
// client and requests longer than the warm-up, the warm-up request ends
// inside the window, yet it is not measured: filtering by start time, not
// by overlap with the window.
func TestWarmupExcludedByStartTime(t *testing.T) {
	_, c := startSim(t, simConfig(150*time.Millisecond, 0), 1)
	var log bytes.Buffer
	const warmup, window = 100 * time.Millisecond, 400 * time.Millisecond
	rep := mustRun(t, c, quick(Options{Concurrency: []int{1}, Warmup: warmup, Duration: window, Cooldown: 50 * time.Millisecond, OutputTokens: 1, RequestLog: &log}))
	s := rep.Steps[0]
	lines := readLog(t, &log)
	var measured, okMeasured int64
	warmupEndsInWindow := false
	for _, q := range lines {
		var want string
		switch {
		case q.IntendedMS < ms(warmup):
			want = results.PhaseWarmup
		case q.IntendedMS < ms(warmup+window):
			want = results.PhaseMeasure
		default:
			want = results.PhaseCooldown
		}
		if q.Phase != want {
			t.Errorf("request %d intended at %.1f ms: phase %s, want %s", q.Seq, q.IntendedMS, q.Phase, want)
		}
		if q.Phase == results.PhaseMeasure {
			measured++
			if q.Status == results.LoadOK {
				okMeasured++
			}
		}
		if q.Phase == results.PhaseWarmup && q.EndMS > ms(warmup) {
			warmupEndsInWindow = true
		}
	}
	if !warmupEndsInWindow {
		t.Fatal("the test needs a warm-up request that ends inside the window")
	}
	if s.Requests.Measured != measured || s.Latency.TTFT.FromSent.Count != okMeasured || s.Requests.Warmup == 0 {
		t.Errorf("step counts %+v, TTFT count %d; the log has %d measured (%d ok)", s.Requests, s.Latency.TTFT.FromSent.Count, measured, okMeasured)
	}
	// Throughput counts the completions inside the window, the warm-up
	// request's among them: it did its work there.
	if s.Requests.CompletedInWindow != measured {
		t.Logf("completed in window %d, measured %d", s.Requests.CompletedInWindow, measured)
	}
}

// --requests N measures exactly N requests, open loop and closed loop.
func TestRequestCount(t *testing.T) {
	_, c := startSim(t, simConfig(5*time.Millisecond, time.Millisecond), 4)
	for _, o := range []Options{
		{Concurrency: []int{4}, Requests: 25, Warmup: 50 * time.Millisecond, Cooldown: 20 * time.Millisecond},
		{Profile: ProfileRate, Rates: []float64{200}, Requests: 25, Warmup: 50 * time.Millisecond, Cooldown: 20 * time.Millisecond},
		{Profile: ProfileRate, Rates: []float64{300}, Arrival: Gamma, Burstiness: 0.5, Requests: 40},
	} {
		rep := mustRun(t, c, quick(o))
		s := rep.Steps[0]
		if s.Requests.Measured != int64(o.Requests) || s.Requests.OK != int64(o.Requests) {
			t.Errorf("%s: %+v, want %d measured and ok", s.Label, s.Requests, o.Requests)
		}
		if !(s.WindowSeconds > 0) {
			t.Errorf("%s: window %v s", s.Label, s.WindowSeconds)
		}
	}
}

// Errors are counted by kind, measured and not retried: the simulator's
// seeded 500s and cut streams show up one for one.
func TestErrorsCounted(t *testing.T) {
	cfg := simConfig(2*time.Millisecond, time.Millisecond)
	cfg.Faults.Rate500 = 0.15
	cfg.Faults.RateCut = 0.1
	inst, c := startSim(t, cfg, 4)
	var log bytes.Buffer
	rep := mustRun(t, c, quick(Options{Concurrency: []int{4}, Requests: 200, OutputTokens: 8, RequestLog: &log, PromptsFile: "testdata/prompts.jsonl"}))
	s := rep.Steps[0]
	byKind := map[string]int64{}
	var all500, allCut int64
	for _, q := range readLog(t, &log) {
		if q.Phase == results.PhaseMeasure && q.Status == results.LoadError {
			byKind[q.ErrorKind]++
		}
		if q.HTTPStatus == 500 {
			all500++
		}
		if q.ErrorKind == "stream_cut" {
			allCut++
		}
	}
	st := inst.Server().Stats()
	t.Logf("errors %v; simulator: 500s %d, cuts %d", s.Errors, st.ByStatus[500], st.Cuts)
	if s.Errors["http_500"] == 0 || s.Errors["stream_cut"] == 0 {
		t.Fatalf("errors by kind %v: want http_500 and stream_cut", s.Errors)
	}
	for k, n := range byKind {
		if s.Errors[k] != n {
			t.Errorf("errors[%s] = %d, the log has %d", k, s.Errors[k], n)
		}
	}
	if all500 != st.ByStatus[500] || allCut != st.Cuts {
		t.Errorf("the log has %d 500s and %d cuts; the simulator sent %d and %d", all500, allCut, st.ByStatus[500], st.Cuts)
	}
	if want := float64(s.Requests.Errors) / float64(s.Requests.OK+s.Requests.Errors); float64(s.ErrorRate) != want || s.Requests.Errors == 0 {
		t.Errorf("error rate %v, want %v", s.ErrorRate, want)
	}
	if s.Latency.TTFT.FromSent.Count != s.Requests.OK {
		t.Errorf("latency over %d requests, want the %d successes", s.Latency.TTFT.FromSent.Count, s.Requests.OK)
	}
}

// Cancelling the run stops dispatch, lets requests in flight finish within
// the grace period, cancels the rest, and returns what was measured,
// marked partial, with ErrInterrupted.
func TestCancelGivesPartial(t *testing.T) {
	for _, c := range []struct {
		name          string
		ttft          time.Duration
		grace         time.Duration
		wantCancelled bool
	}{
		{"finish in grace", 50 * time.Millisecond, 2 * time.Second, false},
		{"cancelled after grace", 5 * time.Second, 20 * time.Millisecond, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, cl := startSim(t, simConfig(c.ttft, 0), 4)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(400*time.Millisecond, cancel)
			var log bytes.Buffer
			rep, err := Run(ctx, cl, quick(Options{Concurrency: []int{4, 8}, Duration: time.Minute, Grace: c.grace, OutputTokens: 2, RequestLog: &log}))
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("err %v, want ErrInterrupted", err)
			}
			if rep == nil || rep.Status != results.LoadPartial || len(rep.Steps) != 1 || rep.Steps[0].Status != results.LoadPartial {
				t.Fatalf("report %+v", rep)
			}
			s := rep.Steps[0]
			if s.WindowSeconds >= 60 || s.WindowSeconds <= 0 {
				t.Errorf("window %v s: want it cut at the interrupt", s.WindowSeconds)
			}
			if got := s.Requests.Cancelled > 0; got != c.wantCancelled {
				t.Errorf("cancelled %d, want some: %v", s.Requests.Cancelled, c.wantCancelled)
			}
			if s.Requests.Errors != 0 {
				t.Errorf("%d errors: a cancellation is not an error (%v)", s.Requests.Errors, s.Errors)
			}
			n := int64(len(readLog(t, &log)))
			if n != s.Requests.Warmup+s.Requests.Measured+s.Requests.Cooldown || n == 0 {
				t.Errorf("%d log lines, counts %+v", n, s.Requests)
			}
		})
	}
}

// With --max-concurrency the wait for a slot is client queue time: it is
// part of the schedule lag and of the from-intended latencies, not of the
// from-sent ones.
func TestMaxConcurrencyQueues(t *testing.T) {
	_, c := startSim(t, simConfig(40*time.Millisecond, 0), 2)
	rep := mustRun(t, c, quick(Options{Profile: ProfileRate, Rates: []float64{100}, Arrival: Constant, MaxConcurrency: 2, Duration: 400 * time.Millisecond, OutputTokens: 1}))
	s := rep.Steps[0]
	l := s.Latency
	if s.PeakInFlight > 2 {
		t.Errorf("peak in flight %d, cap 2", s.PeakInFlight)
	}
	if l.ClientQueue.Count == 0 || !(l.ClientQueue.P50 > 10) {
		t.Errorf("client queue %+v: want a queue (100/s offered, 50/s served)", l.ClientQueue)
	}
	if !(l.TTFT.FromIntended.P50 > l.TTFT.FromSent.P50+10) || !(l.ScheduleLag.P50 > l.DispatchLag.P50+10) {
		t.Errorf("from intended %v vs sent %v; schedule lag %v vs dispatch lag %v", l.TTFT.FromIntended.P50, l.TTFT.FromSent.P50, l.ScheduleLag.P50, l.DispatchLag.P50)
	}
}

// Multi-token chunks from the simulator (speculative decoding): ITL is per
// token, so it stays the configured ITL whatever the chunk size, and the
// chunk count drops.
func TestSimulatorChunkTokens(t *testing.T) {
	skipHeavy(t)
	const itl = 10 * time.Millisecond
	for _, k := range []int{1, 4} {
		cfg := simConfig(20*time.Millisecond, itl)
		cfg.Quirks.ChunkTokens = k
		_, c := startSim(t, cfg, 4)
		var log bytes.Buffer
		rep := mustRun(t, c, quick(Options{Concurrency: []int{4}, Requests: 16, OutputTokens: 9, RequestLog: &log}))
		s := rep.Steps[0]
		if !within(s.Latency.ITL.P50, ms(itl), 0.10) || !within(s.Latency.TPOT.P50, ms(itl), 0.10) {
			t.Errorf("chunk tokens %d: ITL p50 %v ms, TPOT p50 %v ms, want %v ± 10%%", k, s.Latency.ITL.P50, s.Latency.TPOT.P50, ms(itl))
		}
		if want := int64(8 * 16); s.Latency.ITL.Count != want {
			t.Errorf("chunk tokens %d: %d ITL samples, want %d (8 per request)", k, s.Latency.ITL.Count, want)
		}
		for _, q := range readLog(t, &log) {
			if q.Phase == results.PhaseMeasure && q.StreamTokens != 9 {
				t.Errorf("chunk tokens %d: %d tokens streamed, want 9", k, q.StreamTokens)
			}
		}
	}
}

var _ = simulator.DefaultConfig

// A dataset whose record 30 is bad stops the step there: partial, with the
// record's place as its reason, and measured over the time it ran rather
// than the window planned, so its rates stay true.
func TestBadDatasetRecordEndsTheStep(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		answer := "0"
		if i == 29 {
			answer = "7"
		}
		fmt.Fprintf(&b, `{"question":"q%d","choices":["a","b"],"answer":%s}`+"\n", i, answer)
	}
	path := filepath.Join(t.TempDir(), "d.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := startSim(t, simConfig(5*time.Millisecond, time.Millisecond), 1)
	rep, err := Run(context.Background(), c, quick(Options{Concurrency: []int{1, 2}, Duration: 3 * time.Second, Dataset: []string{path}, OutputTokens: 2}))
	if err == nil || !strings.Contains(err.Error(), "d.jsonl:30") {
		t.Fatalf("error %v, want the bad record's place", err)
	}
	if len(rep.Steps) != 1 {
		t.Fatalf("%d steps: the run went on after its prompts failed", len(rep.Steps))
	}
	s := rep.Steps[0]
	if s.Status != results.LoadPartial || !strings.Contains(s.Stopped, "d.jsonl:30") || rep.Status != results.LoadPartial {
		t.Errorf("step status %q stopped %q, run status %q", s.Status, s.Stopped, rep.Status)
	}
	if s.WindowSeconds >= 2 || s.Requests.OK < 20 {
		t.Errorf("window %.2fs with %d requests: the window was not cut where the step ended", s.WindowSeconds, s.Requests.OK)
	}
	if want := float64(s.Requests.CompletedInWindow) / s.WindowSeconds; !within(s.Throughput.RequestsPerSec, want, 0.01) {
		t.Errorf("requests/s %v, want %v over the window the step ran", s.Throughput.RequestsPerSec, want)
	}
}
