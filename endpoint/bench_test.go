package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// cpuMeter reports CPU time per op (user+sys, the in-process test server
// included) as the custom metric cpu-µs/op.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU(b *testing.B) cpuMeter {
	b.ReportAllocs()
	b.ResetTimer()
	t, ok := cpuTime()
	return cpuMeter{t, ok}
}

func (m cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	if t, ok := cpuTime(); ok && m.ok {
		b.ReportMetric(float64(t-m.start)/1e3/float64(b.N), "cpu-µs/op")
	}
}

// completionReply builds a realistic forced-token reply: positions forced
// tokens, each with a topK-entry top_logprobs dictionary.
func completionReply(positions, topK int) []byte {
	lp := Logprobs{}
	choice := map[string]any{"index": 0, "seed": 1234567, "finish_reason": "length"}
	text := ""
	var tokens []int
	for p := range positions {
		tok := fmt.Sprintf(" tok%d", p)
		lp.TextOffset = append(lp.TextOffset, len(text))
		text += tok
		tokens = append(tokens, 10000+p)
		lp.TokenLogprobs = append(lp.TokenLogprobs, -0.123456789*float64(p+1))
		lp.Tokens = append(lp.Tokens, tok)
		top := map[string]float64{}
		for k := range topK {
			top[fmt.Sprintf(" alt%d_%d", p, k)] = -0.5 - 0.731234567*float64(k)
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
	}
	choice["text"], choice["tokens"], choice["logprobs"] = text, tokens, &lp
	b, err := json.Marshal(map[string]any{
		"id": "cmpl-26a1e10db8544bc3adb488d2d205288b", "object": "text_completion", "model": "ep-abc123",
		"choices": []any{choice},
		"usage":   map[string]any{"prompt_tokens": 312, "completion_tokens": positions, "total_tokens": 312 + positions},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func benchClient(b *testing.B, h http.HandlerFunc) *Client {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, Token: "flp_bench", Concurrency: 4, Retry: fastRetry(1)})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func scoringRequest(forced int) *CompletionRequest {
	ctx := make([]int, 300)
	for i := range ctx {
		ctx[i] = 1000 + i
	}
	f := make([]int, forced)
	for i := range f {
		f[i] = 10000 + i
	}
	return &CompletionRequest{Model: "ep-abc123", Tokens: ctx, ForcedOutputTokens: f, Logprobs: Ptr(20), MaxTokens: Ptr(forced)}
}

// benchReplies are the replies the scorers get: the letter method asks for
// one position with 20 top entries, the continuation method for one top
// entry at each forced position; "wide" is 16 positions of 20.
var benchReplies = []struct {
	name            string
	positions, topK int
}{{"letter", 1, 20}, {"continuation", 16, 1}, {"wide", 16, 20}}

// BenchmarkCompletions is one forced-token completions call over loopback
// HTTP: encode, send, read, decode strictly.
func BenchmarkCompletions(b *testing.B) {
	for _, br := range benchReplies {
		positions := br.positions
		b.Run(br.name, func(b *testing.B) {
			reply := completionReply(positions, br.topK)
			c := benchClient(b, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Write(reply)
			})
			req := scoringRequest(positions)
			req.Logprobs = Ptr(br.topK)
			ctx := context.Background()
			b.SetBytes(int64(len(reply)))
			m := startCPU(b)
			for range b.N {
				r, _, err := c.Completions(ctx, req)
				if err != nil || len(r.Choices[0].Logprobs.TopLogprobs) != positions {
					b.Fatal(err)
				}
			}
			m.stop(b)
		})
	}
}

// streamBody is a 64-token completions stream with usage, as the load
// generator reads it.
func streamBody(tokens int) []byte {
	var buf bytes.Buffer
	for i := range tokens {
		fmt.Fprintf(&buf, `data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","choices":[{"index":0,"text":" word%d","token":%d,"finish_reason":null,"logprobs":null}],"created":1733382157}`+"\n\n", i, 1000+i)
	}
	buf.WriteString(`data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","choices":[{"index":0,"text":"","finish_reason":"length","logprobs":null}],"created":1733382157}` + "\n\n")
	buf.WriteString(`data: {"id":"cmpl-26a1e10db8544bc3adb488d2d205288b","object":"text_completion","choices":[],"usage":{"prompt_tokens":312,"completion_tokens":64,"total_tokens":376},"created":1733382157}` + "\n\n")
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}

// BenchmarkCompletionsStream is one 64-token streamed completion over
// loopback HTTP, read chunk by chunk to the end.
func BenchmarkCompletionsStream(b *testing.B) {
	body := streamBody(64)
	c := benchClient(b, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(body)
	})
	req := &CompletionRequest{Model: "ep-abc123", Prompt: "Tell me a story.", MaxTokens: Ptr(64), StreamOptions: &StreamOptions{IncludeUsage: true}}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	m := startCPU(b)
	for range b.N {
		s, _, err := c.CompletionsStream(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			ch, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += ch.Tokens
		}
		s.Close()
		if n != 64 {
			b.Fatalf("%d tokens", n)
		}
	}
	m.stop(b)
}

// BenchmarkDecodeCompletion is the reply decode alone, no network: the fast
// path, and the strict decoder it falls back to.
func BenchmarkDecodeCompletion(b *testing.B) {
	for _, br := range benchReplies {
		b.Run(br.name, func(b *testing.B) {
			reply := completionReply(br.positions, br.topK)
			b.SetBytes(int64(len(reply)))
			var p fastjson.Parser
			m := startCPU(b)
			for range b.N {
				if _, err := decodeCompletion(&p, reply); err != nil {
					b.Fatal(err)
				}
			}
			m.stop(b)
		})
		b.Run(br.name+"/strict", func(b *testing.B) {
			reply := completionReply(br.positions, br.topK)
			b.SetBytes(int64(len(reply)))
			m := startCPU(b)
			for range b.N {
				var w completionWire
				if err := json.Unmarshal(reply, &w); err != nil {
					b.Fatal(err)
				}
			}
			m.stop(b)
		})
	}
}

// BenchmarkSSEReader parses the 64-token stream body from memory: the
// per-event cost a load generator pays before JSON decoding.
func BenchmarkSSEReader(b *testing.B) {
	body := streamBody(64)
	br := bytes.NewReader(body)
	r := NewSSEReader(br)
	b.SetBytes(int64(len(body)))
	m := startCPU(b)
	for range b.N {
		br.Reset(body)
		r.reset(br)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
	m.stop(b)
}
