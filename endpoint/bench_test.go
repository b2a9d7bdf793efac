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
		n := drainTokens(b, s)
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
			var d fastDecoder
			m := startCPU(b)
			for range b.N {
				if _, err := decodeCompletion(&d, reply); err != nil {
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

// simEvents are the events of a simulator stream, byte for byte as
// simulator/render.go writes them (`evalbench serve`, then a streamed
// curl): a token, a token whose text needs an escape, the finish and the
// usage chunk, and the chat equivalents.
var simEvents = []struct {
	name string
	chat bool
	data string
}{
	{"token", false, `{"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[{"index":0,"text":" want","token":1118,"finish_reason":null,"logprobs":null}],"created":1796158461}`},
	{"escaped", false, `{"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[{"index":0,"text":"\\","token":95,"finish_reason":null,"logprobs":null}],"created":1796158461}`},
	{"finish", false, `{"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[{"index":0,"text":"","finish_reason":"length","logprobs":null}],"created":1796158461}`},
	{"usage", false, `{"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":16,"total_tokens":23},"created":1796158461}`},
	{"chat", true, `{"id":"chatcmpl-6650b8e529337e9b4e558a08801d29fa","object":"chat.completion.chunk","model":"demo","choices":[{"index":0,"delta":{"content":" want"},"finish_reason":null,"logprobs":null}],"usage":null,"created":1796158461}`},
}

// BenchmarkDecodeStreamEvent is one stream event through the fast path, the
// wire struct reused as a Stream reuses it: the per-event decoding cost of
// a load generator.
func BenchmarkDecodeStreamEvent(b *testing.B) {
	for _, ev := range simEvents {
		b.Run(ev.name, func(b *testing.B) {
			data := []byte(ev.data)
			var sc scanner
			var wc completionChunkWire
			var wh chatChunkWire
			b.SetBytes(int64(len(data)))
			m := startCPU(b)
			for range b.N {
				var ok bool
				if ev.chat {
					wh = chatChunkWire{Choices: wh.Choices[:0]}
					ok = sc.fastChat(data, &wh)
				} else {
					wc = completionChunkWire{Choices: wc.Choices[:0]}
					ok = sc.fastCompletion(data, &wc)
				}
				if !ok {
					b.Fatal("the fast path declined")
				}
			}
			m.stop(b)
		})
	}
}

// simStreamBody is a completions stream as the simulator writes it for
// `evalbench load`: tokens events, the finish and the usage chunk, [DONE].
func simStreamBody(tokens int) []byte {
	var buf bytes.Buffer
	head := `data: {"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[`
	for i := range tokens {
		fmt.Fprintf(&buf, `%s{"index":0,"text":" w%d","token":%d,"finish_reason":null,"logprobs":null}],"created":1796158461}`+"\n\n", head, i, 1000+i)
	}
	buf.WriteString(head + `{"index":0,"text":"","finish_reason":"length","logprobs":null}],"created":1796158461}` + "\n\n")
	fmt.Fprintf(&buf, `data: {"id":"cmpl-0bac8d275ea98460d499ea3cd494861b","object":"text_completion","model":"demo","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":%d,"total_tokens":%d},"created":1796158461}`+"\n\n", tokens, 7+tokens)
	buf.WriteString("data: [DONE]\n\n")
	return buf.Bytes()
}

// BenchmarkStreamFromMemory reads a 16-token simulator stream through a
// Stream with the body in memory: everything the client does per event
// (SSE framing, decoding, chunks) but the network.
func BenchmarkStreamFromMemory(b *testing.B) {
	const tokens = 16
	body := simStreamBody(tokens)
	c, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	br := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	m := startCPU(b)
	for range b.N {
		br.Reset(body)
		s := &Stream{c: c, path: pathCompletions, ctx: ctx, actx: ctx, cancel: func() {}, body: io.NopCloser(br), sse: c.getSSE(br)}
		n := drainTokens(b, s)
		if n != tokens {
			b.Fatalf("%d tokens", n)
		}
	}
	m.stop(b)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(tokens+2), "ns/event")
}

// drainTokens reads s to its end and returns the tokens it carried.
func drainTokens(b *testing.B, s *Stream) int {
	defer s.Close()
	n := 0
	for {
		ch, err := s.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n += ch.Tokens
	}
}
