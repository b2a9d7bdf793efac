package reports

import (
	"context"
	"math"
	"testing"
)

func TestSoftmaxStats(t *testing.T) {
	l := func(p ...float64) []float64 {
		out := make([]float64, len(p))
		for i, x := range p {
			out[i] = math.Log(x)
		}
		return out
	}
	tests := []struct {
		name    string
		loglik  []float64
		gold    int
		conf    float64
		correct bool
		brier   float64
	}{
		{"right", l(0.72, 0.12, 0.08, 0.08), 0, 0.72, true, 0.28*0.28 + 0.12*0.12 + 2*0.08*0.08},
		{"wrong", l(0.72, 0.12, 0.08, 0.08), 1, 0.72, false, 0.72*0.72 + 0.88*0.88 + 2*0.08*0.08},
		// A tie goes to the lowest index, as argmax does.
		{"tie", l(0.25, 0.25, 0.25, 0.25), 0, 0.25, true, 0.75*0.75 + 3*0.25*0.25},
		{"tie, gold later", l(0.25, 0.25, 0.25, 0.25), 2, 0.25, false, 0.75*0.75 + 3*0.25*0.25},
		// Unnormalised log-likelihoods (sums over tokens) normalise the same.
		{"shifted", []float64{-10, -10 + math.Log(3)}, 1, 0.75, true, 2 * 0.25 * 0.25},
		// Very negative values must not underflow to 0/0.
		{"far out", []float64{-2000, -2001}, 0, 1 / (1 + math.Exp(-1)), true, 2 * math.Pow(1-1/(1+math.Exp(-1)), 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, correct, brier := softmaxStats(tt.loglik, tt.gold)
			near(t, "conf", conf, tt.conf, 1e-12)
			near(t, "brier", brier, tt.brier, 1e-12)
			if correct != tt.correct {
				t.Errorf("correct = %v, want %v", correct, tt.correct)
			}
		})
	}
}

// TestHandFixture checks Build against figures computed by hand for
// testdata/hand: 6 scored samples with known softmax probabilities and one
// failed sample.
func TestHandFixture(t *testing.T) {
	r, err := Build(context.Background(), "testdata/hand", Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Runs[0]
	if m.Scored != 6 || m.Failed != 1 || m.Missing != 0 {
		t.Fatalf("scored/failed/missing = %d/%d/%d, want 6/1/0", m.Scored, m.Failed, m.Missing)
	}
	p := 4.0 / 6
	near(t, "acc", float64(m.Metrics.Acc), p, 1e-15)
	near(t, "acc_stderr", float64(m.Metrics.AccStderr), math.Sqrt(p*(1-p)/5), 1e-15)
	near(t, "acc_ci95 lo", float64(m.Metrics.AccCI95[0]), 0.2999933, 1e-6)
	near(t, "acc_ci95 hi", float64(m.Metrics.AccCI95[1]), 0.9032286, 1e-6)
	near(t, "acc_macro", float64(m.Metrics.AccMacro), (0.75+0.5)/2, 1e-15)

	// ECE bins: 0.25→1 right (bin 2), 0.55 wrong (5), 0.64 right (6),
	// 0.72 ×2 one right (7), 0.92 right (9):
	// (0.75 + 0.55 + 0.36 + 2·0.22 + 0.08) / 6.
	near(t, "ece", float64(m.Calibration.ECE), (0.75+0.55+0.36+0.44+0.08)/6, 1e-12)
	// Brier terms: 0.1056, 1.3056, 0.75, 0.0088, 0.885, 0.1752.
	near(t, "brier", float64(m.Calibration.Brier), (0.1056+1.3056+0.75+0.0088+0.885+0.1752)/6, 1e-12)
	wantCounts := [10]int{2: 1, 5: 1, 6: 1, 7: 2, 9: 1}
	for i, b := range m.Calibration.Bins {
		if b.Count != wantCounts[i] {
			t.Errorf("bin %d: count %d, want %d", i, b.Count, wantCounts[i])
		}
	}
	near(t, "bin 7 accuracy", float64(m.Calibration.Bins[7].Accuracy), 0.5, 1e-15)
	near(t, "bin 7 confidence", float64(m.Calibration.Bins[7].Confidence), 0.72, 1e-12)
	if m.Calibration.Bins[0].Confidence.Valid() {
		t.Error("an empty bin must have no confidence")
	}

	an, fl := m.Subjects["anatomy"], m.Subjects["formal_logic"]
	near(t, "anatomy acc", float64(an.Acc), 0.75, 0)
	near(t, "anatomy stderr", float64(an.AccStderr), 0.25, 1e-15)
	if fl.N != 2 || fl.Failed != 1 {
		t.Errorf("formal_logic n/failed = %d/%d, want 2/1", fl.N, fl.Failed)
	}
	// Groups: one subject each, so the pooled stderr is the subject's own.
	near(t, "stem acc", float64(m.Groups[GroupSTEM].Acc), 0.75, 0)
	near(t, "stem stderr", float64(m.Groups[GroupSTEM].AccStderr), 0.25, 1e-15)
	near(t, "humanities stderr", float64(m.Groups[GroupHumanities].AccStderr), 0.5, 1e-15)
	if g := m.Groups[GroupOther]; g.N != 0 || g.Acc.Valid() {
		t.Errorf("other group = %+v, want empty", g)
	}

	// Latencies 100..600 and 50 (the failed sample's request).
	l := m.LatencyMS[KindCompletions]
	if l.Count != 7 {
		t.Fatalf("latency count %d, want 7", l.Count)
	}
	near(t, "latency mean", float64(l.Mean), 2150.0/7, 1e-9)
	near(t, "latency min", float64(l.Min), 50, 0)
	near(t, "latency max", float64(l.Max), 600, 0)
	near(t, "latency p50", float64(l.P50), 300, 0.3)
	if m.Requests.Retries != 1 || m.Requests.ErrorsByStatus["500"] != 2 || m.Requests.Completions != 7 {
		t.Errorf("requests = %+v", m.Requests)
	}
	near(t, "examples/s", float64(m.Throughput.ExamplesPerS), 0.7, 1e-15)
	near(t, "tokens/s", float64(m.Throughput.TokensPerS), 6.6, 1e-12)
	if len(m.Failures) != 1 || m.Failures[0].Count != 1 || m.Failures[0].FirstID != "q6" {
		t.Errorf("failures = %+v", m.Failures)
	}
}
