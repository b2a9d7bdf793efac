package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fault rates, counted from the client side over 2,000 requests, are within
// three points of the configured ones.
func TestFaultRates(t *testing.T) {
	cfg := fastConfig()
	cfg.Faults = Faults{Rate429: 0.10, RetryAfter: 1500 * time.Millisecond, Rate500: 0.05, Rate503: 0.04, RateReset: 0.05}
	inst := start(t, cfg)
	const n = 2000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	counts := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	body := []byte(`{"model":"demo","prompt":"x","max_tokens":1}`)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				outcome := ""
				resp, err := client.Post(inst.URL()+"/dedicated/v1/completions", "application/json", bytes.NewReader(body))
				switch {
				case err != nil:
					outcome = "reset"
					if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
						outcome = "other error: " + err.Error()
					}
				default:
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					outcome = http.StatusText(resp.StatusCode)
					if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") != "2" || resp.Header.Get("retry-after-ms") != "1500") {
						outcome = "429 without retry headers"
					}
					if resp.StatusCode >= 400 {
						var e struct{ Error struct{ Message string } }
						if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
							outcome = "error without a JSON body"
						}
					}
				}
				mu.Lock()
				counts[outcome]++
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
	total := 0
	for k, c := range counts {
		total += c
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected outcome %q (%d times)", k, c)
		}
	}
	for k, rate := range want {
		got := float64(counts[k]) / n
		if math.Abs(got-rate) > 0.03 {
			t.Errorf("%s: observed %.3f, configured %.3f", k, got, rate)
		}
	}
	st := inst.Server().Stats()
	if st.Resets != int64(counts["reset"]) || st.ByStatus[429] != int64(counts["Too Many Requests"]) {
		t.Errorf("stats %+v disagree with the client's counts %v", st, counts)
	}
	t.Logf("outcomes over %d requests: %v", total, counts)
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
