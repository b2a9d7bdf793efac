package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Capacity 2 and six concurrent requests of one service time each: they
// run in three waves, and the stats show the queue.
func TestQueueingPastCapacity(t *testing.T) {
	const service = 150 * time.Millisecond
	cfg := fastConfig()
	cfg.Capacity = 2
	cfg.Latency.TTFT = service
	inst := start(t, cfg)
	body := []byte(`{"model":"demo","prompt":"x","forced_output_tokens":[42],"max_tokens":1}`)
	var wg sync.WaitGroup
	lat := make([]time.Duration, 6)
	t0 := time.Now()
	for i := range lat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			resp, err := http.Post(inst.URL()+"/dedicated/v1/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat[i] = time.Since(s)
		}()
	}
	wg.Wait()
	total := time.Since(t0)
	slices.Sort(lat)
	if total < 3*service*9/10 || total > 3*service*2 {
		t.Errorf("six requests at capacity 2 took %v, want about %v", total, 3*service)
	}
	if lat[0] > service*3/2 || lat[5] < 3*service*9/10 {
		t.Errorf("latencies %v, want waves at about %v, %v, %v", lat, service, 2*service, 3*service)
	}
	st := inst.Server().Stats()
	if st.PeakGenerating != 2 || st.QueuedTotal < 3 || st.PeakQueued < 3 || st.Queued != 0 || st.Generating != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A streamed reply's first chunk comes at TTFT (plus prefill) and later
// chunks every ITL; a non-streaming reply comes after the whole schedule.
func TestStreamTiming(t *testing.T) {
	cfg := fastConfig()
	cfg.Latency = Latency{TTFT: 60 * time.Millisecond, PerPromptToken: time.Millisecond, ITL: 20 * time.Millisecond, Jitter: 0.1}
	inst := start(t, cfg)
	prompt := "one two three four five six seven eight nine" // 10 tokens with BOS
	req := map[string]any{"model": "demo", "prompt": prompt, "max_tokens": 25, "min_tokens": 25, "stream": true}
	evs, sent, _ := stream(t, inst.URL()+"/dedicated/v1/completions", req)
	wantTTFT := 70 * time.Millisecond
	if ttft := evs[0].at.Sub(sent); ttft < wantTTFT*85/100 || ttft > wantTTFT*3/2 {
		t.Errorf("TTFT %v, want about %v", ttft, wantTTFT)
	}
	var gaps []time.Duration
	for i := 1; i < 25; i++ {
		gaps = append(gaps, evs[i].at.Sub(evs[i-1].at))
	}
	slices.Sort(gaps)
	if med := gaps[len(gaps)/2]; med < 17*time.Millisecond || med > 23*time.Millisecond {
		t.Errorf("median ITL %v, want about 20ms (gaps %v)", med, gaps)
	}
	// Absolute deadlines: the last token is due at TTFT' + 24 ITLs whatever
	// the individual overshoots.
	if last := evs[24].at.Sub(sent); last < 480*time.Millisecond || last > 700*time.Millisecond {
		t.Errorf("last token after %v, want about %v", last, 70*time.Millisecond+24*20*time.Millisecond)
	}

	delete(req, "stream")
	raw, _ := json.Marshal(req)
	t0 := time.Now()
	resp, err := http.Post(inst.URL()+"/dedicated/v1/completions", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(t0); d < 480*time.Millisecond || d > 800*time.Millisecond {
		t.Errorf("non-streaming reply after %v, want about 550ms", d)
	}
}

// The jittered schedule keeps its median: over many steps the median
// interval is the configured one.
func TestScheduleJitterMedian(t *testing.T) {
	lat := Latency{TTFT: 30 * time.Millisecond, ITL: 10 * time.Millisecond, Jitter: 0.1}
	var ttfts, gaps []time.Duration
	start := time.Unix(0, 0)
	for k := uint64(0); k < 500; k++ {
		s := newSchedule(start, lat, 0, 0, mix(k), &lead{})
		ttfts = append(ttfts, s.at(0).Sub(start))
		prev := s.at(0)
		for i := 1; i < 20; i++ {
			d := s.at(i)
			gaps = append(gaps, d.Sub(prev))
			prev = d
		}
	}
	for _, c := range []struct {
		name string
		xs   []time.Duration
		want time.Duration
	}{{"ttft", ttfts, lat.TTFT}, {"itl", gaps, lat.ITL}} {
		slices.Sort(c.xs)
		med := c.xs[len(c.xs)/2]
		if d := med - c.want; d < -c.want/100 || d > c.want/100 {
			t.Errorf("%s median %v, want %v within 1%%", c.name, med, c.want)
		}
		if c.xs[0] < c.want*89/100 || c.xs[len(c.xs)-1] > c.want*111/100 {
			t.Errorf("%s range %v..%v exceeds ±10%%", c.name, c.xs[0], c.xs[len(c.xs)-1])
		}
	}
}

// Tokenize takes Latency.Tokenize and no capacity slot.
func TestTokenizeLatencyAndCapacity(t *testing.T) {
	cfg := fastConfig()
	cfg.Capacity = 1
	cfg.Latency.TTFT = time.Second
	cfg.Latency.Tokenize = 30 * time.Millisecond
	inst := start(t, cfg)
	go func() {
		// Hold the only slot.
		resp, err := http.Post(inst.URL()+"/dedicated/v1/completions", "application/json",
			bytes.NewReader([]byte(`{"model":"demo","prompt":"x","max_tokens":1}`)))
		if err == nil {
			resp.Body.Close()
		}
	}()
	for inst.Server().Stats().Generating == 0 {
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	status, _, _ := post(t, inst.URL()+"/dedicated/v1/tokenize", `{"model":"demo","prompt":"hello"}`)
	if d := time.Since(t0); status != 200 || d < 30*time.Millisecond || d > 500*time.Millisecond {
		t.Fatalf("tokenize: status %d after %v", status, d)
	}
}

// The lead settles at the median lateness of the writes it observes and
// stays within [0, leadMax].
func TestLeadTracksMedianLateness(t *testing.T) {
	cases := []struct {
		name     string
		lateness func(i int, lead time.Duration) time.Duration // observed, given the current lead
		want     time.Duration
	}{
		// Writes would be 300µs late (±100µs) without a lead.
		{"steady lateness", func(i int, l time.Duration) time.Duration {
			return 300*time.Microsecond + time.Duration(i%201-100)*time.Microsecond - l
		}, 300 * time.Microsecond},
		{"never late", func(int, time.Duration) time.Duration { return -time.Millisecond }, 0},
		{"hopelessly late", func(int, time.Duration) time.Duration { return time.Second }, leadMax},
	}
	for _, c := range cases {
		var l lead
		for i := 0; i < 20000; i++ {
			l.observe(c.lateness(i, l.get()))
		}
		if d := l.get() - c.want; d < -20*time.Microsecond || d > 20*time.Microsecond {
			t.Errorf("%s: lead %v, want about %v", c.name, l.get(), c.want)
		}
	}
}
