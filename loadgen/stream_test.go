package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

// event is one scripted SSE event, sent after a pause.
type event struct {
	after time.Duration
	data  string
}

// scriptServer answers every streamed request with the same events; it
// serves container paths (/v1/...).
func scriptServer(t *testing.T, events []event) *endpoint.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for _, e := range events {
			if e.after > 0 {
				time.Sleep(e.after)
			}
			fmt.Fprintf(w, "data: %s\n\n", e.data)
			f.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	c, err := endpoint.New(endpoint.Options{BaseURL: srv.URL, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oneRequest runs a closed-loop step that measures exactly one request
// and returns the step and that request's log line.
func oneRequest(t *testing.T, c Client, o Options) (results.LoadStep, *results.LoadRequest) {
	t.Helper()
	var log bytes.Buffer
	o.Concurrency, o.Requests, o.RequestLog = []int{1}, 1, &log
	if o.PromptsFile == "" {
		o.PromptsFile = "testdata/prompts.jsonl"
	}
	rep := mustRun(t, c, quick(o))
	var measured *results.LoadRequest
	for _, line := range bytes.Split(bytes.TrimSpace(log.Bytes()), []byte("\n")) {
		var q results.LoadRequest
		if err := jsonUnmarshal(line, &q); err != nil {
			t.Fatal(err)
		}
		if q.Phase == results.PhaseMeasure {
			measured = &q
		}
	}
	if measured == nil {
		t.Fatalf("no measured request in the log:\n%s", log.String())
	}
	return rep.Steps[0], measured
}

func chatChunk(delta string) string {
	return `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null,"logprobs":null}],"usage":null,"created":1}`
}

const (
	chatFinish = `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"length","logprobs":null}],"usage":null,"created":1}`
	usage3     = `{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12},"created":1}`
)

// A role-only first delta (and an empty content delta) arriving at once
// must not stop the TTFT clock: it runs to the first chunk with a token.
func TestTTFTSkipsEmptyFirstChunks(t *testing.T) {
	const pause = 80 * time.Millisecond
	for _, c := range []struct {
		name  string
		api   API
		first []event
		tok   func(string) string
		tail  []event
	}{
		{"chat role-only", APIChat, []event{{data: chatChunk(`{"role":"assistant"}`)}, {data: chatChunk(`{"content":""}`)}},
			func(s string) string { return chatChunk(`{"content":"` + s + `"}`) },
			[]event{{data: chatFinish}, {data: usage3}}},
		{"completions empty text", APICompletions, []event{{data: `{"id":"x","object":"text_completion","choices":[{"index":0,"text":"","finish_reason":null}],"created":1}`}},
			func(s string) string { return complChunk(s, 5) },
			[]event{{data: complFinish}, {data: complUsage(3)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := append(c.first,
				event{after: pause, data: c.tok("Hi")}, event{after: 5 * time.Millisecond, data: c.tok(" there")},
				event{after: 5 * time.Millisecond, data: c.tok("!")})
			events = append(append(events, c.tail...), event{data: "[DONE]"})
			s, q := oneRequest(t, scriptServer(t, events), Options{API: c.api})
			if q.Status != results.LoadOK || q.TTFTMS == nil {
				t.Fatalf("request %+v", q)
			}
			if *q.TTFTMS < ms(pause) {
				t.Errorf("TTFT %.3f ms: stamped before the first token (which came after %v)", *q.TTFTMS, pause)
			}
			if q.StreamTokens != 3 || q.OutputTokens != 3 || !q.Usage {
				t.Errorf("stream tokens %d, output %d, usage %v; want 3, 3, true", q.StreamTokens, q.OutputTokens, q.Usage)
			}
			if got := s.Latency.ITL.Count; got != 2 {
				t.Errorf("%d ITL samples, want 2", got)
			}
		})
	}
}

func complChunk(text string, tokens ...int) string {
	tok := ""
	switch len(tokens) {
	case 0:
	case 1:
		tok = fmt.Sprintf(`,"token":%d`, tokens[0])
	default:
		tok = `,"tokens":[` + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(tokens)), ","), "[]") + `]`
	}
	return `{"id":"x","object":"text_completion","choices":[{"index":0,"text":"` + text + `"` + tok + `,"finish_reason":null}],"created":1}`
}

func complUsage(completion int) string {
	return fmt.Sprintf(`{"id":"x","object":"text_completion","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":%d,"total_tokens":%d},"created":1}`, completion, 4+completion)
}

const complFinish = `{"id":"x","object":"text_completion","choices":[{"index":0,"text":"","finish_reason":"length"}],"created":1}`

// Output tokens come from usage; without usage they are counted from the
// stream; a disagreement is counted, and usage wins.
func TestUsageVersusCountedTokens(t *testing.T) {
	body := func(usage string) []event {
		ev := []event{{data: complChunk(" a", 1)}, {after: 2 * time.Millisecond, data: complChunk(" b", 2)},
			{after: 2 * time.Millisecond, data: complChunk(" c", 3)}, {data: complFinish}}
		if usage != "" {
			ev = append(ev, event{data: usage})
		}
		return append(ev, event{data: "[DONE]"})
	}
	for _, c := range []struct {
		name                string
		usage               string
		out                 int
		missing, mismatched int64
	}{
		{"agree", complUsage(3), 3, 0, 0},
		{"disagree", complUsage(5), 5, 0, 1},
		{"no usage", "", 3, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, q := oneRequest(t, scriptServer(t, body(c.usage)), Options{})
			if q.OutputTokens != c.out || q.StreamTokens != 3 {
				t.Errorf("output tokens %d (stream %d), want %d (3)", q.OutputTokens, q.StreamTokens, c.out)
			}
			if s.Requests.UsageMissing != c.missing || s.Requests.UsageMismatch != c.mismatched {
				t.Errorf("usage missing %d, mismatched %d; want %d, %d", s.Requests.UsageMissing, s.Requests.UsageMismatch, c.missing, c.mismatched)
			}
			// TPOT divides the decode time by the output tokens after the first.
			if want := (*q.E2EMS - *q.TTFTMS) / float64(c.out-1); q.TPOTMS == nil || abs64(*q.TPOTMS-want) > 1e-3 {
				t.Errorf("TPOT %v, want %.4f", q.TPOTMS, want)
			}
		})
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// A first chunk carrying several tokens gives one TTFT and no ITL sample
// for its extra tokens; a later chunk of k tokens gives k samples.
func TestMultiTokenChunks(t *testing.T) {
	events := []event{
		{data: complChunk(" a b c", 1, 2, 3)},
		{after: 20 * time.Millisecond, data: complChunk(" d e", 4, 5)},
		{after: 20 * time.Millisecond, data: complChunk(" f", 6)},
		{data: complFinish}, {data: complUsage(6)}, {data: "[DONE]"},
	}
	s, q := oneRequest(t, scriptServer(t, events), Options{})
	if q.StreamTokens != 6 || q.Chunks != 5 {
		t.Fatalf("stream tokens %d, chunks %d; want 6 and 5", q.StreamTokens, q.Chunks)
	}
	if got := s.Latency.ITL.Count; got != 3 {
		t.Errorf("%d ITL samples, want 3 (2 for the 2-token chunk, 1 for the last)", got)
	}
	// Mean ITL: the decode time over the 3 tokens after the first chunk.
	if want := (*q.E2EMS - *q.TTFTMS) / 3; q.ITLMeanMS == nil || abs64(*q.ITLMeanMS-want) > 1e-3 {
		t.Errorf("mean ITL %v, want %.4f", q.ITLMeanMS, want)
	}
	// The 2-token chunk's gap is split: its samples are about half the
	// single-token chunk's.
	if min, max := float64(s.Latency.ITL.Min), float64(s.Latency.ITL.Max); !(min < 0.75*max) {
		t.Errorf("ITL min %.2f ms, max %.2f ms: the 2-token gap was not split", min, max)
	}
}

func jsonUnmarshal(b []byte, v any) error {
	return jsonDecode(bytes.NewReader(b), v)
}

// Goodput: a request is good iff it succeeded and met every SLO (TTFT from
// the intended send time); errors count as not good.
func TestGoodput(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, `{"error":{"message":"busy"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		time.Sleep(40 * time.Millisecond)
		for _, e := range []string{complChunk(" a", 1), complChunk(" b", 2), complFinish, complUsage(2), "[DONE]"} {
			fmt.Fprintf(w, "data: %s\n\n", e)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := endpoint.New(endpoint.Options{BaseURL: srv.URL, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		slo     string
		allGood bool // every success meets the SLO
	}{
		{"ttft=2s,e2e=5s", true},
		{"ttft=20ms", false}, // the first token comes after 40 ms
		{"tpot=1h,e2e=1h,ttft=1h", true},
	} {
		slo, err := ParseSLO(tc.slo)
		if err != nil {
			t.Fatal(err)
		}
		rep := mustRun(t, c, quick(Options{Concurrency: []int{1}, Requests: 10, SLO: slo, SLOAttainment: 0.5, PromptsFile: "testdata/prompts.jsonl"}))
		s := rep.Steps[0]
		g := s.Goodput
		if g == nil || s.Requests.Errors == 0 {
			t.Fatalf("%s: goodput %+v, counts %+v", tc.slo, g, s.Requests)
		}
		want := 0.0
		if tc.allGood {
			want = float64(s.Requests.OK) / float64(s.Requests.OK+s.Requests.Errors)
		}
		if float64(g.GoodFraction) != want || g.Good != int64(want*float64(s.Requests.OK+s.Requests.Errors)) {
			t.Errorf("%s: good %d (%.3f), want fraction %.3f of %+v", tc.slo, g.Good, float64(g.GoodFraction), want, s.Requests)
		}
		// Goodput counts good completions: with every success good it is
		// the throughput, errors or not (they are already out of it).
		wantRate := 0.0
		if tc.allGood {
			wantRate = float64(s.Throughput.RequestsPerSec)
		}
		if float64(g.RequestsPerSec) != wantRate || wantRate == 0 && tc.allGood {
			t.Errorf("%s: goodput %v req/s, want %v", tc.slo, g.RequestsPerSec, wantRate)
		}
		if g.Met != (want >= 0.5) {
			t.Errorf("%s: met %v with good fraction %v and attainment 0.5", tc.slo, g.Met, want)
		}
	}
}

// A run whose first requests all fail (a wrong URL, model or token) stops
// after AbortAfter of them with the first error, the step partial with it
// as its reason, instead of measuring failures at full speed.
func TestAllFailingRunStops(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"error":{"message":"no such model"}}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c, err := endpoint.New(endpoint.Options{BaseURL: srv.URL, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), c, quick(Options{Concurrency: []int{2, 4}, Duration: 5 * time.Second, PromptsFile: "testdata/prompts.jsonl"}))
	if err == nil || !strings.Contains(err.Error(), "first 20 requests all failed") || !strings.Contains(err.Error(), "no such model") {
		t.Fatalf("error %v", err)
	}
	if rep == nil || len(rep.Steps) != 1 || rep.Status != results.LoadPartial || rep.Steps[0].Status != results.LoadPartial ||
		!strings.Contains(rep.Steps[0].Stopped, "all failed") || !strings.Contains(rep.Stopped, "all failed") {
		t.Fatalf("report %+v", rep)
	}
	if s := rep.Steps[0]; s.WallSeconds > 2 || n.Load() > 30 {
		t.Errorf("the step ran %.1fs and sent %d requests after the run was doomed", s.WallSeconds, n.Load())
	}
	found := false
	for _, w := range rep.Warnings {
		found = found || strings.Contains(w, "every measured request failed")
	}
	if !found {
		t.Errorf("no warning that every request failed: %q", rep.Warnings)
	}
}
