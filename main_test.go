package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cli runs the whole command line in-process.
type result struct {
	code           int
	stdout, stderr string
}

func evalbench(t *testing.T, envVars map[string]string, args ...string) result {
	t.Helper()
	return evalbenchCtx(t, context.Background(), envVars, args...)
}

func evalbenchCtx(t *testing.T, ctx context.Context, envVars map[string]string, args ...string) result {
	t.Helper()
	var out, errb lockedBuffer
	code := run(ctx, append([]string{"evalbench"}, args...), env{
		stdout: &out, stderr: &errb,
		getenv: func(k string) string { return envVars[k] },
	})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The README's first command, as written, on the embedded simulator.
func TestDemoConfigRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	r := evalbench(t, nil, "run", "--config", "configs/demo.yaml", "--out", dir, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"samples.jsonl", "run.json", "report.json", "report.md", "report.html", "subjects.csv", "samples.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	var rep struct {
		Schema string `json:"schema"`
		Runs   []struct {
			Model    string `json:"model"`
			Examples int    `json:"examples"`
			Scored   int    `json:"scored"`
			Failed   int    `json:"failed"`
		} `json:"runs"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "evalbench.report/v1" || len(rep.Runs) != 2 || rep.Runs[1].Model != "demo:lora-a" || rep.Runs[0].Scored != 100 || rep.Runs[0].Failed != 0 {
		t.Fatalf("report.json: %+v", rep)
	}
	if !strings.Contains(r.stdout, "demo:lora-a") {
		t.Fatalf("the headline table names no model:\n%s", r.stdout)
	}
	// Rebuilding the report offline gives the same report.json.
	again := evalbench(t, nil, "report", "--quiet", dir)
	if again.code != 0 {
		t.Fatalf("report: exit %d: %s", again.code, again.stderr)
	}
	b2, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if !bytes.Equal(b, b2) {
		t.Fatal("evalbench report rebuilt a different report.json from the same journal")
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"run", "--no-such-flag"}, "no-such-flag"},
		{"positional argument", []string{"run", "data.jsonl"}, "--dataset"},
		{"no model", []string{"run", "--base-url", "sim", "--dataset", "testdata/samples/mmlu_sample/test.jsonl"}, `key "models": no model given`},
		{"bad scoring", []string{"run", "--base-url", "sim", "--model", "demo", "--dataset", "x.jsonl", "--scoring", "guess"}, `flag --scoring: key "scoring": "guess" is not one of letter, continuation`},
		{"bad config key", []string{"run", "--config", "configs/testdata/unknown_key.yaml"}, "field scorng not found"},
		{"bad model id", []string{"run", "--base-url", "sim", "--model", "a:b:c", "--dataset", "x.jsonl"}, "models"},
		{"bad format", []string{"inspect", "--format", "yaml", "testdata/samples/mmlu_sample/test.jsonl"}, `--format "yaml"`},
		{"ping without model", []string{"ping", "--base-url", "sim"}, "--model"},
		{"bad layout", []string{"inspect", "--layout", "mmlu", "testdata/samples/mmlu_sample/test.jsonl"}, `--layout "mmlu": want one of mmlu-hf`},
		{"bad on-invalid", []string{"convert", "--on-invalid", "ignore", "a.jsonl", "b.jsonl"}, "on-invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := evalbench(t, nil, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestBadDatasetNamesTheRecord(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "mmlu.jsonl")
	os.WriteFile(data, []byte(`{"question":"q","subject":"s","choices":["a","b","c","d"],"answer":1}
{"question":"q2","subject":"s","choices":["a","b","c","d"],"answer":7}
`), 0o644)
	r := evalbench(t, nil, "run", "--base-url", "sim", "--model", "demo", "--dataset", data, "--out", filepath.Join(dir, "run"), "--quiet")
	want := `mmlu.jsonl:2: field "answer": 7 out of range for 4 choices`
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr %q; want exit 1 with %q", r.code, r.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "samples.jsonl")); err == nil {
		t.Fatal("a request was paid for before the dataset was validated")
	}
	insp := evalbench(t, nil, "inspect", "--dataset", data)
	if insp.code != 1 || !strings.Contains(insp.stdout, want) || !strings.Contains(insp.stdout, "1 valid, 1 invalid") {
		t.Fatalf("inspect: exit %d\n%s\n%s", insp.code, insp.stdout, insp.stderr)
	}
}

func TestInspectAndConvert(t *testing.T) {
	r := evalbench(t, nil, "inspect", "--format", "json", "testdata/samples/mmlu_sample/test.jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var sum struct {
		Layout string `json:"layout"`
		Rows   int    `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Layout != "mmlu-hf" || sum.Rows != 100 {
		t.Fatalf("inspect json: %v %+v", err, sum)
	}
	out := filepath.Join(t.TempDir(), "piqa.parquet")
	c := evalbench(t, nil, "convert", "--dataset", "testdata/samples/piqa_sample/valid.jsonl", "--out", out)
	if c.code != 0 || !strings.Contains(c.stdout, "wrote 200 examples") {
		t.Fatalf("convert: exit %d %s %s", c.code, c.stdout, c.stderr)
	}
	back := evalbench(t, nil, "inspect", out)
	if back.code != 0 || !strings.Contains(back.stdout, "200 valid") {
		t.Fatalf("inspect of converted file: %s %s", back.stdout, back.stderr)
	}
}

func TestPingSimulator(t *testing.T) {
	r := evalbench(t, nil, "ping", "--base-url", "sim", "--model", "demo:lora-a")
	if r.code != 0 || !strings.Contains(r.stdout, "tokenize  ok") || !strings.Contains(r.stdout, "complete  ok") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bad := evalbench(t, nil, "ping", "--base-url", "sim", "--model", "demo:nope")
	if bad.code != 1 || !strings.Contains(bad.stderr, "404") {
		t.Fatalf("unknown adapter: exit %d\n%s\n%s", bad.code, bad.stdout, bad.stderr)
	}
}

// The token never shows in an output, even when the server echoes it.
func TestTokenNeverPrinted(t *testing.T) {
	const secret = "flp_SECRET_never_print_me_123"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"bad token ` + r.Header.Get("Authorization") + `"}}`))
	}))
	defer ts.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"ping", "--base-url", ts.URL, "--model", "demo"},
		{"ping", "--base-url", ts.URL, "--model", "demo", "--token-file", tokenFile},
		{"run", "--base-url", ts.URL, "--model", "demo", "--dataset", "testdata/samples/mmlu_sample/test.jsonl", "--out", dir, "--quiet"},
	} {
		r := evalbench(t, map[string]string{"FRIENDLI_TOKEN": secret}, args...)
		if r.code == 0 {
			t.Fatalf("%v succeeded against a 401 server", args)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("%v printed the token:\n%s\n%s", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "401") {
			t.Fatalf("%v: the error does not say 401: %s", args, r.stderr)
		}
	}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
}

func TestRemoteEndpointNeedsAToken(t *testing.T) {
	r := evalbench(t, nil, "ping", "--base-url", "https://api.friendli.ai/dedicated", "--model", "demo")
	if r.code == 0 || !strings.Contains(r.stderr, "FRIENDLI_TOKEN") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// Ctrl-C part-way: exit 130, a partial report, and a journal a rerun resumes.
func TestInterruptExits130WithPartialReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Wait for the first samples, then interrupt.
		for range 400 {
			if b, err := os.ReadFile(filepath.Join(dir, "samples.jsonl")); err == nil && bytes.Count(b, []byte("\n")) >= 5 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	cfg := filepath.Join(t.TempDir(), "slow.yaml")
	abs, _ := filepath.Abs("testdata/samples/mmlu_sample")
	os.WriteFile(cfg, []byte("models: [demo]\nbase_url: sim\ndataset: "+abs+"/test.jsonl\nconcurrency: 2\nsimulator:\n  ttft: 40ms\n"), 0o644)
	r := evalbenchCtx(t, ctx, nil, "run", "--config", cfg, "--out", dir, "--quiet")
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || !strings.Contains(string(b), `"status": "partial"`) {
		t.Fatalf("no partial report: %v\n%s", err, b)
	}
	again := evalbench(t, nil, "run", "--config", cfg, "--out", dir, "--quiet")
	if again.code != 0 {
		t.Fatalf("resume: exit %d %s", again.code, again.stderr)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "report.json"))
	if !strings.Contains(string(b), `"status": "complete"`) {
		t.Fatalf("resumed run is not complete:\n%s", b)
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"run", "report", "inspect", "convert", "ping", "serve"} {
		r := evalbench(t, nil, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", cmd, r.code, r.stdout)
		}
	}
}
