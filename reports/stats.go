package reports

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// z975 is the standard normal's 97.5% quantile, for two-sided 95% intervals.
var z975 = distuv.UnitNormal.Quantile(0.975)

// propStderr is lm-eval's mean_stderr for 0/1 scores: the sample standard
// deviation with Bessel's correction over √n, which for a proportion is
// sqrt(p(1−p)/(n−1)). Undefined (NaN) when n ≤ 1, as lm-eval reports "N/A".
func propStderr(k, n int) float64 {
	if n <= 1 {
		return math.NaN()
	}
	p := float64(k) / float64(n)
	return math.Sqrt(p * (1 - p) / float64(n-1))
}

// wilson is the Wilson score 95% interval for k successes in n trials. Unlike
// p ± z·se it stays inside [0, 1] and does not collapse to a point at 0 or n
// correct, which matters for small subjects.
func wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return math.NaN(), math.NaN()
	}
	z := z975
	nf := float64(n)
	p := float64(k) / nf
	den := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, center-half), min(1, center+half)
}

// pooledStderr is lm-eval's pooled_sample_stderr for a group of tasks:
//
//	pooled_var = Σ (n_i − 1)·se_i²·n_i / (Σ n_i − k);  stderr = sqrt(pooled_var / Σ n_i)
//
// It pools within-task variance only. Like lm-eval it is undefined when any
// member's stderr is (n_i ≤ 1), and when Σ n_i ≤ k.
func pooledStderr(stderrs []float64, sizes []int) float64 {
	if len(stderrs) == 0 || len(stderrs) != len(sizes) {
		return math.NaN()
	}
	var num float64
	total := 0
	for i, se := range stderrs {
		if math.IsNaN(se) {
			return math.NaN()
		}
		n := float64(sizes[i])
		num += (n - 1) * se * se * n
		total += sizes[i]
	}
	if total <= len(sizes) {
		return math.NaN()
	}
	return math.Sqrt(num / float64(total-len(sizes)) / float64(total))
}

// stratum is one subject's tally, the unit the macro bootstrap resamples in.
type stratum struct{ k, n int }

// macroBootstrap returns a percentile 95% interval for the mean of per-stratum
// proportions, resampling examples with replacement within each stratum
// (subject), iters times. Resampling n 0/1 outcomes of which k are 1 yields a
// Binomial(n, k/n) count, so each stratum is drawn as one binomial variate:
// the same distribution as resampling item by item, at a fraction of the cost.
func macroBootstrap(strata []stratum, iters int, seed uint64, stream uint64) (lo, hi float64) {
	if iters <= 0 || len(strata) == 0 {
		return math.NaN(), math.NaN()
	}
	src := rand.NewPCG(seed, stream)
	bins := make([]distuv.Binomial, len(strata))
	for i, s := range strata {
		bins[i] = distuv.Binomial{N: float64(s.n), P: float64(s.k) / float64(s.n), Src: src}
	}
	reps := make([]float64, iters)
	for it := range reps {
		var sum float64
		for i, s := range strata {
			var k float64
			switch s.k {
			case 0:
				k = 0
			case s.n:
				k = float64(s.n)
			default:
				k = bins[i].Rand()
			}
			sum += k / float64(s.n)
		}
		reps[it] = sum / float64(len(strata))
	}
	slices.Sort(reps)
	return stat.Quantile(0.025, stat.LinInterp, reps, nil), stat.Quantile(0.975, stat.LinInterp, reps, nil)
}

// mcnemarExact is the two-sided exact McNemar test on the discordant pairs:
// under the null each of the b+c discordant examples is equally likely to
// favour either side, so p = min(1, 2·P(X ≤ min(b,c))) with X ~ Binomial(b+c, ½).
// With no discordant pair there is no evidence of a difference: p = 1.
func mcnemarExact(b, c int) float64 {
	n := b + c
	if n == 0 {
		return 1
	}
	d := distuv.Binomial{N: float64(n), P: 0.5}
	return min(1, 2*d.CDF(float64(min(b, c))))
}

// meanStderr returns the mean of x and its standard error, the sample
// standard deviation (Bessel) over √n; the stderr is NaN when len(x) ≤ 1.
func meanStderr(x []float64) (mean, se float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	if len(x) == 1 {
		return x[0], math.NaN()
	}
	m, sd := stat.MeanStdDev(x, nil)
	return m, sd / math.Sqrt(float64(len(x)))
}
