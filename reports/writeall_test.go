package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalbench/evalbench/results"
)

// copyRun copies a fixture run directory into a temporary one.
func copyRun(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range []string{results.RunFile, results.JournalFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestWriteAllFiles(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	r, err := WriteAll(context.Background(), dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		JSONFile, MarkdownFile, HTMLFile, CSVFile, ParquetFile,
		"results_lmeval_demo.json", "results_lmeval_demo__lora-a.json",
		"plots/accuracy_by_subject_demo.svg", "plots/accuracy_by_subject_demo.png",
		"plots/accuracy_by_subject_demo__lora-a.svg", "plots/latency_hist_demo.png",
		"plots/latency_cdf.svg", "plots/latency_cdf.png", "plots/reliability.svg", "plots/reliability.png",
	} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("missing %s: %v", name, err)
			continue
		}
		if st.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, st.Mode().Perm())
		}
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("leftover temporary file %s", e.Name())
		}
	}

	// report.json on disk is r.JSON() plus a newline, and reads back.
	b, _ := os.ReadFile(filepath.Join(dir, JSONFile))
	want, _ := r.JSON()
	if !bytes.Equal(b, append(want, '\n')) {
		t.Error("report.json differs from Report.JSON()")
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || len(back.Runs) != 2 || back.Runs[1].Model != "demo:lora-a" {
		t.Errorf("report.json read back: schema %q, %d runs", back.Schema, len(back.Runs))
	}

	// subjects.csv: a header and one row per model and subject.
	f, _ := os.Open(filepath.Join(dir, CSVFile))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rows); got != 1+6+6 {
		t.Errorf("subjects.csv has %d rows, want 13", got)
	}
	if strings.Join(rows[0], ",") != "model,subject,group,n,acc,acc_stderr,acc_norm,acc_norm_stderr,failed" {
		t.Errorf("subjects.csv header %v", rows[0])
	}

	// The lm-eval file of each model carries that model's numbers.
	var lm map[string]any
	readJSON(t, filepath.Join(dir, "results_lmeval_demo__lora-a.json"), &lm)
	res := lm["results"].(map[string]any)
	ff := res["mmlu_formal_logic"].(map[string]any)
	if ff["acc,none"].(float64) != float64(r.Runs[1].Subjects["formal_logic"].Acc) {
		t.Errorf("lm-eval mmlu_formal_logic acc %v, report %v", ff["acc,none"], r.Runs[1].Subjects["formal_logic"].Acc)
	}
	if lm["model_name"] != "demo:lora-a" || lm["model_name_sanitized"] != "demo__lora-a" {
		t.Errorf("lm-eval model names %v %v", lm["model_name"], lm["model_name_sanitized"])
	}
	if _, ok := res["mmlu_made_up_subject"]; !ok {
		t.Error("a subject outside the mapping must still be a task")
	}
	for _, child := range lm["group_subtasks"].(map[string]any)["mmlu_stem"].([]any) {
		if child == "mmlu_made_up_subject" {
			t.Error("a subject outside the mapping must be in no group")
		}
	}
}

func TestLMEvalSingleModelAndOtherTask(t *testing.T) {
	dir := copyRun(t, "testdata/hand")
	// A non-MMLU task: one result named after settings.task, no groups.
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.Settings.Task, run.Settings.Layout = "hellaswag", "hellaswag"
	b, _ := os.ReadFile(filepath.Join(dir, results.JournalFile))
	b = bytes.ReplaceAll(b, []byte(`"subject": "anatomy", `), nil)
	b = bytes.ReplaceAll(b, []byte(`"subject": "formal_logic", `), nil)
	if err := os.WriteFile(filepath.Join(dir, results.JournalFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteRun(dir, run); err != nil {
		t.Fatal(err)
	}
	r, err := WriteAll(context.Background(), dir, Options{Version: "test", SkipPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs[0].Groups != nil {
		t.Error("groups computed for a run whose layout is not MMLU")
	}
	if _, ok := r.Runs[0].Subjects["hellaswag"]; !ok || len(r.Runs[0].Subjects) != 1 {
		t.Errorf("subjects = %v, want the task as the one subject", sortedKeys(r.Runs[0].Subjects))
	}
	var lm map[string]any
	readJSON(t, filepath.Join(dir, "results_lmeval.json"), &lm)
	res := lm["results"].(map[string]any)
	hs, ok := res["hellaswag"].(map[string]any)
	if !ok || len(res) != 1 {
		t.Fatalf("results = %v, want one task hellaswag", res)
	}
	if hs["acc,none"].(float64) != 4.0/6 || hs["acc_norm,none"] == nil {
		t.Errorf("hellaswag = %v", hs)
	}
	if len(lm["groups"].(map[string]any)) != 0 {
		t.Error("groups in a non-MMLU lm-eval file")
	}
}

func TestPartialRun(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.Status = results.RunPartial
	if err := results.WriteRun(dir, run); err != nil {
		t.Fatal(err)
	}
	// Keep the first 40 lines and tear the 41st, as a crash mid-write does.
	b, _ := os.ReadFile(filepath.Join(dir, results.JournalFile))
	lines := bytes.SplitAfter(b, []byte("\n"))
	torn := append(bytes.Join(lines[:40], nil), lines[40][:len(lines[40])/2]...)
	if err := os.WriteFile(filepath.Join(dir, results.JournalFile), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := WriteAll(context.Background(), dir, Options{Version: "test", SkipPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Journal.Torn || r.Journal.Lines != 40 {
		t.Errorf("journal = %+v, want 40 lines and torn", r.Journal)
	}
	var missing int
	for _, m := range r.Runs {
		missing += m.Missing
	}
	if missing == 0 {
		t.Fatal("a partial run with half its journal has nothing missing")
	}
	check := func(name, want string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not say %q", name, want)
		}
	}
	check(JSONFile, `"status": "partial"`)
	check(MarkdownFile, "PARTIAL RUN (interrupted)")
	check(HTMLFile, `class="banner" id="partial">PARTIAL RUN (interrupted)`)
	check("results_lmeval_demo.json", `"evalbench_status": "partial"`)
	var head bytes.Buffer
	if err := r.WriteHeadline(&head); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(head.String(), "PARTIAL RUN (interrupted)") || !strings.Contains(head.String(), "missing)") {
		t.Errorf("headline does not mark the run partial:\n%s", head.String())
	}
	rows := readParquet(t, filepath.Join(dir, ParquetFile))
	if want := finalSamples(t, dir, 40); len(rows) != len(want) {
		t.Errorf("parquet has %d rows, want %d", len(rows), len(want))
	}
}

func TestEmptyJournal(t *testing.T) {
	dir := copyRun(t, "testdata/hand")
	if err := os.Remove(filepath.Join(dir, results.JournalFile)); err != nil {
		t.Fatal(err)
	}
	r, err := WriteAll(context.Background(), dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Runs[0]
	if m.Scored != 0 || m.Missing != 7 || m.Metrics.Acc.Valid() || m.Metrics.AccCI95 != nil || m.Metrics.AccMacroCI95 != nil {
		t.Errorf("empty journal: %+v", m)
	}
	b, _ := r.JSON()
	if bytes.Contains(b, []byte("NaN")) {
		t.Error("NaN in report.json")
	}
}

func TestBadJournal(t *testing.T) {
	tests := []struct {
		name    string
		edit    func([]byte) []byte
		wantErr string
	}{
		{"unknown model", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"model": "m", "id": "q3"`), []byte(`"model": "x", "id": "q3"`), 1)
		}, `reports: samples.jsonl:4: field "model": "x" is not one of run.json's settings.models`},
		{"acc contradicts pred", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"pred": 0, "pred_norm": 0, "acc": false, "acc_norm": false`), []byte(`"pred": 0, "pred_norm": 0, "acc": true, "acc_norm": false`), 1)
		}, `reports: samples.jsonl:2: field "acc": true contradicts pred 0 and gold 1`},
		{"negative latency", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"latency_ms": 300.0`), []byte(`"latency_ms": -3`), 1)
		}, `reports: samples.jsonl:3: field "requests": request 0: field "latency_ms": invalid latency -3`},
		{"damaged middle line", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`{"model": "m", "id": "q2"`), []byte(`{"model": "m", "id": `), 1)
		}, `samples.jsonl:3:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRun(t, "testdata/hand")
			path := filepath.Join(dir, results.JournalFile)
			b, _ := os.ReadFile(path)
			edited := tt.edit(b)
			if bytes.Equal(edited, b) {
				t.Fatal("the edit changed nothing: fix the test")
			}
			os.WriteFile(path, edited, 0o644)
			_, err := Build(context.Background(), dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build(context.Background(), t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Errorf("no run.json: error %v", err)
	}
	if _, err := Build(context.Background(), "testdata/hand", Options{BootstrapIters: 2_000_000}); err == nil || !strings.Contains(err.Error(), "BootstrapIters") {
		t.Errorf("huge BootstrapIters: error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, "testdata/run2", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
}

// A base URL with credentials must not reach the report.
func TestRedactsBaseURL(t *testing.T) {
	dir := copyRun(t, "testdata/hand")
	run, _ := results.ReadRun(dir)
	run.Settings.BaseURL = "https://user:s3cret@example.invalid/v1?api_key=s3cret"
	results.WriteRun(dir, run)
	r, err := WriteAll(context.Background(), dir, Options{SkipPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{JSONFile, MarkdownFile, HTMLFile, "results_lmeval.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, []byte("s3cret")) {
			t.Errorf("%s contains the secret", name)
		}
	}
	if r.Config.BaseURL != "https://example.invalid/v1?REDACTED" {
		t.Errorf("base_url = %q", r.Config.BaseURL)
	}
}

// A run whose last session failed says so, with run.json's reason, on one
// line whatever the reason holds.
func TestFailedRunBanner(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	run, err := results.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.Status = results.RunFailed
	run.Stopped = "endpoint: /v1/tokenize: 401 Unauthorized:\ncheck the token"
	if err := results.WriteRun(dir, run); err != nil {
		t.Fatal(err)
	}
	r, err := WriteAll(context.Background(), dir, Options{Version: "test", SkipPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Run.Stopped != run.Stopped {
		t.Errorf("report.json run.stopped %q, want run.json's", r.Run.Stopped)
	}
	var head bytes.Buffer
	if err := r.WriteHeadline(&head); err != nil {
		t.Fatal(err)
	}
	if want := "FAILED RUN (endpoint: /v1/tokenize: 401 Unauthorized: check the token)"; !strings.HasPrefix(head.String(), want) {
		t.Errorf("headline:\n%s\nwant it to start %q", head.String(), want)
	}
}
