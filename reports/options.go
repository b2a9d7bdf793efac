package reports

import "fmt"

// Defaults for Options.
const (
	// DefaultBootstrapIters is the number of bootstrap replicates behind the
	// macro-average interval: enough for a stable 95% percentile interval
	// (the 2.5% tail holds 50 replicates) while costing milliseconds.
	DefaultBootstrapIters = 2000
	// DefaultSeed seeds the bootstrap so the same journal always gives the
	// same report, byte for byte.
	DefaultSeed int64 = 1234
)

// Options configure Build and WriteAll. The zero value is ready to use.
type Options struct {
	// Version is the evalbench version making the report, recorded in it.
	Version string
	// BootstrapIters is the number of stratified bootstrap replicates for
	// the macro-average interval. 0 means DefaultBootstrapIters; a negative
	// value disables the bootstrap (the interval is then null).
	BootstrapIters int
	// Seed seeds the bootstrap. 0 means DefaultSeed.
	Seed int64
	// SkipPlots leaves out plots/ and the figures in report.html (they are
	// the slowest part of WriteAll).
	SkipPlots bool
}

// withDefaults resolves zero values and checks the rest, in one place.
func (o Options) withDefaults() (Options, error) {
	if o.BootstrapIters == 0 {
		o.BootstrapIters = DefaultBootstrapIters
	}
	if o.BootstrapIters < 0 {
		o.BootstrapIters = 0
	}
	// A million replicates of 57 binomial draws is already minutes of work;
	// more is a typo, not a wish.
	if o.BootstrapIters > 1_000_000 {
		return o, fmt.Errorf("reports: option BootstrapIters: %d is more than 1000000", o.BootstrapIters)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	return o, nil
}
