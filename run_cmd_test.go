package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const sampleTest = "testdata/samples/mmlu_sample/test.jsonl"

// readRunJSON reads the fields of run.json these tests look at.
func readRunJSON(t *testing.T, dir string) (status, stopped string, examples int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Status   string `json:"status"`
		Stopped  string `json:"stopped"`
		Examples int    `json:"examples"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Status, r.Stopped, r.Examples
}

type reportRun struct {
	Model    string `json:"model"`
	Examples int    `json:"examples"`
	Scored   int    `json:"scored"`
	Failed   int    `json:"failed"`
	Missing  int    `json:"missing"`
}

func readReportJSON(t *testing.T, dir string) (string, []reportRun) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Status string      `json:"status"`
		Runs   []reportRun `json:"runs"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Status, rep.Runs
}

// Ctrl-C while the preflight call is still retrying an unreachable server
// exits 130, like Ctrl-C at any later point, and leaves run.json saying so
// (not "running") beside a report.
func TestInterruptDuringPreflightExits130(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once the run has started, i.e. run.json says running.
		for range 1000 {
			if b, err := os.ReadFile(filepath.Join(dir, "run.json")); err == nil && bytes.Contains(b, []byte(`"running"`)) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	// Port 1 on loopback refuses connections; 30 attempts with backoff
	// would take far longer than the test.
	r := evalbenchCtx(t, ctx, nil, "run", "--base-url", "http://127.0.0.1:1", "--model", "demo", "--max-attempts", "30",
		"--dataset", sampleTest, "--out", dir, "--quiet")
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	status, stopped, _ := readRunJSON(t, dir)
	if status != "partial" || stopped != "interrupted during the preflight check" {
		t.Fatalf("run.json status %q stopped %q", status, stopped)
	}
	if st, runs := readReportJSON(t, dir); st != "partial" || len(runs) != 1 || runs[0].Missing != 100 {
		t.Fatalf("report.json status %q runs %+v", st, runs)
	}
}

// A preflight call that fails (here: 404, an adapter the server does not
// have) fails the run at once with the server's words; run.json says failed
// with the reason, and no empty table is printed.
func TestRunPreflightFailureIsRecorded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := evalbench(t, nil, "run", "--base-url", "sim", "--model", "demo:no-such-adapter", "--dataset", sampleTest, "--out", dir, "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Fatalf("exit %d, stderr %q; want 1 with the 404", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("a run that scored nothing printed a table:\n%s", r.stdout)
	}
	status, stopped, _ := readRunJSON(t, dir)
	if status != "failed" || !strings.Contains(stopped, "404") || !strings.Contains(stopped, "demo:no-such-adapter") {
		t.Fatalf("run.json status %q stopped %q", status, stopped)
	}
}

// Resuming with a smaller --limit keeps what the journal holds: the report's
// examples count every journaled example, so scored never exceeds examples.
func TestResumeWithSmallerLimitReportAddsUp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"run", "--base-url", "sim", "--model", "demo", "--dataset", sampleTest, "--out", dir, "--quiet", "--concurrency", "4"}
	if r := evalbench(t, nil, append(args, "--limit", "20")...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r := evalbench(t, nil, append(args, "--limit", "5")...)
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	status, _, examples := readRunJSON(t, dir)
	st, runs := readReportJSON(t, dir)
	if status != "complete" || examples != 20 || st != "complete" || len(runs) != 1 {
		t.Fatalf("run.json %q %d, report %q %+v", status, examples, st, runs)
	}
	if m := runs[0]; m.Examples != 20 || m.Scored != 20 || m.Missing != 0 {
		t.Fatalf("report: %+v; want 20 examples, 20 scored", m)
	}
}

// A template that does not parse is a usage error when the config is
// validated, naming the key's file and line (or the --template file), before
// any server starts.
func TestRunConfigTemplateErrorNamesTheKey(t *testing.T) {
	tmp := t.TempDir()
	abs, _ := filepath.Abs(sampleTest)
	cfg := filepath.Join(tmp, "bad.yaml")
	os.WriteFile(cfg, []byte("models: [demo]\nbase_url: sim\ndataset: "+abs+"\ntemplate: |-\n  Q: {{strip .Question}}\n  {{range .Choices}}{{.}}\n  Answer:\n"), 0o644)
	tmpl := filepath.Join(tmp, "prompt.tmpl")
	os.WriteFile(tmpl, []byte("Q: {{title .Question}}\nAnswer:"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"inline in the config", []string{"run", "--config", cfg}, cfg + `:4: key "template": line 3 of the template: unexpected EOF`},
		{"--template file", []string{"run", "--base-url", "sim", "--model", "demo", "--dataset", abs, "--template", tmpl},
			`flag --template ` + tmpl + `: key "template": line 1 of the template: function "title" not defined`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := evalbench(t, nil, append(tc.args, "--out", filepath.Join(tmp, "run"))...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 with %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "embedded simulator") {
				t.Fatal("the simulator started before the config was refused")
			}
		})
	}
}

// --field choices=a,b,c names three columns, as does --field choices=a
// --field choices=b --field choices=c; urfave/cli's comma splitting must
// not break either form. A name other than choices given twice with
// different columns is refused.
func TestRunFieldTakesAListOfChoices(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "custom.jsonl")
	var rows strings.Builder
	for i := range 6 {
		fmt.Fprintf(&rows, `{"prompt":"Which is number %d?","opt_a":"one","opt_b":"two","opt_c":"three","label":%d}`+"\n", i, i%3)
	}
	os.WriteFile(data, []byte(rows.String()), 0o644)
	base := []string{"run", "--base-url", "sim", "--model", "demo", "--dataset", data, "--layout", "generic", "--quiet",
		"--field", "question=prompt", "--field", "answer=label"}
	scores := func(dir string) [][]float64 {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, "samples.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out [][]float64
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var s struct {
				Seq     int       `json:"seq"`
				NChoice int       `json:"n_choices"`
				Status  string    `json:"status"`
				LogLik  []float64 `json:"loglik"`
			}
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.Status != "ok" || s.NChoice != 3 {
				t.Fatalf("sample %d: status %s with %d choices, want ok with 3", s.Seq, s.Status, s.NChoice)
			}
			for len(out) <= s.Seq {
				out = append(out, nil)
			}
			out[s.Seq] = s.LogLik
		}
		return out
	}
	var got [][][]float64
	for i, fields := range [][]string{
		{"--field", "choices=opt_a,opt_b,opt_c"},
		{"--field", "choices=opt_a", "--field", "choices=opt_b", "--field", "choices=opt_c"},
	} {
		dir := filepath.Join(tmp, fmt.Sprint("run", i))
		r := evalbench(t, nil, append(append(base, fields...), "--out", dir)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", fields, r.code, r.stderr)
		}
		got = append(got, scores(dir))
	}
	if len(got[0]) != 6 || !slices.EqualFunc(got[0], got[1], slices.Equal) {
		t.Fatalf("the two spellings scored differently:\n%v\n%v", got[0], got[1])
	}
	r := evalbench(t, nil, append(base, "--field", "choices=opt_a,opt_b", "--field", "question=opt_c", "--out", filepath.Join(tmp, "bad"))...)
	if r.code != 2 || !strings.Contains(r.stderr, "--field question given twice") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
