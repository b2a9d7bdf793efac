package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
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

// clientRequest is the completions body the project's client sends,
// copied from endpoint.CompletionRequest (its fields, tags and omitempty
// rules) rather than imported, so the simulator's tests build whatever
// state the client package is in.
type clientRequest struct {
	Model              string                `json:"model,omitempty"`
	Prompt             string                `json:"prompt,omitempty"`
	Tokens             []int                 `json:"tokens,omitempty"`
	ForcedOutputTokens []int                 `json:"forced_output_tokens,omitempty"`
	Logprobs           *int                  `json:"logprobs,omitempty"`
	MaxTokens          *int                  `json:"max_tokens,omitempty"`
	MaxTotalTokens     *int                  `json:"max_total_tokens,omitempty"`
	MinTokens          *int                  `json:"min_tokens,omitempty"`
	MinTotalTokens     *int                  `json:"min_total_tokens,omitempty"`
	Temperature        *float64              `json:"temperature,omitempty"`
	TopK               *int                  `json:"top_k,omitempty"`
	TopP               *float64              `json:"top_p,omitempty"`
	Seed               *int64                `json:"seed,omitempty"`
	Stop               []string              `json:"stop,omitempty"`
	N                  *int                  `json:"n,omitempty"`
	ResponseFormat     *clientResponseFormat `json:"response_format,omitempty"`
	Stream             bool                  `json:"stream,omitempty"`
	StreamOptions      *clientStreamOptions  `json:"stream_options,omitempty"`
}

type clientResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema,omitempty"`
	Schema string `json:"schema,omitempty"`
}

type clientStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

func ptr[T any](v T) *T { return &v }

func (r clientRequest) body(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// letterPrompt is a nine-shot multiple-choice prompt of about 2 KB, the
// shape the letter scorer sends: a header, solved questions, and one left
// open after "Answer:".
func letterPrompt() string {
	var b strings.Builder
	b.WriteString("The following are multiple choice questions (with answers) about high school biology.\n\n")
	qs := []struct{ q, a, b, c, d, ans string }{
		{"Which of the following is NOT a function of the cell membrane?", "transport of molecules", "cell signalling", "photosynthesis", "adhesion to other cells", "C"},
		{"In a population of 1,000 plants, 160 show the recessive phenotype. Assuming Hardy-Weinberg equilibrium, what is the frequency of the dominant allele?", "0.16", "0.4", "0.6", "0.84", "C"},
		{"Which organelle is the site of the Krebs cycle in eukaryotic cells?", "ribosome", "mitochondrial matrix", "Golgi apparatus", "smooth endoplasmic reticulum", "B"},
		{"A scientist crosses two heterozygous pea plants (Tt x Tt). What fraction of the offspring is expected to be tall & homozygous?", "1/4", "1/2", "3/4", "none", "A"},
		{"Which of these molecules carries amino acids to the ribosome during translation?", "mRNA", "rRNA", "tRNA", "DNA polymerase", "C"},
		{"During which phase of mitosis do sister chromatids separate and move toward opposite poles of the cell?", "prophase", "metaphase", "anaphase", "telophase", "C"},
		{"A population of finches on an island shows an increase in average beak depth after a drought that left only large, hard seeds. This is an example of", "genetic drift", "directional selection", "stabilizing selection", "the founder effect", "B"},
		{"Which of the following best explains why the \"R-group\" of an amino acid determines its chemical properties?", "It forms the peptide bond", "It is identical in every amino acid", "It differs between amino acids and may be polar, nonpolar or charged", "It binds only to water", "C"},
		{"What is the primary role of the light-dependent reactions of photosynthesis?", "to fix carbon dioxide into sugar", "to produce ATP and NADPH", "to release glucose into the stroma", "to break down starch", "B"},
	}
	for _, q := range qs {
		fmt.Fprintf(&b, "%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer: %s\n\n", q.q, q.a, q.b, q.c, q.d, q.ans)
	}
	b.WriteString("Enzymes speed up chemical reactions in living organisms. Which statement best describes how an enzyme affects a reaction?\n" +
		"A. It raises the activation energy so that fewer molecules react\nB. It lowers the activation energy of the reaction\n" +
		"C. It changes the equilibrium constant of the reaction\nD. It is consumed as the reaction proceeds\nAnswer:")
	return b.String()
}

// letterRequestBody is one letter-scoring request as the client sends it:
// the prompt, the first label forced, the top 20 alternatives asked for.
func letterRequestBody(t testing.TB) []byte {
	return clientRequest{Model: "demo", Prompt: letterPrompt(), ForcedOutputTokens: []int{319}, Logprobs: ptr(20), MaxTokens: ptr(1)}.body(t)
}
