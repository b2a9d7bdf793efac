package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fastConfig is the demo configuration without latency, jitter or a
// capacity limit, for tests that are not about timing.
func fastConfig() Config {
	c := DefaultConfig()
	c.Latency = Latency{}
	c.Capacity = 0
	return c
}

func start(t testing.TB, cfg Config) *Instance {
	t.Helper()
	inst, err := Start(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := inst.Close(); err != nil {
			t.Error(err)
		}
	})
	return inst
}

// post sends body (a string or a value to marshal) and returns the status,
// the response body and the response.
func post(t testing.TB, url string, body any) (int, []byte, *http.Response) {
	t.Helper()
	return postWith(t, http.DefaultClient, url, body, nil)
}

func postWith(t testing.TB, c *http.Client, url string, body any, hdr map[string]string) (int, []byte, *http.Response) {
	t.Helper()
	var raw []byte
	switch v := body.(type) {
	case string:
		raw = []byte(v)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", url, err)
	}
	return resp.StatusCode, b, resp
}

// Client-side wire structs, written from the API notes independently of the
// server's appenders.

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type wireLogprobs struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

type wireChoice struct {
	Index        int             `json:"index"`
	Seed         *uint64         `json:"seed"`
	Text         string          `json:"text"`
	Tokens       []int           `json:"tokens"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

type wireCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Model   string       `json:"model"`
	Choices []wireChoice `json:"choices"`
	Usage   wireUsage    `json:"usage"`
}

func (c *wireChoice) logprobs(t testing.TB) *wireLogprobs {
	t.Helper()
	var lp wireLogprobs
	if err := json.Unmarshal(c.Logprobs, &lp); err != nil {
		t.Fatalf("logprobs %s: %v", c.Logprobs, err)
	}
	return &lp
}

type wireChatLogprob struct {
	Token       string  `json:"token"`
	Logprob     float64 `json:"logprob"`
	Bytes       []int   `json:"bytes"`
	TopLogprobs []struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
		Bytes   []int   `json:"bytes"`
	} `json:"top_logprobs"`
}

type wireChat struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
		Logprobs     *struct {
			Content []wireChatLogprob `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage wireUsage `json:"usage"`
}

type wireStreamChoice struct {
	Index        int             `json:"index"`
	Text         string          `json:"text"`
	Token        *int            `json:"token"`
	Tokens       []int           `json:"tokens"`
	FinishReason json.RawMessage `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
	Delta        *struct {
		Role    *string `json:"role"`
		Content *string `json:"content"`
	} `json:"delta"`
}

type wireChunk struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created *int64             `json:"created"`
	Choices []wireStreamChoice `json:"choices"`
	Usage   *wireUsage         `json:"usage"`
	// legacy
	Event string `json:"event"`
	Index int    `json:"index"`
	Text  string `json:"text"`
	Token *int   `json:"token"`
}

// sseEvent is one "data:" payload, with the "event:" line before it and
// when it arrived.
type sseEvent struct {
	event string
	data  string
	at    time.Time
}

// readSSE reads a stream to its end; err is the read error that ended it
// (nil at a clean EOF).
func readSSE(body io.Reader) (events []sseEvent, err error) {
	r := bufio.NewReader(body)
	var ev string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" {
				return events, nil
			}
			return events, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			ev = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			events = append(events, sseEvent{event: ev, data: strings.TrimSpace(line[len("data:"):]), at: time.Now()})
			ev = ""
		}
	}
}

// stream posts a streaming request and returns its events and when the
// request was sent.
func stream(t testing.TB, url string, body any) ([]sseEvent, time.Time, *http.Response) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	evs, err := readSSE(resp.Body)
	if err != nil {
		t.Fatalf("reading stream: %v", err)
	}
	return evs, sent, resp
}

func decodeChunk(t testing.TB, data string) wireChunk {
	t.Helper()
	var c wireChunk
	dec := json.NewDecoder(strings.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("chunk %s: %v", data, err)
	}
	return c
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
