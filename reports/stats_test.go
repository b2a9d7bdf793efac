package reports

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) {
		if !math.IsNaN(got) {
			t.Errorf("%s = %v, want NaN (undefined)", name, got)
		}
		return
	}
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", name, got, want, tol)
	}
}

func TestPropStderr(t *testing.T) {
	tests := []struct {
		name string
		k, n int
		want float64
		tol  float64
	}{
		// lm-eval's formal_logic check (mobile_app_open#986): 50/126 = 0.3968 → 0.0438.
		{"lm-eval formal_logic", 50, 126, 0.0438, 5e-5},
		{"4 of 6", 4, 6, math.Sqrt(4.0 / 6 * 2.0 / 6 / 5), 1e-15},
		{"all right", 10, 10, 0, 0},
		{"one sample", 1, 1, math.NaN(), 0},
		{"none", 0, 0, math.NaN(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			near(t, "stderr", propStderr(tt.k, tt.n), tt.want, tt.tol)
		})
	}
}

// The closed form must equal lm-eval's definition, the sample standard
// deviation (Bessel) of the 0/1 scores over √n, computed here by gonum.
func TestPropStderrMatchesSampleStdDev(t *testing.T) {
	for _, c := range []struct{ k, n int }{{50, 126}, {3, 4}, {1, 2}, {700, 1000}} {
		x := make([]float64, c.n)
		for i := range c.k {
			x[i] = 1
		}
		want := stat.StdDev(x, nil) / math.Sqrt(float64(c.n))
		near(t, "stderr", propStderr(c.k, c.n), want, 1e-12)
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		// Hand-computed from the Wilson formula with z = 1.959964.
		{"0 of 10", 0, 10, 0, 0.2775327998},
		{"10 of 10", 10, 10, 0.7224672002, 1},
		{"4 of 6", 4, 6, 0.2999933, 0.9032286},
		{"50 of 100", 50, 100, 0.4038315, 0.5961685},
		{"none", 0, 0, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := wilson(tt.k, tt.n)
			near(t, "lo", lo, tt.lo, 1e-6)
			near(t, "hi", hi, tt.hi, 1e-6)
		})
	}
}

func TestPooledStderr(t *testing.T) {
	tests := []struct {
		name  string
		se    []float64
		sizes []int
		want  float64
	}{
		// (3·0.25²·4 + 1·0.5²·2) / (6−2) = 0.3125; sqrt(0.3125/6).
		{"two subjects", []float64{0.25, 0.5}, []int{4, 2}, math.Sqrt(0.3125 / 6)},
		// One member: the pooled stderr is its own.
		{"one subject", []float64{0.25}, []int{4}, 0.25},
		// lm-eval: N/A as soon as a member's stderr is N/A.
		{"undefined member", []float64{0.25, math.NaN()}, []int{4, 1}, math.NaN()},
		{"empty", nil, nil, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			near(t, "pooled", pooledStderr(tt.se, tt.sizes), tt.want, 1e-12)
		})
	}
}

func TestMcNemarExact(t *testing.T) {
	tests := []struct {
		b, c int
		want float64
	}{
		{10, 2, 2 * (1.0 + 12 + 66) / 4096}, // 2·P(X ≤ 2), X ~ Bin(12, ½) = 0.0385742
		{2, 10, 2 * (1.0 + 12 + 66) / 4096},
		{0, 6, 2.0 / 64},
		{5, 5, 1},
		{0, 0, 1},
		{1, 0, 1},
	}
	for _, tt := range tests {
		near(t, "p", mcnemarExact(tt.b, tt.c), tt.want, 1e-12)
	}
}

func TestMeanStderr(t *testing.T) {
	m, se := meanStderr([]float64{1, 0, 0, -1, 1, 1})
	near(t, "mean", m, 2.0/6, 1e-15)
	// deviations from 1/3: sum of squares = 4·(2/3)² + (1/3)²·... computed: Σx² − n·m² = 4 − 6/9.
	near(t, "stderr", se, math.Sqrt((4-6.0/9)/5/6), 1e-15)
	_, se = meanStderr([]float64{1})
	near(t, "stderr n=1", se, math.NaN(), 0)
}

func TestMacroBootstrap(t *testing.T) {
	strata := []stratum{{k: 30, n: 40}, {k: 5, n: 20}, {k: 50, n: 50}, {k: 0, n: 7}}
	macro := (30.0/40 + 5.0/20 + 1 + 0) / 4
	lo, hi := macroBootstrap(strata, 2000, 1234, 0)
	if !(lo < macro && macro < hi) {
		t.Errorf("interval [%v, %v] does not contain the macro %v", lo, hi, macro)
	}
	// The binomial draws must spread like the item-level bootstrap: the
	// replicate sd is sqrt(Σ p(1−p)/n)/S. A 95% percentile interval is
	// about ±1.96 sd; allow a generous band for Monte Carlo noise.
	sd := math.Sqrt(0.75*0.25/40+0.25*0.75/20) / 4
	if w := hi - lo; w < 2*1.7*sd || w > 2*2.2*sd {
		t.Errorf("interval width %v, want about %v", w, 2*1.96*sd)
	}
	lo2, hi2 := macroBootstrap(strata, 2000, 1234, 0)
	if lo != lo2 || hi != hi2 {
		t.Error("same seed, different interval")
	}
	seen := map[[2]float64]bool{}
	for seed := range uint64(6) {
		a, b := macroBootstrap(strata, 200, seed+1, 0)
		seen[[2]float64{a, b}] = true
	}
	if len(seen) < 2 {
		t.Error("six seeds gave one interval: the seed is ignored")
	}
	if lo, hi := macroBootstrap(strata, 0, 1, 0); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Error("0 iterations must give no interval")
	}
	// Degenerate strata only: no variance, the interval is the point.
	lo, hi = macroBootstrap([]stratum{{k: 0, n: 3}, {k: 4, n: 4}}, 100, 1, 0)
	near(t, "lo", lo, 0.5, 0)
	near(t, "hi", hi, 0.5, 0)
}
