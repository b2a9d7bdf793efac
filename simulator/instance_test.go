package simulator

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Close ends open streams promptly, and a cancelled context stops the
// instance.
func TestInstanceLifecycle(t *testing.T) {
	cfg := fastConfig()
	cfg.Latency.ITL = 50 * time.Millisecond
	inst, err := Start(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inst.URL(), "http://127.0.0.1:") || inst.Server() == nil {
		t.Fatalf("URL %q", inst.URL())
	}
	resp, err := http.Post(inst.URL()+"/dedicated/v1/completions", "application/json",
		bytes.NewReader([]byte(`{"model":"demo","prompt":"x","max_tokens":1000,"min_tokens":1000,"stream":true}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v with a stream open", d)
	}
	io.Copy(io.Discard, resp.Body) // ends, with or without an error
	if err := inst.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	inst, err = Start(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := http.Get(inst.URL() + "/health")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instance still serving after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if _, err := Start(context.Background(), Config{Latency: Latency{ITL: -1}}, ""); err == nil {
		t.Fatal("Start accepted an invalid config")
	}
	if _, err := Start(context.Background(), cfg, "256.0.0.1:99999"); err == nil || !strings.HasPrefix(err.Error(), "simulator: listen") {
		t.Fatalf("bad address: %v", err)
	}
}

// Start with a context that is already done stops at once, without racing
// its own setup (run under -race), and Close afterwards is still safe.
func TestStartWithDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 20; i++ {
		inst, err := Start(ctx, fastConfig(), "")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			resp, err := http.Get(inst.URL() + "/health")
			if err != nil {
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatal("instance started with a done context is still serving")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := inst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
