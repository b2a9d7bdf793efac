package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/evalbench/evalbench/reports"
	"github.com/evalbench/evalbench/results"
)

// A small run against the embedded simulator writes every file and prints
// the per-step table.
func TestLoadWritesReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "load")
	r := evalbench(t, nil, "load", "--base-url", "sim", "--model", "demo", "--concurrency", "1,4",
		"--duration", "500ms", "--warmup", "100ms", "--cooldown", "100ms",
		"--input-tokens", "32", "--output-tokens", "4", "--slo", "ttft=1s,e2e=2s", "--out", dir)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"req/s", "TTFT p50", "concurrency 1", "concurrency 4", "goodput"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, want := range []string{"load: step 1: concurrency 1", "load: step 2 done", "embedded simulator"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, f := range []string{"load.json", "load.md", "load.html", "requests.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, results.LoadRequestsFile)); !os.IsNotExist(err) {
		t.Errorf("the temporary %s is left behind: %v", results.LoadRequestsFile, err)
	}
	rep, err := results.ReadLoadReport(filepath.Join(dir, "load.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != results.LoadComplete || len(rep.Steps) != 2 || rep.Config.Model != "demo" || !rep.Config.InProcessServer {
		t.Fatalf("load.json: %+v", rep)
	}
	var sent int64
	for _, s := range rep.Steps {
		if s.Requests.OK == 0 || s.Requests.Errors != 0 || !s.Latency.TTFT.FromSent.P50.Valid() || s.Goodput == nil {
			t.Errorf("step %s: %+v", s.Label, s)
		}
		sent += s.Requests.Warmup + s.Requests.Measured + s.Requests.Cooldown
	}
	f, err := os.Open(filepath.Join(dir, "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr := parquet.NewGenericReader[reports.LoadRequestRow](f)
	rows := make([]reports.LoadRequestRow, sent+1)
	n, _ := pr.Read(rows)
	if int64(n) != sent {
		t.Errorf("requests.parquet has %d rows, load.json counts %d requests", n, sent)
	}
	if n > 0 && (rows[0].StepLabel == "" || rows[0].IntendedTime.IsZero()) {
		t.Errorf("first row %+v", rows[0])
	}
	html, _ := os.ReadFile(filepath.Join(dir, "load.html"))
	if !strings.Contains(string(html), "data:image/png;base64,") || strings.Contains(string(html), "<script") {
		t.Error("load.html should embed its charts and have no script")
	}
}

func TestLoadJSONFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "load")
	r := evalbench(t, nil, "load", "--base-url", "sim", "--model", "demo", "--profile", "rate", "--rate", "40",
		"--arrival", "constant", "--requests", "10", "--warmup", "0s", "--cooldown", "0s",
		"--prompts", "loadgen/testdata/prompts.jsonl", "--output-tokens", "2", "--out", dir, "--format", "json", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("--quiet printed %q", r.stderr)
	}
	var rep results.LoadReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not load.json: %v\n%s", err, r.stdout)
	}
	if rep.Schema != results.LoadSchema || rep.Steps[0].Requests.Measured != 10 || rep.Steps[0].Rate != 40 {
		t.Errorf("%+v", rep.Steps[0])
	}
}

func TestLoadBadFlagsExit2(t *testing.T) {
	base := []string{"load", "--base-url", "sim", "--model", "demo"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{"load", "--base-url", "sim"}, "--model"},
		{"rate list", []string{"--profile", "rate", "--rate", "2,x"}, `--rate "2,x": "x" is not a positive number`},
		{"rate without profile", []string{"--rate", "2"}, "--rate needs --profile rate"},
		{"profile rate without rate", []string{"--profile", "rate"}, "--profile rate needs --rate"},
		{"concurrency", []string{"--concurrency", "4,0"}, `--concurrency "4,0": "0" is not a positive integer`},
		{"profile", []string{"--profile", "zigzag"}, `--profile "zigzag"`},
		{"arrival", []string{"--profile", "rate", "--rate", "1", "--arrival", "uniform"}, `--arrival "uniform"`},
		{"burstiness without gamma", []string{"--profile", "rate", "--rate", "1", "--burstiness", "2"}, "--burstiness needs --arrival gamma"},
		{"slo", []string{"--slo", "ttft=5xx"}, `--slo: SLO part "ttft=5xx"`},
		{"slo key", []string{"--slo", "itl=5ms"}, `unknown objective "itl"`},
		{"duration and requests", []string{"--duration", "1s", "--requests", "3"}, "--duration or --requests"},
		{"max attempts", []string{"--max-attempts", "3"}, "--max-attempts"},
		{"tools without chat", []string{"--tools", "math:calculator"}, "--tools needs --api chat"},
		{"api", []string{"--api", "embeddings"}, `--api "embeddings"`},
		{"output tokens", []string{"--output-tokens", "-1"}, "--output-tokens -1"},
		{"warmup", []string{"--warmup", "-1s"}, "--warmup -1s"},
		{"two sources", []string{"--input-tokens", "8", "--prompts", "loadgen/testdata/prompts.jsonl"}, "one of --dataset, --prompts or --input-tokens"},
		{"prompts file", []string{"--prompts", "no/such.jsonl"}, "--prompts"},
		{"format", []string{"--format", "xml"}, `--format "xml"`},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"argument", []string{"extra"}, "no arguments"},
		{"seed", []string{"--seed", "0"}, "--seed 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if args[0] != "load" {
				args = append(append([]string{}, base...), args...)
			}
			r := evalbench(t, nil, append(args, "--out", filepath.Join(t.TempDir(), "x"))...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 naming %q", r.code, r.stderr, c.want)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	r := evalbench(t, nil, "load", "--help")
	for _, want := range []string{"Examples:", "--profile", "--slo", "--arrival", "--max-concurrency", "requests.parquet"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("load --help: exit %d, lacks %q:\n%s", r.code, want, r.stdout)
		}
	}
}

// Ctrl-C: dispatch stops, what was measured is written marked partial,
// and the exit code is 130.
func TestLoadInterruptExits130(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "load")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	r := evalbenchCtx(t, ctx, nil, "load", "--base-url", "sim", "--model", "demo", "--concurrency", "2",
		"--duration", "1m", "--warmup", "200ms", "--input-tokens", "16", "--output-tokens", "2", "--out", dir, "--quiet")
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	rep, err := results.ReadLoadReport(filepath.Join(dir, "load.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != results.LoadPartial || rep.Steps[0].Status != results.LoadPartial || rep.Steps[0].Requests.Measured == 0 {
		t.Errorf("status %s, step %+v", rep.Status, rep.Steps[0])
	}
	if !strings.Contains(r.stdout, "PARTIAL") {
		t.Errorf("the table does not say partial:\n%s", r.stdout)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "load.md"))
	if !strings.Contains(string(md), "stopped before it ended") {
		t.Error("load.md does not say partial")
	}
}

// The sweep runs its saturation step, then rate steps, and reports a knee.
func TestLoadSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("sweep run skipped in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "load")
	r := evalbench(t, nil, "load", "--base-url", "sim", "--model", "demo", "--profile", "sweep", "--max-concurrency", "8",
		"--sweep-steps", "2", "--arrival", "constant", "--duration", "400ms", "--warmup", "100ms", "--cooldown", "50ms",
		"--input-tokens", "16", "--output-tokens", "2", "--out", dir, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep, err := results.ReadLoadReport(filepath.Join(dir, "load.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sweep == nil || len(rep.Steps) < 2 || rep.Steps[0].Role != "throughput" || !rep.Sweep.MaxThroughput.Valid() {
		t.Fatalf("sweep %+v, %d steps", rep.Sweep, len(rep.Steps))
	}
	if !strings.Contains(r.stdout, "Knee") || !strings.Contains(r.stdout, "Maximum throughput") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
