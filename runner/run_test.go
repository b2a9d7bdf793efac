package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/scorers"
	"github.com/evalbench/evalbench/simulator"
)

var (
	sampleTest = filepath.Join("..", "testdata", "samples", "mmlu_sample", "test.jsonl")
	sampleDev  = filepath.Join("..", "testdata", "samples", "mmlu_sample", "dev.jsonl")
)

type sim struct {
	client *endpoint.Client
	server *simulator.Server
}

func startSim(t testing.TB, edit func(*simulator.Config)) sim {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	cfg.Capacity = 0
	if edit != nil {
		edit(&cfg)
	}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := endpoint.New(endpoint.Options{BaseURL: ts.URL + "/dedicated", Concurrency: 16, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return sim{client: c, server: srv}
}

func models(t testing.TB, ids ...string) []endpoint.ModelID {
	t.Helper()
	var out []endpoint.ModelID
	for _, s := range ids {
		m, err := endpoint.ParseModelID(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func baseOptions(t testing.TB, out string) Options {
	return Options{
		Models:      models(t, "demo", "demo:lora-a"),
		Dataset:     []string{sampleTest},
		FewShot:     []string{sampleDev},
		Shots:       5,
		Concurrency: 8,
		Out:         out,
		Grace:       2 * time.Second,
		Quiet:       true,
	}
}

// journal reads a run's samples, the last line per key winning, as reports do.
func journal(t testing.TB, dir string) map[string]*results.Sample {
	t.Helper()
	m := map[string]*results.Sample{}
	_, err := results.ReadJournal(context.Background(), filepath.Join(dir, results.JournalFile), func(s *results.Sample) error {
		m[s.Key()] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameScores(t testing.TB, want, got map[string]*results.Sample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("sample %q missing", k)
		}
		if g.Status != w.Status || !slices.Equal(g.LogLik, w.LogLik) || g.Pred != w.Pred || g.Acc != w.Acc || g.Seq != w.Seq || g.Gold != w.Gold {
			t.Fatalf("sample %q differs:\n got %+v\nwant %+v", k, g, w)
		}
	}
}

func TestRunScoresEveryExampleForEveryModel(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s.client, baseOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Examples != 100 || sum.Scored != 200 || sum.Failed != 0 || sum.Partial {
		t.Fatalf("summary %+v", sum)
	}
	got := journal(t, dir)
	if len(got) != 200 {
		t.Fatalf("%d samples in the journal", len(got))
	}
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.RunComplete || run.Examples != 100 || run.Settings.Scoring != "letter" || run.Settings.Task != "mmlu" || run.Settings.Shots != 5 {
		t.Fatalf("run.json %+v", run)
	}
	for _, p := range sum.LabelPaths {
		if !strings.HasPrefix(p, "one request per question") {
			t.Fatalf("label path %q", p)
		}
	}
}

// interruptAfter cancels the run once n completions have been sent, as a
// Ctrl-C part-way through would.
type interruptAfter struct {
	scorers.API
	n      int64
	sent   atomic.Int64
	cancel context.CancelFunc
}

func (i *interruptAfter) Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	if i.sent.Add(1) == i.n {
		i.cancel()
	}
	return i.API.Completions(ctx, req)
}

func TestInterruptedRunResumesToTheSameSamples(t *testing.T) {
	s := startSim(t, nil)
	whole := t.TempDir()
	if _, err := Run(context.Background(), s.client, baseOptions(t, whole)); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sum, err := Run(ctx, &interruptAfter{API: s.client, n: 60, cancel: cancel}, baseOptions(t, dir))
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
	if !sum.Partial || sum.Scored == 0 || sum.Scored >= 200 {
		t.Fatalf("interrupted summary %+v", sum)
	}
	if run, _ := results.ReadRun(dir); run.Status != results.RunPartial {
		t.Fatalf("run.json status %q after an interrupt", run.Status)
	}
	partial := journal(t, dir)
	for k, smp := range partial {
		if smp.Status != results.StatusOK {
			t.Fatalf("an interrupted request was journaled as failed: %s %s", k, smp.Error)
		}
	}

	sum, err = Run(context.Background(), s.client, baseOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != len(partial) || sum.Resumed+sum.Scored != 200 || sum.Partial {
		t.Fatalf("resumed summary %+v (journal had %d)", sum, len(partial))
	}
	sameScores(t, journal(t, whole), journal(t, dir))
}

func TestTornLastLineIsRedone(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	opts := baseOptions(t, dir)
	opts.Models = models(t, "demo")
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	want := journal(t, dir)
	path := filepath.Join(dir, results.JournalFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves part of the last line.
	if err := os.WriteFile(path, b[:len(b)-25], 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	opts.Log, opts.Quiet = &log, false
	sum, err := Run(context.Background(), s.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 99 || sum.Scored != 1 || !strings.Contains(log.String(), "torn") {
		t.Fatalf("summary %+v, log %q", sum, log.String())
	}
	sameScores(t, want, journal(t, dir))
}

func TestResumeRefusesOtherSettings(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	opts := baseOptions(t, dir)
	opts.Limit = 10
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	changed := opts
	changed.Shots = 0
	changed.FewShot = nil
	_, err := Run(context.Background(), s.client, changed)
	if err == nil || !strings.Contains(err.Error(), "different settings") || !strings.Contains(err.Error(), "shots: journal has 5, this run has 0") || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("want a refusal naming the setting, got %v", err)
	}
	changed.Fresh = true
	if _, err := Run(context.Background(), s.client, changed); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, results.JournalFile+".prev")); err != nil {
		t.Fatalf("--fresh must keep the old journal beside: %v", err)
	}
	// Concurrency, rate and limit may change between sessions.
	more := opts
	more.Out = t.TempDir()
	if _, err := Run(context.Background(), s.client, more); err != nil {
		t.Fatal(err)
	}
	more.Concurrency, more.Limit = 3, 20
	sum, err := Run(context.Background(), s.client, more)
	if err != nil || sum.Resumed != 20 || sum.Scored != 20 {
		t.Fatalf("resume with a larger limit: %+v, %v", sum, err)
	}
}

// A server that returns too few logprobs produces failed samples, not
// scores, and a run where everything fails stops early with the reason.
func TestTooFewLogprobsFailsAndAborts(t *testing.T) {
	s := startSim(t, func(c *simulator.Config) { c.Quirks.FewerLogprobs = true })
	dir := t.TempDir()
	_, err := Run(context.Background(), s.client, baseOptions(t, dir))
	if err == nil || !strings.Contains(err.Error(), "all failed") || !strings.Contains(err.Error(), "token logprobs") {
		t.Fatalf("want an abort naming the reason, got %v", err)
	}
	got := journal(t, dir)
	if len(got) < abortAfter {
		t.Fatalf("%d samples journaled, want at least %d failed ones", len(got), abortAfter)
	}
	for _, smp := range got {
		if smp.Status != results.StatusFailed || smp.LogLik != nil || !strings.Contains(smp.Error, "token logprobs") {
			t.Fatalf("%+v", smp)
		}
	}
	if run, _ := results.ReadRun(dir); run.Status != results.RunFailed || !strings.Contains(run.Stopped, "all failed") {
		t.Fatalf("status %q, stopped %q", run.Status, run.Stopped)
	}
}

// peakAPI measures requests in flight from the client's side.
type peakAPI struct {
	scorers.API
	mu        sync.Mutex
	now, peak int
	delay     time.Duration
}

func (p *peakAPI) enter() {
	p.mu.Lock()
	p.now++
	p.peak = max(p.peak, p.now)
	p.mu.Unlock()
	time.Sleep(p.delay)
}

func (p *peakAPI) leave() { p.mu.Lock(); p.now--; p.mu.Unlock() }

func (p *peakAPI) Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	p.enter()
	defer p.leave()
	return p.API.Completions(ctx, req)
}

func (p *peakAPI) Tokenize(ctx context.Context, model, prompt string) ([]int, endpoint.Call, error) {
	p.enter()
	defer p.leave()
	return p.API.Tokenize(ctx, model, prompt)
}

func TestConcurrencyCapHolds(t *testing.T) {
	s := startSim(t, nil)
	for _, c := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			api := &peakAPI{API: s.client, delay: time.Millisecond}
			opts := baseOptions(t, t.TempDir())
			opts.Concurrency, opts.Limit = c, 30
			if _, err := Run(context.Background(), api, opts); err != nil {
				t.Fatal(err)
			}
			if api.peak > c || (c > 1 && api.peak < 2) {
				t.Fatalf("peak in flight %d under --concurrency %d", api.peak, c)
			}
		})
	}
}

func TestBadOptionsFailBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no model", func(o *Options) { o.Models = nil }, "no model"},
		{"shots without source", func(o *Options) { o.FewShot = nil }, "5 shots need a few-shot source"},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "rate -1 is negative"},
		{"model twice", func(o *Options) { o.Models = models(t, "demo", "demo") }, "model demo given twice"},
		{"missing dataset", func(o *Options) { o.Dataset = []string{"nope.jsonl"} }, "nope.jsonl"},
		{"bad scoring", func(o *Options) { o.Method = "guess" }, `unknown scoring "guess"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &peakAPI{API: nil}
			opts := baseOptions(t, t.TempDir())
			tc.edit(&opts)
			_, err := Run(context.Background(), api, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
			if api.peak != 0 {
				t.Fatal("a request was sent despite bad options")
			}
		})
	}
}

func TestProgressLinesWhenNotATerminal(t *testing.T) {
	s := startSim(t, func(c *simulator.Config) { c.Latency.TTFT = 2 * time.Millisecond })
	var log bytes.Buffer
	opts := baseOptions(t, t.TempDir())
	opts.Quiet, opts.Log, opts.LogEvery, opts.Concurrency = false, &syncWriter{w: &log}, 20*time.Millisecond, 2
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "progress: ") || !strings.Contains(log.String(), "/200 samples") {
		t.Fatalf("no progress lines in %q", log.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Throttling, server errors and dropped connections are retried by the
// client; every sample is still scored, exactly as on a healthy server, and
// the journal records the attempts for the report.
func TestFaultsAreRetriedAndRecorded(t *testing.T) {
	healthy := startSim(t, nil)
	want := t.TempDir()
	opts := baseOptions(t, want)
	opts.Limit = 40
	if _, err := Run(context.Background(), healthy.client, opts); err != nil {
		t.Fatal(err)
	}

	cfg := simulator.DefaultConfig()
	cfg.Latency, cfg.Capacity = simulator.Latency{}, 0
	cfg.Faults = simulator.Faults{Rate429: 0.15, RetryAfter: time.Millisecond, Rate500: 0.05, Rate503: 0.05, RateReset: 0.05}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client, err := endpoint.New(endpoint.Options{BaseURL: ts.URL + "/dedicated", Concurrency: 8,
		Retry: endpoint.RetryPolicy{MaxAttempts: 10, Initial: time.Millisecond, Multiplier: 1.5, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts.Out = dir
	sum, err := Run(context.Background(), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 {
		t.Fatalf("%d samples failed despite retries", sum.Failed)
	}
	got := journal(t, dir)
	sameScores(t, journal(t, want), got)
	statuses := map[int]int{}
	for _, smp := range got {
		for _, r := range smp.Requests {
			for _, st := range r.Errors {
				statuses[st]++
			}
		}
	}
	if statuses[429] == 0 || statuses[500]+statuses[503] == 0 || statuses[0] == 0 {
		t.Fatalf("the journal does not show the faults: %v", statuses)
	}
}

// --rate spaces every request (tokenize calls included) through a token
// bucket: N requests at R per second cannot finish in less than (N-1)/R.
func TestRateLimitSpacesRequests(t *testing.T) {
	s := startSim(t, nil)
	api := &peakAPI{API: s.client}
	opts := baseOptions(t, t.TempDir())
	opts.Models, opts.Limit, opts.Rate, opts.Shots, opts.FewShot = models(t, "demo"), 12, 100, 0, nil
	start := time.Now()
	if _, err := Run(context.Background(), api, opts); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	requests := 12 + 5*5 // completions, plus tokenize calls verifying the first 5 questions
	if min := time.Duration(requests-1) * time.Second / 100; elapsed < min {
		t.Fatalf("%d requests at --rate 100 took %v, less than %v", requests, elapsed, min)
	}
}

// With the endpoint client itself, --rate paces every attempt, retries
// included: a server that fails 30% of the requests with 503 takes about
// (attempts-1)/rate to serve the run. The bound leaves out 15% for the
// preflight calls, which go before the limiter; pacing calls but not
// retries comes in about 30% under it.
func TestRateLimitPacesRetries(t *testing.T) {
	s := startSim(t, func(c *simulator.Config) { c.Faults.Rate503 = 0.3 })
	c, err := endpoint.New(endpoint.Options{BaseURL: s.client.BaseURL(), Concurrency: 16,
		Retry: endpoint.RetryPolicy{MaxAttempts: 10, Initial: time.Millisecond, Multiplier: 1, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	opts := baseOptions(t, t.TempDir())
	opts.Models, opts.Limit, opts.Rate, opts.Shots, opts.FewShot = models(t, "demo"), 12, 100, 0, nil
	start := time.Now()
	if _, err := Run(context.Background(), c, opts); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	attempts := s.server.Stats().Requests
	if attempts <= 12+25 {
		t.Fatalf("%d requests: the faults did not strike", attempts)
	}
	if min := time.Duration(attempts-1) * time.Second / 100 * 85 / 100; elapsed < min {
		t.Fatalf("%d attempts at --rate 100 took %v, less than %v: retries were not paced", attempts, elapsed, min)
	}
}
