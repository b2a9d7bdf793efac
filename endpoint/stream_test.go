package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenChunk is a Chunk without its arrival time, for golden files.
type goldenChunk struct {
	Text         string        `json:"text,omitempty"`
	TokenIDs     []int         `json:"token_ids,omitempty"`
	Tokens       int           `json:"tokens"`
	FinishReason string        `json:"finish_reason,omitempty"`
	Usage        *Usage        `json:"usage,omitempty"`
	Event        string        `json:"event,omitempty"`
	Index        int           `json:"index"`
	Logprobs     *Logprobs     `json:"logprobs,omitempty"`
	ChatLogprobs *ChatLogprobs `json:"chat_logprobs,omitempty"`
	ToolCalls    []ToolCall    `json:"tool_calls,omitempty"`
	Reasoning    string        `json:"reasoning,omitempty"`
}

type goldenStream struct {
	Chunks []goldenChunk `json:"chunks"`
	// End is "EOF" for a clean end, else the error.
	End           string `json:"end"`
	UnexpectedEOF bool   `json:"unexpected_eof,omitempty"`
}

func drain(t *testing.T, s *Stream) goldenStream {
	t.Helper()
	var g goldenStream
	for {
		ch, err := s.Next()
		if err != nil {
			g.End = "EOF"
			if err != io.EOF {
				g.End = err.Error()
				g.UnexpectedEOF = errors.Is(err, io.ErrUnexpectedEOF)
			}
			return g
		}
		g.Chunks = append(g.Chunks, goldenChunk{ch.Text, slices.Clone(ch.TokenIDs), ch.Tokens, ch.FinishReason, ch.Usage, ch.Event,
			ch.Index, ch.Logprobs, ch.ChatLogprobs, ch.ToolCalls, ch.Reasoning})
	}
}

// TestStreamGolden replays each testdata/streams/*.sse file, with its own
// line endings and rewritten to CRLF and to CR, and compares the chunks to
// the golden file.
func TestStreamGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/streams/*.sse")
	if err != nil || len(files) == 0 {
		t.Fatal("no stream fixtures", err)
	}
	endings := map[string]func([]byte) []byte{
		"LF":   func(b []byte) []byte { return b },
		"CRLF": func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) },
		"CR":   func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r")) },
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sse")
		golden := strings.TrimSuffix(file, ".sse") + ".golden.json"
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, ending := range []string{"LF", "CRLF", "CR"} {
			t.Run(name+"/"+ending, func(t *testing.T) {
				body := endings[ending](src)
				c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write(body)
				}, nil)
				var s *Stream
				var err error
				if strings.HasPrefix(name, "chat_") {
					s, _, err = c.ChatStream(context.Background(), &ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
				} else {
					s, _, err = c.CompletionsStream(context.Background(), &CompletionRequest{Model: "m", Prompt: "hi"})
				}
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				got := drain(t, s)
				b, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				b = append(b, '\n')
				if *update && ending == "LF" {
					if err := os.WriteFile(golden, b, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(b, want) {
					t.Errorf("chunks differ from %s:\n got: %s\nwant: %s", golden, b, want)
				}
			})
		}
	}
}

// The request sent for a stream asks for one, without changing the
// caller's request.
func TestStreamRequest(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.add(r, b)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: [DONE]\n\n")
	}, nil)
	req := &CompletionRequest{Model: "m", Prompt: "p", StreamOptions: &StreamOptions{IncludeUsage: true}}
	s, call, err := c.CompletionsStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next = %v, want EOF", err)
	}
	s.Close()
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after a finished stream's Close = %v, want EOF", err)
	}
	// Closed before the end, a stream says so rather than pretend it ended.
	s2, _, err := c.CompletionsStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := s2.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close = %v, want an error", err)
	}
	if req.Stream {
		t.Error("CompletionsStream set Stream on the caller's request")
	}
	var body map[string]any
	json.Unmarshal(h.body[0], &body)
	if h.count() != 2 {
		t.Fatalf("%d requests", h.count())
	}
	if body["stream"] != true || fmt.Sprint(body["stream_options"]) != "map[include_usage:true]" {
		t.Errorf("body %s", h.body[0])
	}
	r := h.reqs[0]
	if r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Accept-Encoding") != "identity" {
		t.Errorf("headers %v", r.Header)
	}
	if len(call.Attempts) != 1 || call.Attempts[0].Status != 200 {
		t.Errorf("call %+v", call)
	}
	if _, _, err := c.Completions(context.Background(), &CompletionRequest{Stream: true}); err == nil {
		t.Error("Completions accepted Stream: true")
	}
}

// Chunks served with pauses between them arrive with visible gaps, in
// order: Arrived is taken when each event is read, not when it is decoded
// or when the caller asks.
// arrivals reads a completions stream to its end, pausing after each
// chunk, and returns the chunks' arrival times.
func arrivals(t *testing.T, c *Client, pause time.Duration) []time.Time {
	t.Helper()
	s, _, err := c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var times []time.Time
	for {
		ch, err := s.Next()
		if err == io.EOF {
			return times
		}
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, ch.Arrived)
		time.Sleep(pause)
	}
}

// Events that came in one read share its time: a consumer slow to call
// Next must not spread them out as if the server had.
func TestStreamArrivedAtReadNotAtParse(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var b strings.Builder
		for i := range 4 {
			fmt.Fprintf(&b, "data: {\"choices\":[{\"index\":0,\"text\":\"t%d\",\"token\":%d}]}\n\n", i, i)
		}
		b.WriteString("data: [DONE]\n\n")
		io.WriteString(w, b.String())
	}, nil)
	times := arrivals(t, c, 30*time.Millisecond)
	if len(times) != 4 {
		t.Fatalf("%d chunks, want 4", len(times))
	}
	if spread := times[3].Sub(times[0]); spread > 10*time.Millisecond {
		t.Errorf("chunks that arrived together are stamped %v apart: stamped when parsed, not when read", spread)
	}
}

func TestStreamArrivedTimes(t *testing.T) {
	const gap = 150 * time.Millisecond
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := range 4 {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\"t%d\",\"token\":%d}]}\n\n", i, i)
			fl.Flush()
			time.Sleep(gap)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}, nil)
	times := arrivals(t, c, 0)
	if len(times) != 4 {
		t.Fatalf("%d chunks, want 4", len(times))
	}
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		// Generous: the server sleeps 150 ms; anything above a third of
		// that shows the stamps were taken per event.
		if d < gap/3 {
			t.Errorf("chunk %d arrived %v after chunk %d, want about %v", i, d, i-1, gap)
		}
	}
}

// Events larger than any buffer pass through whole.
func TestStreamLongEvent(t *testing.T) {
	text := strings.Repeat("long ", 300_000) // 1.5 MB in one data line
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "text": text, "tokens": []int{1, 2, 3}}}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
	}, nil)
	s, _, err := c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.Next()
	if err != nil || ch.Text != text || ch.Tokens != 3 {
		t.Fatalf("chunk %d bytes, %d tokens, %v", len(ch.Text), ch.Tokens, err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("then %v, want EOF", err)
	}
}

// Cancelling the context ends a stream blocked waiting for the server.
func TestStreamCancel(t *testing.T) {
	release := make(chan struct{})
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, nil)
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	s, _, err := c.CompletionsStream(ctx, &CompletionRequest{Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after cancel")
	}
}

// A 200 that dies before its first byte is retried; after the first byte it
// is not.
func TestStreamRetryBeforeFirstByte(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := h.add(r, nil)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		if n == 1 {
			hijackClose(t, w)
			return
		}
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"text\":\"ok\"}]}\n\ndata: [DONE]\n\n")
	}, nil)
	s, call, err := c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h.count() != 2 || len(call.Attempts) != 2 || call.Attempts[0].Status != 0 || call.Attempts[0].Err == "" || call.Attempts[1].Status != 200 {
		t.Errorf("%d requests, call %+v", h.count(), call)
	}
	if ch, err := s.Next(); err != nil || ch.Text != "ok" {
		t.Errorf("chunk %+v, %v", ch, err)
	}
}

// A server that ignores stream: true and answers JSON gets a clear error.
func TestStreamGotJSON(t *testing.T) {
	c, _ := newServer(t, serveFile(t, "replies/legacy.json", "application/json"), nil)
	_, _, err := c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
	if err == nil || !strings.Contains(err.Error(), "asked for a stream, got a JSON reply") {
		t.Fatalf("error %v", err)
	}
}
