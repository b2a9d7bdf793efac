package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

// cpuMeter reports CPU time per op (user+sys of the whole process, the
// in-process test server included) as cpu-µs/op.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) cpuMeter {
	b.ReportAllocs()
	b.ResetTimer()
	t, _ := cpuTime()
	return cpuMeter{t}
}

func (m cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	if t, ok := cpuTime(); ok {
		b.ReportMetric(float64(t-m.start)/1e3/float64(b.N), "cpu-µs/op")
	}
}

// benchStream is a completions stream of n single-token chunks with usage,
// in the simulator's shape.
func benchStream(n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, `data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","model":"demo","choices":[{"index":0,"text":" word%d","token":%d,"finish_reason":null,"logprobs":null}],"created":1733382157}`+"\n\n", i, 1000+i)
	}
	buf.WriteString(`data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","model":"demo","choices":[{"index":0,"text":"","finish_reason":"length","logprobs":null}],"created":1733382157}` + "\n\n")
	fmt.Fprintf(&buf, `data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","model":"demo","choices":[],"usage":{"prompt_tokens":16,"completion_tokens":%d,"total_tokens":%d},"created":1733382157}`+"\n\n", n, n+16)
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}

func benchServer(b *testing.B, body []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkRequest is the load generator's cost per request against an
// in-process server that answers at once: build and send the request,
// read and time every chunk, record the histograms and counters, and
// write the requests.jsonl line. "bare" is the floor for comparison: a
// plain net/http POST of the same body whose reply is read and discarded,
// as a generic HTTP load tool does.
func BenchmarkRequest(b *testing.B) {
	// As the command runs it (main.go's gcPercent), unless GOGC is set.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	for _, tokens := range []int{1, 16, 64} {
		body := benchStream(tokens)
		b.Run(fmt.Sprintf("loadgen/tokens=%d", tokens), func(b *testing.B) {
			url := benchServer(b, body)
			c, err := endpoint.New(endpoint.Options{BaseURL: url, Concurrency: 1, Retry: endpoint.RetryPolicy{MaxAttempts: 1}})
			if err != nil {
				b.Fatal(err)
			}
			o := quick(Options{Concurrency: []int{1}, Duration: time.Hour, PromptsFile: "testdata/prompts.jsonl"})
			if err := o.Check(); err != nil {
				b.Fatal(err)
			}
			g := &runState{opts: o, client: c, work: context.Background(), streamOpts: &endpoint.StreamOptions{IncludeUsage: true},
				outTokens: endpoint.Ptr(tokens), log: results.NewLoadRequestWriter(io.Discard)}
			g.opts = o
			src, _, err := g.openSource(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			g.prompts = newPrompts(src)
			defer g.prompts.close()
			st := newStep(g, stepPlan{kind: "concurrency", concurrency: 1})
			st.t0 = time.Now()
			m := startCPU(b)
			for i := range b.N {
				st.all.Add(1)
				st.measured.Add(1)
				st.fire(int64(i), time.Now(), results.PhaseMeasure, true)
			}
			m.stop(b)
			if st.rec.counts.OK != int64(b.N) {
				b.Fatalf("%d ok of %d: %v", st.rec.counts.OK, b.N, st.rec.errors)
			}
		})
		b.Run(fmt.Sprintf("bare/tokens=%d", tokens), func(b *testing.B) {
			url := benchServer(b, body) + "/v1/completions"
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			req := []byte(`{"model":"demo","prompt":"Once upon a time","max_tokens":16,"min_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
			m := startCPU(b)
			for range b.N {
				resp, err := hc.Post(url, "application/json", bytes.NewReader(req))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			m.stop(b)
		})
	}
}
