package endpoint

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const tokenizeOK = `{"tokens":[128000,9906]}`

// The wait between a 429 and the retry is what the server asked for,
// measured between the two requests' arrival at the server.
func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"Retry-After seconds", map[string]string{"Retry-After": "1"}, time.Second},
		// retry-after-ms is finer, so it wins over Retry-After.
		{"retry-after-ms", map[string]string{"retry-after-ms": "700", "Retry-After": "5"}, 700 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hits
			c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if h.add(r, nil) == 1 {
					for k, v := range tt.headers {
						w.Header().Set(k, v)
					}
					http.Error(w, `{"message":"slow down"}`, http.StatusTooManyRequests)
					return
				}
				io.WriteString(w, tokenizeOK)
			}, func(o *Options) {
				// Without the header the wait would be 3 s: the test cannot
				// pass by accident.
				o.Retry = RetryPolicy{MaxAttempts: 3, Initial: 3 * time.Second, Multiplier: 1, Max: time.Minute}
			})
			toks, call, err := c.Tokenize(context.Background(), "m", "Hello")
			if err != nil {
				t.Fatal(err)
			}
			if len(toks) != 2 || h.count() != 2 {
				t.Fatalf("tokens %v after %d requests", toks, h.count())
			}
			gap := h.times[1].Sub(h.times[0])
			if gap < tt.want*8/10 || gap > tt.want*12/10 {
				t.Errorf("retry came %v after the 429, want %v ±20%%", gap, tt.want)
			}
			a := call.Attempts
			if len(a) != 2 || a[0].Status != 429 || a[1].Status != 200 || a[1].Wait != 0 || !strings.Contains(a[0].Err, "slow down") {
				t.Errorf("attempts %+v", a)
			}
			if a[0].Wait < tt.want*8/10 || a[0].Wait > tt.want*12/10 {
				t.Errorf("recorded wait %v, want %v", a[0].Wait, tt.want)
			}
			if call.Retries() != 1 || call.Elapsed() < gap || call.Latency() != a[1].Latency {
				t.Errorf("call retries %d elapsed %v latency %v", call.Retries(), call.Elapsed(), call.Latency())
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(3 * time.Second).Format(http.TimeFormat)}}, 3 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"x"}, "Retry-After": {"1"}}, time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := DefaultRetryPolicy()
	for n := 1; n <= 20; n++ {
		base := min(float64(p.Initial)*pow(1.5, n-1), float64(p.Max))
		for range 200 {
			w := p.backoff(n, 0)
			if float64(w) < base*0.75-1 || float64(w) > min(base*1.25, float64(p.Max))+1 {
				t.Fatalf("attempt %d: wait %v outside %v ±25%% capped at %v", n, w, time.Duration(base), p.Max)
			}
		}
	}
	if w := p.backoff(1, 5*time.Minute); w != 5*time.Minute {
		t.Errorf("server wait of 5m gave %v, want 5m: a server's wait is honoured past Max", w)
	}
	if w := p.backoff(1, time.Hour); w != p.MaxServerWait {
		t.Errorf("server wait of 1h gave %v, want the cap %v", w, p.MaxServerWait)
	}
	if w := p.backoff(3, 2*time.Second); w != 2*time.Second {
		t.Errorf("server wait of 2s gave %v", w)
	}
	exact := RetryPolicy{MaxAttempts: 3, Initial: time.Second, Multiplier: 2, Max: time.Minute}
	if w := exact.backoff(3, 0); w != 4*time.Second {
		t.Errorf("no jitter: %v, want 4s", w)
	}
}

func pow(x float64, n int) float64 {
	r := 1.0
	for range n {
		r *= x
	}
	return r
}

func TestRetryPolicyDefaults(t *testing.T) {
	if p, err := (RetryPolicy{}).withDefaults(); err != nil || p != DefaultRetryPolicy() {
		t.Errorf("zero policy = %+v, %v", p, err)
	}
	p, err := RetryPolicy{MaxAttempts: 1}.withDefaults()
	if err != nil || p.MaxAttempts != 1 || p.Initial != 500*time.Millisecond || p.Jitter != 0 {
		t.Errorf("partial policy = %+v, %v", p, err)
	}
	for _, bad := range []RetryPolicy{{MaxAttempts: -1}, {Multiplier: 0.5}, {MaxAttempts: 2, Jitter: 1.5}, {Initial: -time.Second}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
		if _, err := New(Options{BaseURL: "http://127.0.0.1:1", Retry: bad}); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
}

// Client errors are the caller's to fix: exactly one request.
func TestNoRetryOnClientErrors(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 409, 422} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var h hits
			c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				h.add(r, nil)
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"detail":"no"}`, code)
			}, nil)
			_, call, err := c.Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != code {
				t.Fatalf("error %v, want an APIError %d", err, code)
			}
			if h.count() != 1 || len(call.Attempts) != 1 || call.Attempts[0].Status != code || call.Attempts[0].Wait != 0 {
				t.Errorf("%d requests, attempts %+v", h.count(), call.Attempts)
			}
		})
	}
}

// Server errors are retried up to MaxAttempts, every attempt recorded, the
// last error returned; the body is sent whole every time.
func TestRetryOnServerErrors(t *testing.T) {
	for _, code := range []int{429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var h hits
			c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				n := h.add(r, b)
				http.Error(w, `{"error":{"message":"attempt `+strconv.Itoa(n)+`"}}`, code)
			}, func(o *Options) { o.Retry = fastRetry(4) })
			req := &CompletionRequest{Model: "m", Tokens: []int{1, 2, 3}, ForcedOutputTokens: []int{4}, Logprobs: Ptr(5)}
			_, call, err := c.Completions(context.Background(), req)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != code || ae.Message != "attempt 4" {
				t.Fatalf("error %v, want the 4th attempt's APIError", err)
			}
			if !strings.Contains(err.Error(), "(4 attempts)") {
				t.Errorf("error %q does not count the attempts", err)
			}
			if h.count() != 4 || len(call.Attempts) != 4 {
				t.Fatalf("%d requests, %d attempts", h.count(), len(call.Attempts))
			}
			for i, a := range call.Attempts {
				if a.Status != code || a.Err == "" || (i < 3) != (a.Wait > 0) {
					t.Errorf("attempt %d = %+v", i, a)
				}
				if !bytes.Equal(h.body[i], h.body[0]) || len(h.body[i]) == 0 {
					t.Errorf("attempt %d sent %q, first sent %q", i, h.body[i], h.body[0])
				}
			}
		})
	}
}

func TestRetryOnConnectionReset(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if h.add(r, nil) <= 2 {
			hijackClose(t, w)
			return
		}
		io.WriteString(w, tokenizeOK)
	}, func(o *Options) { o.Retry = fastRetry(5) })
	toks, call, err := c.Tokenize(context.Background(), "m", "x")
	if err != nil || len(toks) != 2 {
		t.Fatalf("%v, %v", toks, err)
	}
	if h.count() != 3 || len(call.Attempts) != 3 {
		t.Fatalf("%d requests, attempts %+v", h.count(), call.Attempts)
	}
	for _, a := range call.Attempts[:2] {
		if a.Status != 0 || a.Err == "" {
			t.Errorf("reset attempt %+v", a)
		}
	}

	// Reset every time: all attempts used, the connection error returned.
	var h2 hits
	c2, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h2.add(r, nil)
		hijackClose(t, w)
	}, nil)
	_, call, err = c2.Tokenize(context.Background(), "m", "x")
	var ae *APIError
	if err == nil || errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "endpoint: /v1/tokenize: ") {
		t.Fatalf("error %v", err)
	}
	if h2.count() != 3 || len(call.Attempts) != 3 {
		t.Errorf("%d requests, %d attempts", h2.count(), len(call.Attempts))
	}
}

func TestRetryOnConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Options{BaseURL: "http://" + addr, Retry: fastRetry(3)})
	if err != nil {
		t.Fatal(err)
	}
	_, call, err := c.Tokenize(context.Background(), "", "x")
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.HasPrefix(err.Error(), "endpoint: /v1/tokenize: ") {
		t.Fatalf("error %v", err)
	}
	var ne *net.OpError
	if !errors.As(err, &ne) {
		t.Errorf("error %v does not wrap the net error", err)
	}
	if len(call.Attempts) != 3 || call.Attempts[2].Status != 0 || !strings.Contains(call.Attempts[2].Err, "refused") {
		t.Errorf("attempts %+v", call.Attempts)
	}
}

// A per-attempt timeout is a retryable failure.
func TestRetryOnAttemptTimeout(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add(r, nil)
		// Reading the body lets the server notice the client hang up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}, func(o *Options) { o.Timeout = 50 * time.Millisecond; o.Retry = fastRetry(2) })
	_, call, err := c.Tokenize(context.Background(), "m", "x")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "attempt timeout") {
		t.Fatalf("error %v", err)
	}
	if h.count() != 2 || len(call.Attempts) != 2 || !strings.Contains(call.Attempts[0].Err, "timeout") {
		t.Errorf("%d requests, attempts %+v", h.count(), call.Attempts)
	}
}

// Cancelling during a long backoff returns at once.
func TestCancelDuringBackoff(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add(r, nil)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}, func(o *Options) { o.Retry = DefaultRetryPolicy() })
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled time.Time
	time.AfterFunc(200*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	_, call, err := c.Tokenize(ctx, "m", "x")
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := returned.Sub(cancelled); d > 2*time.Second {
		t.Errorf("returned %v after cancel, in a 30 s backoff", d)
	}
	if h.count() != 1 || len(call.Attempts) != 1 || call.Attempts[0].Wait > 5*time.Second || call.Attempts[0].Wait < 100*time.Millisecond {
		t.Errorf("%d requests, attempts %+v", h.count(), call.Attempts)
	}
	// An already-cancelled context sends nothing.
	_, call, err = c.Tokenize(ctx, "m", "x")
	if !errors.Is(err, context.Canceled) || len(call.Attempts) != 0 || h.count() != 1 {
		t.Errorf("cancelled call: %v, %+v", err, call)
	}
}

// MaxElapsed stops retrying once the next wait would pass it.
func TestRetryBudget(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add(r, nil)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}, func(o *Options) {
		o.Retry = RetryPolicy{MaxAttempts: 10, Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second, MaxElapsed: 250 * time.Millisecond}
	})
	_, call, err := c.Tokenize(context.Background(), "m", "x")
	if err == nil || !strings.Contains(err.Error(), "retry budget 250ms spent") {
		t.Fatalf("error %v", err)
	}
	// Waits of 100 ms then 200 ms: the second would end past 250 ms.
	if h.count() != 2 || len(call.Attempts) != 2 {
		t.Errorf("%d requests, attempts %+v", h.count(), call.Attempts)
	}
}

// Connection failures that waiting cannot heal fail at once: an untrusted
// certificate, and plain HTTP behind an https URL.
func TestNoRetryOnPermanentConnErrors(t *testing.T) {
	var h hits
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.add(r, nil) })
	untrusted := httptest.NewTLSServer(handler)
	t.Cleanup(untrusted.Close)
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	for _, c := range []struct{ name, url, want string }{
		{"untrusted certificate", untrusted.URL, "certificate"},
		{"http behind https", strings.Replace(plain.URL, "http://", "https://", 1), "HTTPS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, err := New(Options{BaseURL: c.url, Retry: fastRetry(5)})
			if err != nil {
				t.Fatal(err)
			}
			_, call, err := cl.Tokenize(context.Background(), "m", "x")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one about %s", err, c.want)
			}
			if len(call.Attempts) != 1 {
				t.Errorf("%d attempts, want 1: %+v", len(call.Attempts), call.Attempts)
			}
		})
	}
}

// Every attempt is timed: a server that takes 50 ms to fail shows at least
// that in each attempt's latency.
func TestAttemptsAreTimed(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		http.Error(w, "busy", 503)
	}, nil)
	_, call, err := c.Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"})
	if err == nil || len(call.Attempts) != 3 {
		t.Fatalf("err %v, %d attempts", err, len(call.Attempts))
	}
	for i, a := range call.Attempts {
		if a.Latency < 50*time.Millisecond || a.Start.IsZero() || a.Status != 503 {
			t.Errorf("attempt %d: %+v, want a latency of at least 50ms and status 503", i, a)
		}
	}
	if call.Elapsed() < 150*time.Millisecond {
		t.Errorf("call elapsed %v, want at least the sum of its attempts", call.Elapsed())
	}
}

// countGate counts its waits and refuses after limit of them.
type countGate struct {
	mu    sync.Mutex
	n     int
	limit int
}

func (g *countGate) Wait(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	if g.limit > 0 && g.n > g.limit {
		return errors.New("gate closed")
	}
	return ctx.Err()
}

// A gate is waited on before every attempt, retries included, and a gate
// that refuses ends the call with nothing sent.
func TestGateBeforeEveryAttempt(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add(r, nil)
		http.Error(w, "busy", 503)
	}, nil)
	g := &countGate{}
	_, call, err := c.WithGate(g).Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"})
	if err == nil || len(call.Attempts) != 3 || g.n != 3 || h.count() != 3 {
		t.Fatalf("err %v: %d attempts, %d waits, %d requests; want 3 of each", err, len(call.Attempts), g.n, h.count())
	}
	refuse := &countGate{limit: 1}
	_, call, err = c.WithGate(refuse).Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"})
	if err == nil || !strings.Contains(err.Error(), "not sent: gate closed") || len(call.Attempts) != 1 || h.count() != 4 {
		t.Fatalf("err %v: %d attempts, %d requests in all; want the second attempt not sent", err, len(call.Attempts), h.count())
	}
	// The original client has no gate.
	if _, _, err := c.Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"}); err == nil || g.n != 3 {
		t.Errorf("the gate leaked into the client it was made from: %d waits", g.n)
	}
}
