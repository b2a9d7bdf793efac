package main

import (
	"testing"
	"time"

	"github.com/evalbench/evalbench/configs"
	"github.com/evalbench/evalbench/simulator"
)

func TestSimConfigOverridesOnlyWhatIsSet(t *testing.T) {
	def := simulator.DefaultConfig()
	got := simConfig(configs.Simulator{TTFT: 7 * time.Millisecond, Capacity: 3, Rate429: 0.25, ChunkTokens: 4, Adapters: []string{"x"}})
	if got.Latency.TTFT != 7*time.Millisecond || got.Capacity != 3 || got.Faults.Rate429 != 0.25 || got.Quirks.ChunkTokens != 4 || len(got.Adapters) != 1 {
		t.Fatalf("overrides lost: %+v", got)
	}
	if got.Latency.ITL != def.Latency.ITL || got.Seed != def.Seed || got.Faults.RetryAfter != def.Faults.RetryAfter {
		t.Fatalf("unset keys must keep the simulator's defaults: %+v", got)
	}
	if _, err := simulator.New(got); err != nil {
		t.Fatal(err)
	}
}
