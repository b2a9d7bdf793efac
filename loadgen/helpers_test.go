package loadgen

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/simulator"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// simConfig is the simulator with the given timing, no jitter, no capacity
// limit and no faults.
func simConfig(ttft, itl time.Duration) simulator.Config {
	c := simulator.DefaultConfig()
	c.Latency = simulator.Latency{TTFT: ttft, ITL: itl}
	c.Capacity = 0
	return c
}

// startSim starts the simulator and returns a client for it, sized for
// concurrency requests in flight (0: open loop).
func startSim(t testing.TB, cfg simulator.Config, concurrency int) (*simulator.Instance, *endpoint.Client) {
	t.Helper()
	inst, err := simulator.Start(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	// Shutdown waits up to 2 s for connections the client dialed but never
	// used (net/http leaves new connections alone for 5 s); close in the
	// background so that wait does not add to every test's time.
	t.Cleanup(func() { go inst.Close() })
	c, err := endpoint.New(endpoint.Options{
		BaseURL: inst.URL() + "/dedicated", Concurrency: concurrency,
		Retry: endpoint.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return inst, c
}

// quick are options for a short run against the simulator.
func quick(o Options) Options {
	if o.Model == "" {
		o.Model = "demo"
	}
	if o.Duration == 0 && o.Requests == 0 {
		o.Duration = 300 * time.Millisecond
	}
	if o.Warmup == 0 {
		o.NoWarmup = true
	}
	if o.Cooldown == 0 {
		o.NoCooldown = true
	}
	if o.InputTokens == 0 && o.PromptsFile == "" && len(o.Dataset) == 0 {
		o.InputTokens = 16
		o.SyntheticPool = 4
	}
	if o.OutputTokens == 0 {
		o.OutputTokens = 4
	}
	o.Quiet = true
	return o
}

func mustRun(t testing.TB, c Client, o Options) *results.LoadReport {
	t.Helper()
	rep, err := Run(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func jsonDecode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
