package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/simulator"
)

const mmluSample = "../testdata/samples/mmlu_sample/test.jsonl"

func TestRenderQuestion(t *testing.T) {
	ex := datasets.Example{Question: " What is 2+2? ", Choices: []string{"3", " 4"}, Labels: []string{"A", "B"}}
	if got, want := RenderQuestion(&ex), "What is 2+2?\nA. 3\nB. 4\nAnswer:"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ex.Labels = []string{"1", "2"} // ARC's own labels
	if got := RenderQuestion(&ex); !strings.Contains(got, "\n1. 3\n2. 4\n") {
		t.Errorf("ARC labels: %q", got)
	}
}

// A dataset source renders each question and cycles back to the start.
func TestDatasetSourceCycles(t *testing.T) {
	ctx := context.Background()
	s, err := openDataset(ctx, []string{mmluSample}, datasets.Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var first string
	for i := range 101 {
		p, err := s.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(p.Text, "\nAnswer:") || !strings.Contains(p.Text, "\nA. ") || !strings.Contains(p.Text, "\nD. ") {
			t.Fatalf("prompt %d: %q", i, p.Text)
		}
		if i == 0 {
			first = p.Text
		}
		if i == 100 && p.Text != first {
			t.Errorf("after the 100 rows the source did not start over: %q", p.Text)
		}
	}
	if !strings.HasPrefix(first, "Find the degree for the given field extension") || !strings.Contains(first, "\nB. 4\n") {
		t.Errorf("first prompt %q", first)
	}
}

func TestPromptsFile(t *testing.T) {
	ctx := context.Background()
	read := func(path string, chat bool, n int) ([]Prompt, error) {
		s, err := openPromptsFile(context.Background(), path, chat)
		if err != nil {
			return nil, err
		}
		defer s.close()
		var out []Prompt
		for range n {
			p, err := s.next(ctx)
			if err != nil {
				return out, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	ps, err := read("testdata/prompts.jsonl", false, 4)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Text != "Once upon a time" || ps[1].Text != "The quick brown fox" || ps[3].Text != ps[0].Text {
		t.Errorf("prompts %+v (blank line skipped, cycling at the end)", ps)
	}
	ps, err = read("testdata/prompts_chat.jsonl", true, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps[0].Messages) != 1 || ps[0].Messages[0].Content != "What is 12*7?" || ps[1].Messages[0].Role != "user" {
		t.Errorf("chat prompts %+v", ps)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name, body string
		chat       bool
		want       string
	}{
		{"type", "{\"prompt\": \"fine\"}\n{\"prompt\": 7}\n", false, `:2: field "prompt": want a string`},
		{"json", "{\"prompt\": \"fine\"}\n\n{\"prompt\": \n", false, `:3: invalid JSON`},
		{"nofield", "{\"text\": \"x\"}\n", false, `:1: no "prompt" or "messages" field`},
		{"both", "{\"prompt\": \"x\", \"messages\": []}\n", true, `:1: give "prompt" or "messages", not both`},
		{"chatapi", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n", false, `:1: field "messages": chat messages need the chat API`},
		{"role", "{\"messages\": [{\"content\": \"x\"}]}\n", true, `:1: field "messages[0].role": missing`},
		{"empty", "\n\n", false, `has no prompts`},
		{"array", "[1]\n", false, `:1: not a JSON object`},
		// Found when the file is opened, before any request: only 3 of
		// its prompts are read here.
		{"late", strings.Repeat("{\"prompt\": \"fine\"}\n", 9) + "{\"prompt\": \n", false, `:10: invalid JSON`},
	} {
		path := filepath.Join(dir, c.name+".jsonl")
		if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := read(path, c.chat, 3)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s and %q", c.name, err, path, c.want)
		}
	}
}

// wordTokenizer counts BOS plus, per word, one token per started 3
// letters: long words are several tokens, so calibration must work around
// words that jump over the target.
type wordTokenizer struct{ calls int }

func (w *wordTokenizer) Tokenize(_ context.Context, _, text string) ([]int, endpoint.Call, error) {
	w.calls++
	n := 1
	for _, f := range strings.Fields(text) {
		n += (len(f) + 2) / 3
	}
	return make([]int, n), endpoint.Call{}, nil
}

func TestCalibrate(t *testing.T) {
	ctx := context.Background()
	for _, target := range []int{1, 2, 5, 64, 300, 2000} {
		tok := &wordTokenizer{}
		text, n, err := calibrate(ctx, tok, "m", target, rand.New(rand.NewPCG(1, uint64(target))))
		if err != nil {
			t.Fatalf("target %d: %v", target, err)
		}
		ids, _, _ := tok.Tokenize(ctx, "", text)
		if abs(n-target) > 1 || len(ids) != n || text == "" {
			t.Errorf("target %d: got %d tokens (recount %d) for %q", target, n, len(ids), text)
		}
		t.Logf("target %d: %d tokens in %d tokenize calls", target, n, tok.calls)
	}
}

// Synthetic prompts are calibrated against the server's tokenizer: each
// is within ±1 of the target, the server's usage agrees, and they differ.
func TestSyntheticPromptsMatchServer(t *testing.T) {
	_, c := startSim(t, simConfig(0, 0), 4)
	pool, err := syntheticPool(context.Background(), c, "demo", 100, 8, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, p := range pool {
		ids, _, err := c.Tokenize(context.Background(), "demo", p.Text)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != p.InputTokens || abs(p.InputTokens-100) > 1 {
			t.Errorf("prompt %d: %d tokens recorded, server counts %d, target 100", i, p.InputTokens, len(ids))
		}
		if seen[p.Text] {
			t.Errorf("prompt %d repeats an earlier one", i)
		}
		seen[p.Text] = true
	}
	var log bytes.Buffer
	rep := mustRun(t, c, quick(Options{Concurrency: []int{2}, Requests: 8, InputTokens: 100, SyntheticPool: 8, RequestLog: &log}))
	if in := rep.Steps[0].Latency.InputTokens; !(in.Min >= 99 && in.Max <= 101) {
		t.Errorf("usage prompt tokens %+v, want 100 ± 1", in)
	}
}

// Chat with a built-in serverless tool, on the simulator's tools path.
func TestChatWithTools(t *testing.T) {
	inst, err := simulator.Start(context.Background(), simConfig(time.Millisecond, time.Millisecond), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go inst.Close() })
	c, err := endpoint.New(endpoint.Options{BaseURL: inst.URL() + "/serverless/tools", Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep := mustRun(t, c, quick(Options{
		Model: "meta-llama-3.1-8b-instruct", API: APIChat, Tools: []string{"math:calculator"},
		PromptsFile: "testdata/prompts_chat.jsonl", Concurrency: []int{2}, Requests: 6, RequestLog: &log,
	}))
	s := rep.Steps[0]
	if s.Requests.OK != 6 || s.Requests.Errors != 0 {
		t.Fatalf("%+v %v", s.Requests, s.Errors)
	}
	for _, q := range readLog(t, &log) {
		if q.Status == results.LoadOK && q.OutputTokens < 1 {
			t.Errorf("request %d: no output", q.Seq)
		}
	}
}

func TestErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&endpoint.APIError{Status: 503}, "http_503"},
		{errors.Join(errors.New("endpoint: stream cut"), io.ErrUnexpectedEOF), "stream_cut"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("endpoint: /v1/completions: the server reported an error mid-stream: boom"), "stream_error"},
		{errors.New("endpoint: /v1/completions: decode stream event 3: bad"), "decode"},
		{errors.New("something else"), "other"},
	} {
		if got := errorKind(c.err); got != c.want {
			t.Errorf("errorKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Profile: ProfileRate}, "needs at least one rate"},
		{Options{Profile: ProfileRate, Rates: []float64{-1}}, "rate -1"},
		{Options{Concurrency: []int{0}}, "concurrency 0"},
		{Options{Duration: time.Second, Requests: 3}, "not both"},
		{Options{Arrival: Poisson, Burstiness: 2, Profile: ProfileRate, Rates: []float64{1}}, "needs the gamma arrival"},
		{Options{Tools: []string{"math:calculator"}}, "tools need the chat API"},
		{Options{InputTokens: 5, PromptsFile: "x"}, "one prompt source"},
		{Options{Profile: ProfileSweep, Rates: []float64{1}}, "picks its own rates"},
		{Options{Profile: "zigzag"}, `profile "zigzag"`},
		{Options{SLOAttainment: 1.5}, "slo-attainment 1.5"},
	} {
		err := c.o.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	o := Options{}
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	if o.Duration != DefaultDuration || o.Warmup != DefaultWarmup || o.InputTokens != DefaultInputTokens || len(o.Concurrency) != 4 || o.Arrival != Constant {
		t.Errorf("defaults %+v", o)
	}
}

// Synthetic chat prompts are what the model sees: their text is shortened
// by what the server's chat template adds, measured with one request, so
// usage.prompt_tokens lands on the target.
func TestSyntheticChatPromptsCountTheTemplate(t *testing.T) {
	_, c := startSim(t, simConfig(0, 0), 4)
	var log bytes.Buffer
	rep := mustRun(t, c, quick(Options{API: APIChat, InputTokens: 64, SyntheticPool: 3, Concurrency: []int{2}, Requests: 6, RequestLog: &log}))
	if n := rep.Config.Source.TemplateTokens; n <= 0 {
		t.Fatalf("template tokens %d: the chat template was not measured (notes %q)", n, rep.Notes)
	}
	for _, q := range readLog(t, &log) {
		if q.Status == results.LoadOK && (q.InputTokens < 63 || q.InputTokens > 65) {
			t.Errorf("request %d: %d prompt tokens, want 64 ± 1", q.Seq, q.InputTokens)
		}
	}
}
