package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/scorers"
)

// preflightAPI answers the preflight tokenize call its own way and passes
// every other call through.
type preflightAPI struct {
	scorers.API
	tokenize func(ctx context.Context) error
	once     sync.Once
}

func (p *preflightAPI) Tokenize(ctx context.Context, model, prompt string) ([]int, endpoint.Call, error) {
	var err error
	p.once.Do(func() { err = p.tokenize(ctx) })
	if err != nil {
		return nil, endpoint.Call{}, err
	}
	return p.API.Tokenize(ctx, model, prompt)
}

// However a session ends before scoring, run.json says how, never
// "running": a failed preflight call is "failed" with the server's words; a
// Ctrl-C while it retries is "partial" (interrupted), returned as
// ErrInterrupted with a Summary, so the command saves a report and exits 130.
func TestSessionEndingInPreflightIsRecorded(t *testing.T) {
	cases := []struct {
		name       string
		tokenize   func(ctx context.Context, cancel context.CancelFunc) error
		status     string
		stopped    string
		wantErr    string
		interrupts bool
	}{
		{
			name: "unauthorized",
			tokenize: func(context.Context, context.CancelFunc) error {
				return errors.New("endpoint: tokenize: 401 Unauthorized: bad token")
			},
			status: results.RunFailed, stopped: "runner: model demo: endpoint: tokenize: 401 Unauthorized: bad token",
			wantErr: "401 Unauthorized",
		},
		{
			name: "interrupted while retrying",
			tokenize: func(ctx context.Context, cancel context.CancelFunc) error {
				cancel() // Ctrl-C during the client's backoff
				<-ctx.Done()
				return fmt.Errorf("endpoint: tokenize: connection refused; retry stopped: %w", ctx.Err())
			},
			status: results.RunPartial, stopped: "interrupted during the preflight check",
			wantErr: "interrupted during the preflight check", interrupts: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, nil)
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			api := &preflightAPI{API: s.client, tokenize: func(ctx context.Context) error { return tc.tokenize(ctx, cancel) }}
			opts := baseOptions(t, dir)
			opts.Models = models(t, "demo")
			sum, err := Run(ctx, api, opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, ErrInterrupted) != tc.interrupts {
				t.Fatalf("error %v; want %q (interrupt: %v)", err, tc.wantErr, tc.interrupts)
			}
			if sum == nil || sum.Dir != dir || sum.PreflightOK || !sum.Partial || sum.Examples != 100 {
				t.Fatalf("summary %+v", sum)
			}
			run, err := results.ReadRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != tc.status || run.Stopped != tc.stopped || run.Finished.IsZero() {
				t.Fatalf("run.json status %q stopped %q finished %v; want %q %q", run.Status, run.Stopped, run.Finished, tc.status, tc.stopped)
			}
			if got := journal(t, dir); len(got) != 0 {
				t.Fatalf("%d samples journaled before the preflight passed", len(got))
			}
		})
	}
}

// A Ctrl-C before the run directory is touched (here: while the dataset
// is read) is an interrupt too, with nothing to save.
func TestInterruptBeforeTheRunDirectory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts := baseOptions(t, filepath.Join(t.TempDir(), "run"))
	sum, err := Run(ctx, &peakAPI{}, opts)
	if !errors.Is(err, ErrInterrupted) || sum != nil {
		t.Fatalf("sum %+v, err %v; want ErrInterrupted and no summary", sum, err)
	}
}

// Resuming with a smaller --limit never leaves journaled samples out of the
// run's count: run.json's examples cover every example with a line, so the
// report's examples, scored, failed and missing add up.
func TestSmallerLimitOnResumeCoversTheJournal(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	opts := baseOptions(t, dir)
	opts.Limit = 20
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	want := journal(t, dir)
	opts.Limit = 5
	sum, err := Run(context.Background(), s.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Examples != 20 || sum.Beyond != 15 || sum.Resumed != 10 || sum.Scored != 0 || sum.Partial {
		t.Fatalf("summary %+v", sum)
	}
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Examples != 20 || run.Status != results.RunComplete || run.Settings.Limit != 5 {
		t.Fatalf("run.json examples %d status %q limit %d", run.Examples, run.Status, run.Settings.Limit)
	}
	sameScores(t, want, journal(t, dir))
}

// An interrupted session can leave examples scored by one model only. A
// later session with a smaller --limit does not select them, so the run is
// partial, without an error: run.json counts them, they have no result yet,
// and run.json says how to get one.
func TestSmallerLimitAfterAnInterruptStaysPartial(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	opts := baseOptions(t, dir)
	opts.Limit = 20
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	// As an interrupt would have left it: the adapter never got to the
	// last 10 examples.
	path := filepath.Join(dir, results.JournalFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var smp results.Sample
		if len(line) > 0 && json.Unmarshal(line, &smp) == nil && (smp.Model != "demo:lora-a" || smp.Seq < 10) {
			kept = append(kept, line...)
		}
	}
	if err := os.WriteFile(path, kept, 0o644); err != nil {
		t.Fatal(err)
	}

	opts.Limit = 5
	sum, err := Run(context.Background(), s.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Examples != 20 || sum.Beyond != 15 || sum.Scored != 0 || !sum.Partial {
		t.Fatalf("run.json examples %d, summary %+v", run.Examples, sum)
	}
	if run.Status != results.RunPartial || !strings.Contains(run.Stopped, "10 samples of examples past --limit 5 have no result") {
		t.Fatalf("status %q stopped %q", run.Status, run.Stopped)
	}
	if got := journal(t, dir); len(got) != 30 {
		t.Fatalf("%d samples journaled, want 30", len(got))
	}
}

// recordSubjects keeps the subject of every completions request, in the
// order they were sent.
type recordSubjects struct {
	scorers.API
	mu       sync.Mutex
	subjects []string
	seqs     []string
}

var aboutSubject = regexp.MustCompile(`about (\w+)\.\n\nQuestion number (\d+) `)

func (r *recordSubjects) Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	if m := aboutSubject.FindStringSubmatch(req.Prompt); m != nil {
		r.mu.Lock()
		if n := len(r.seqs); n == 0 || r.seqs[n-1] != m[2] {
			r.subjects = append(r.subjects, m[1])
			r.seqs = append(r.seqs, m[2])
		}
		r.mu.Unlock()
	}
	return r.API.Completions(ctx, req)
}

// Questions of one subject share their description (and few-shot) prefix,
// so within a window they are sent together. The fixture interleaves three
// subjects; sent in dataset order they would switch subject at every
// question.
func TestQuestionsOfASubjectAreSentTogether(t *testing.T) {
	s := startSim(t, nil)
	api := &recordSubjects{API: s.client}
	opts := baseOptions(t, t.TempDir())
	opts.Models, opts.Dataset, opts.Shots, opts.FewShot = models(t, "demo"), []string{filepath.Join("testdata", "interleaved.jsonl")}, 0, nil
	opts.Concurrency = 1
	if _, err := Run(context.Background(), api, opts); err != nil {
		t.Fatal(err)
	}
	if len(api.subjects) != 48 {
		t.Fatalf("saw %d questions' completions, want 48", len(api.subjects))
	}
	switches := 0
	for i := 1; i < len(api.subjects); i++ {
		if api.subjects[i] != api.subjects[i-1] {
			switches++
		}
	}
	// Sorted, the three subjects switch twice. Two questions are in flight
	// at --concurrency 1, so two neighbours may swap at a boundary.
	if switches > 6 {
		t.Fatalf("%d subject switches over 48 questions, want about 2: %v", switches, api.subjects)
	}
}

// The order itself: by subject, dataset order kept within each.
func TestPrefixOrderIsStableBySubject(t *testing.T) {
	subjects := []string{"virology", "astronomy", "marketing", "astronomy", "virology", "astronomy", "", "marketing"}
	var batch []job
	for i := range 40 {
		batch = append(batch, job{seq: i, ex: datasets.Example{Subject: subjects[i%len(subjects)]}})
	}
	prefixOrder(batch)
	for i := 1; i < len(batch); i++ {
		a, b := batch[i-1], batch[i]
		if a.ex.Subject > b.ex.Subject || (a.ex.Subject == b.ex.Subject && a.seq > b.seq) {
			t.Fatalf("position %d: %q#%d before %q#%d", i, a.ex.Subject, a.seq, b.ex.Subject, b.seq)
		}
	}
	if !slices.IsSortedFunc(batch, func(a, b job) int { return strings.Compare(a.ex.Subject, b.ex.Subject) }) {
		t.Fatal("not grouped by subject")
	}
}

// Running a finished run again sends nothing, not even the preflight call,
// and leaves it complete: the report is rebuilt even with the endpoint down.
func TestFinishedRunAgainSendsNothing(t *testing.T) {
	s := startSim(t, nil)
	dir := t.TempDir()
	opts := baseOptions(t, dir)
	opts.Limit = 5
	if _, err := Run(context.Background(), s.client, opts); err != nil {
		t.Fatal(err)
	}
	down := &preflightAPI{API: s.client, tokenize: func(context.Context) error { return errors.New("endpoint: connection refused") }}
	api := &peakAPI{API: down}
	sum, err := Run(context.Background(), api, opts)
	if err != nil || sum.Partial || sum.Resumed != 10 || sum.Scored != 0 || api.peak != 0 {
		t.Fatalf("summary %+v, err %v, peak %d", sum, err, api.peak)
	}
	if run, _ := results.ReadRun(dir); run.Status != results.RunComplete {
		t.Fatalf("status %q", run.Status)
	}
}
