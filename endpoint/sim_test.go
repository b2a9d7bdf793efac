package endpoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/evalbench/evalbench/simulator"
)

// The client against the simulator: the two sides were written apart, from
// the same API notes, so these tests catch a disagreement either way.

func simClient(t testing.TB, base string, edit func(*simulator.Config)) (*Client, *simulator.Server) {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Latency, cfg.Capacity = simulator.Latency{}, 0
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := simulator.Start(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); inst.Close() })
	c, err := New(Options{BaseURL: inst.URL() + base, Concurrency: 4, Token: cfg.Token, Retry: fastRetry(1)})
	if err != nil {
		t.Fatal(err)
	}
	return c, inst.Server()
}

func TestSimulatorCompletionsAndTokenize(t *testing.T) {
	c, _ := simClient(t, "/dedicated", nil)
	ctx := context.Background()
	prompt := "The following are multiple choice questions.\n\nWhat is 2+2?\nA. 3\nB. 4\nAnswer:"
	toks, _, err := c.Tokenize(ctx, "demo", prompt)
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := c.Detokenize(ctx, "demo", toks)
	if err != nil || text != prompt {
		t.Fatalf("detokenize(tokenize(s)) = %q, %v", text, err)
	}
	withLabel, _, err := c.Tokenize(ctx, "demo", prompt+" B")
	if err != nil || len(withLabel) != len(toks)+1 {
		t.Fatalf("label is not one token after the context: %v %v", withLabel, err)
	}
	forced := []int{withLabel[len(withLabel)-1]}
	for _, viaTokens := range []bool{false, true} {
		req := &CompletionRequest{Model: "demo", ForcedOutputTokens: forced, Logprobs: Ptr(5), MaxTokens: Ptr(1)}
		if viaTokens {
			req.Tokens = toks
		} else {
			req.Prompt = prompt
		}
		resp, call, err := c.Completions(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ch := resp.Choices[0]
		lp := ch.Logprobs
		if len(ch.Tokens) != 1 || ch.Tokens[0] != forced[0] || lp == nil || lp.Legacy || len(lp.TokenLogprobs) != 1 || len(lp.TopLogprobs[0]) != 5 || lp.Tokens[0] != " B" {
			t.Fatalf("reply %+v logprobs %+v", ch, lp)
		}
		if v, ok := lp.TopLogprobs[0][" B"]; ok && v != lp.TokenLogprobs[0] {
			t.Fatalf("top-k %v disagrees with the forced token's logprob %v", v, lp.TokenLogprobs[0])
		}
		if resp.Usage.PromptTokens != len(toks) || resp.Usage.CompletionTokens != 1 || call.Retries() != 0 || call.Attempts[0].Status != 200 {
			t.Fatalf("usage %+v call %+v", resp.Usage, call)
		}
	}
}

func TestSimulatorLegacyLogprobs(t *testing.T) {
	c, _ := simClient(t, "/dedicated", func(cfg *simulator.Config) { cfg.Quirks.LegacyLogprobs = true })
	resp, _, err := c.Completions(context.Background(), &CompletionRequest{Model: "demo", Prompt: "Answer:", ForcedOutputTokens: []int{1000, 1001}, Logprobs: Ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	lp := resp.Choices[0].Logprobs
	if lp == nil || !lp.Legacy || len(lp.TokenLogprobs) != 2 || lp.TopLogprobs != nil {
		t.Fatalf("legacy logprobs decoded as %+v", lp)
	}
}

func TestSimulatorErrors(t *testing.T) {
	c, _ := simClient(t, "/dedicated", nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		req    *CompletionRequest
		status int
		want   string
	}{
		{"unknown adapter", &CompletionRequest{Model: "demo:nope", Prompt: "x"}, 404, "adapter"},
		{"unknown endpoint", &CompletionRequest{Model: "nope", Prompt: "x"}, 404, "nope"},
		{"exclusive lengths", &CompletionRequest{Model: "demo", Prompt: "x", MaxTokens: Ptr(2), MaxTotalTokens: Ptr(9)}, 422, "max_total_tokens"},
		{"forced beyond max_tokens", &CompletionRequest{Model: "demo", Prompt: "x", ForcedOutputTokens: []int{5, 6}, MaxTokens: Ptr(1)}, 422, "forced output tokens"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, call, err := c.Completions(ctx, tc.req)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %d mentioning %q", err, tc.status, tc.want)
			}
			if len(call.Attempts) != 1 {
				t.Fatalf("a %d was retried: %d attempts", tc.status, len(call.Attempts))
			}
		})
	}
	secret := "flp_simulator_secret_42"
	guarded, _ := simClient(t, "/dedicated", func(cfg *simulator.Config) { cfg.Token = secret })
	if _, _, err := guarded.Tokenize(ctx, "demo", "hi"); err != nil {
		t.Fatalf("the right token was refused: %v", err)
	}
	wrong, err := New(Options{BaseURL: guarded.BaseURL(), Token: "flp_wrong_token", Retry: fastRetry(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = wrong.Tokenize(ctx, "demo", "hi")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || strings.Contains(err.Error(), "flp_wrong_token") || strings.Contains(err.Error(), secret) {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestSimulatorStreams(t *testing.T) {
	cases := []struct {
		name   string
		chunks int
		legacy bool
		chat   bool
	}{
		{"one token per chunk", 1, false, false},
		{"four tokens per chunk", 4, false, false},
		{"legacy events", 1, true, false},
		{"chat", 1, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := simClient(t, "/dedicated", func(cfg *simulator.Config) {
				cfg.Quirks.ChunkTokens, cfg.Quirks.LegacyStream = tc.chunks, tc.legacy
			})
			ctx := context.Background()
			var s *Stream
			var err error
			if tc.chat {
				s, _, err = c.ChatStream(ctx, &ChatRequest{Model: "demo", Messages: []Message{{Role: "user", Content: "Say something."}},
					MaxTokens: Ptr(24), MinTokens: Ptr(24), StreamOptions: &StreamOptions{IncludeUsage: true}})
			} else {
				s, _, err = c.CompletionsStream(ctx, &CompletionRequest{Model: "demo", Prompt: "Once upon a time",
					MaxTokens: Ptr(24), MinTokens: Ptr(24), StreamOptions: &StreamOptions{IncludeUsage: true}})
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tokens, finish := 0, ""
			var usage *Usage
			var last time.Time
			for {
				ch, err := s.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ch.Arrived.Before(last) {
					t.Fatal("arrival times go backwards")
				}
				last = ch.Arrived
				tokens += ch.Tokens
				if ch.FinishReason != "" {
					finish = ch.FinishReason
				}
				if ch.Usage != nil {
					usage = ch.Usage
				}
			}
			if usage == nil || usage.CompletionTokens != 24 || finish != "length" {
				t.Fatalf("usage %+v finish %q", usage, finish)
			}
			if !tc.chat && tokens != 24 {
				t.Fatalf("chunks carried %d tokens, usage says 24", tokens)
			}
		})
	}
}

func TestSimulatorStreamCutIsAnError(t *testing.T) {
	c, _ := simClient(t, "/dedicated", func(cfg *simulator.Config) { cfg.Faults.RateCut = 1 })
	s, _, err := c.CompletionsStream(context.Background(), &CompletionRequest{Model: "demo", Prompt: "x", MaxTokens: Ptr(32), MinTokens: Ptr(32)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for {
		_, err = s.Next()
		if err != nil {
			break
		}
	}
	if err == io.EOF || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a cut stream ended with %v", err)
	}
}

func TestSimulatorToolAssistedChat(t *testing.T) {
	c, _ := simClient(t, "/serverless/tools", nil)
	resp, _, err := c.Chat(context.Background(), &ChatRequest{
		Model:    "meta-llama-3.1-8b-instruct",
		Messages: []Message{{Role: "user", Content: "What is (3 + 6) * 2.5?"}},
		Tools:    []Tool{{Type: "math:calculator"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; !strings.Contains(got, "22.5") {
		t.Fatalf("calculator answered %q", got)
	}
}

func TestSimulatorChatLogprobs(t *testing.T) {
	c, _ := simClient(t, "/serverless", nil)
	resp, _, err := c.Chat(context.Background(), &ChatRequest{
		Model: "meta-llama-3.1-8b-instruct", Messages: []Message{{Role: "user", Content: "Hi"}},
		Logprobs: Ptr(true), TopLogprobs: Ptr(3), MaxTokens: Ptr(4), MinTokens: Ptr(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	lp := resp.Choices[0].Logprobs
	if lp == nil || len(lp.Content) != 4 || len(lp.Content[0].TopLogprobs) != 3 || lp.Content[0].Logprob > 0 || math.IsNaN(lp.Content[0].Logprob) {
		t.Fatalf("chat logprobs %+v", lp)
	}
}

// Faults are retried with backoff until the reply is good.
func TestSimulatorFaultsRetried(t *testing.T) {
	cfg := func(c *simulator.Config) {
		c.Faults = simulator.Faults{Rate429: 0.3, RetryAfter: time.Millisecond, Rate503: 0.1, RateReset: 0.1}
	}
	c, srv := simClient(t, "/dedicated", cfg)
	c.retry = RetryPolicy{MaxAttempts: 20, Initial: time.Millisecond, Multiplier: 1.5, Max: 4 * time.Millisecond}
	retried := 0
	for i := range 60 {
		_, call, err := c.Completions(context.Background(), &CompletionRequest{Model: "demo", Prompt: fmt.Sprint("q", i), MaxTokens: Ptr(1)})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		retried += call.Retries()
	}
	if st := srv.Stats(); retried == 0 || st.Resets == 0 {
		t.Fatalf("no faults seen: %d retries, stats %+v", retried, st)
	}
}

// The benchmark runs the simulator in a child process, so the CPU time and
// allocations reported are the client's alone.
//
//	go test ./endpoint -run '^$' -bench Simulator -benchtime 2000x
const simChildEnv = "EVALBENCH_ENDPOINT_SIM_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(simChildEnv) != "" {
		cfg := simulator.DefaultConfig()
		cfg.Latency, cfg.Capacity = simulator.Latency{}, 0
		inst, err := simulator.Start(context.Background(), cfg, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(inst.URL())
		io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childSimulator(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), simChildEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(url)
}

func BenchmarkSimulator(b *testing.B) {
	url := childSimulator(b)
	c, err := New(Options{BaseURL: url + "/dedicated", Concurrency: 16, Retry: fastRetry(1)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	prompt := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40) + "\nA. x\nB. y\nC. z\nD. w\nAnswer:"
	ctxTok, _, err := c.Tokenize(ctx, "demo", prompt)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("letter-request", func(b *testing.B) {
		req := &CompletionRequest{Model: "demo", Tokens: ctxTok, ForcedOutputTokens: []int{ctxTok[len(ctxTok)-1]}, Logprobs: Ptr(20), MaxTokens: Ptr(1)}
		m := startCPU(b)
		for range b.N {
			if _, _, err := c.Completions(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		m.stop(b)
	})
	// Under load the per-request cost falls: wake-ups and syscalls are
	// shared by requests in flight together.
	b.Run("letter-request-16-in-flight", func(b *testing.B) {
		req := &CompletionRequest{Model: "demo", Tokens: ctxTok, ForcedOutputTokens: []int{ctxTok[len(ctxTok)-1]}, Logprobs: Ptr(20), MaxTokens: Ptr(1)}
		b.SetParallelism(8) // 8 × GOMAXPROCS(2) goroutines
		m := startCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := c.Completions(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		m.stop(b)
	})
	b.Run("stream-64-tokens", func(b *testing.B) {
		req := &CompletionRequest{Model: "demo", Tokens: ctxTok, MaxTokens: Ptr(64), MinTokens: Ptr(64), StreamOptions: &StreamOptions{IncludeUsage: true}}
		m := startCPU(b)
		for range b.N {
			s, _, err := c.CompletionsStream(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := s.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
		}
		m.stop(b)
	})
}
