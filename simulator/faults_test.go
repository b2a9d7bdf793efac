package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fault rates, counted from the client side over 2,000 requests, are within
// three points of the configured ones: the exclusive outcomes (429, 500,
// 503, reset) over all requests, and cut and slow replies over those that
// got through (the other outcomes strike first, so cut and slow apply only
// to 200s). Streams show a cut as a stream without [DONE], replies as
// truncated JSON. There is no header that marks a slow reply, so slowness
// is told from the time to the first token: SlowDelay is 200ms here and
// nothing else takes time, so the 100ms threshold has a wide margin on
// both sides.
func TestFaultRates(t *testing.T) {
	const slowDelay, slowThreshold = 200 * time.Millisecond, 100 * time.Millisecond
	for _, streaming := range []bool{false, true} {
		t.Run(map[bool]string{false: "reply", true: "stream"}[streaming], func(t *testing.T) {
			cfg := fastConfig()
			cfg.Faults = Faults{
				Rate429: 0.10, RetryAfter: 1500 * time.Millisecond, Rate500: 0.05, Rate503: 0.04, RateReset: 0.05,
				RateCut: 0.10, RateSlow: 0.08, SlowDelay: slowDelay,
			}
			inst := start(t, cfg)
			const n, workers = 2000, 32
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
			defer client.CloseIdleConnections()
			counts := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			work := make(chan int)
			body := []byte(`{"model":"demo","prompt":"x","max_tokens":4,"min_tokens":4}`)
			if streaming {
				body = []byte(`{"model":"demo","prompt":"x","max_tokens":4,"min_tokens":4,"stream":true}`)
			}
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						outcome, cut, slow := faultOutcome(client, inst.URL()+"/dedicated/v1/completions", body, streaming, slowThreshold)
						mu.Lock()
						counts[outcome]++
						if cut {
							counts["cut"]++
						}
						if slow {
							counts["slow"]++
						}
						mu.Unlock()
					}
				}()
			}
			for i := 0; i < n; i++ {
				work <- i
			}
			close(work)
			wg.Wait()
			want := map[string]float64{
				"Too Many Requests": 0.10, "Internal Server Error": 0.05, "Service Unavailable": 0.04,
				"reset": 0.05, "OK": 0.76,
			}
			for k, c := range counts {
				if _, ok := want[k]; !ok && k != "cut" && k != "slow" {
					t.Errorf("unexpected outcome %q (%d times)", k, c)
				}
			}
			for k, rate := range want {
				if got := float64(counts[k]) / n; math.Abs(got-rate) > 0.03 {
					t.Errorf("%s: observed %.3f, configured %.3f", k, got, rate)
				}
			}
			ok := counts["OK"]
			for _, c := range []struct {
				kind string
				rate float64
			}{{"cut", cfg.Faults.RateCut}, {"slow", cfg.Faults.RateSlow}} {
				if ok == 0 {
					t.Fatalf("no request got through: %v", counts)
				}
				if got := float64(counts[c.kind]) / float64(ok); math.Abs(got-c.rate) > 0.03 {
					t.Errorf("%s: observed %.3f of the %d replies, configured %.3f", c.kind, got, ok, c.rate)
				}
			}
			st := inst.Server().Stats()
			if st.Resets != int64(counts["reset"]) || st.ByStatus[429] != int64(counts["Too Many Requests"]) || st.Cuts != int64(counts["cut"]) {
				t.Errorf("stats %+v disagree with the client's counts %v", st, counts)
			}
			t.Logf("outcomes over %d requests: %v (server: %d cut, %d slow)", n, counts, st.Cuts, st.Slow)
		})
	}
}

// faultOutcome sends one request and tells what became of it: the status
// text or "reset", whether a 200 was cut short, and whether its first
// token (the whole reply, for a non-streaming one) took slowThreshold or
// more.
func faultOutcome(client *http.Client, url string, body []byte, streaming bool, slowThreshold time.Duration) (outcome string, cut, slow bool) {
	sent := time.Now()
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return "other error: " + err.Error(), false, false
		}
		return "reset", false, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") != "2" || resp.Header.Get("retry-after-ms") != "1500") {
			return "429 without retry headers", false, false
		}
		var e struct{ Error struct{ Message string } }
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			return "error without a JSON body", false, false
		}
		return http.StatusText(resp.StatusCode), false, false
	}
	if !streaming {
		firstToken := time.Since(sent) // the reply's header goes out with its last token
		b, err := io.ReadAll(resp.Body)
		cut = err != nil || !json.Valid(b)
		if cut && (err == nil || !strings.HasPrefix(string(b), `{"id":"cmpl-`)) {
			return fmt.Sprintf("reply neither whole nor cut (%v): %q", err, b), false, false
		}
		return "OK", cut, firstToken >= slowThreshold
	}
	evs, err := readSSE(resp.Body)
	if len(evs) == 0 {
		return fmt.Sprintf("stream without events (%v)", err), false, false
	}
	cut = err != nil || evs[len(evs)-1].data != "[DONE]"
	if cut && slices.ContainsFunc(evs, func(ev sseEvent) bool { return ev.data == "[DONE]" }) {
		return "cut stream with [DONE]", false, false
	}
	return "OK", cut, evs[0].at.Sub(sent) >= slowThreshold
}

// A cut stream stops after some chunks without [DONE]; a cut reply is
// truncated JSON.
func TestCutFault(t *testing.T) {
	cfg := fastConfig()
	cfg.Faults.RateCut = 1
	inst := start(t, cfg)
	url := inst.URL() + "/dedicated/v1/completions"
	for i := 0; i < 20; i++ {
		raw, _ := json.Marshal(map[string]any{"model": "demo", "prompt": "Once", "max_tokens": 30, "stream": true})
		resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := readSSE(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatalf("stream %d ended cleanly after %d events", i, len(evs))
		}
		for _, ev := range evs {
			if ev.data == "[DONE]" {
				t.Fatalf("cut stream sent [DONE]")
			}
			decodeChunk(t, ev.data)
		}
		if len(evs) < 1 || len(evs) > 31 {
			t.Fatalf("cut after %d events", len(evs))
		}
	}
	raw := []byte(`{"model":"demo","prompt":"Once","max_tokens":30}`)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || json.Valid(b) || !strings.HasPrefix(string(b), `{"id":"cmpl-`) {
		t.Fatalf("cut reply: %v, %q", err, b)
	}
	if st := inst.Server().Stats(); st.Cuts != 21 {
		t.Fatalf("stats count %d cuts, want 21", st.Cuts)
	}
}

// Tokenize is subject to errors and resets but never cut or slowed.
func TestFaultsOnTokenize(t *testing.T) {
	cfg := fastConfig()
	cfg.Faults = Faults{Rate503: 1, RateCut: 1, RateSlow: 1, SlowDelay: time.Hour}
	inst := start(t, cfg)
	status, _, _ := post(t, inst.URL()+"/dedicated/v1/tokenize", `{"model":"demo","prompt":"x"}`)
	if status != 503 {
		t.Fatalf("status %d", status)
	}
	cfg.Faults.Rate503 = 0
	inst = start(t, cfg)
	status, b, _ := post(t, inst.URL()+"/dedicated/v1/tokenize", `{"model":"demo","prompt":"x"}`)
	if status != 200 || !json.Valid(b) {
		t.Fatalf("status %d %s", status, b)
	}
}

func TestSlowFault(t *testing.T) {
	cfg := fastConfig()
	cfg.Faults = Faults{RateSlow: 1, SlowDelay: 150 * time.Millisecond}
	inst := start(t, cfg)
	t0 := time.Now()
	status, _, _ := post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"demo","prompt":"x","max_tokens":1}`)
	if d := time.Since(t0); status != 200 || d < 150*time.Millisecond {
		t.Fatalf("status %d after %v", status, d)
	}
	if inst.Server().Stats().Slow != 1 {
		t.Fatal("slow reply not counted")
	}
}
