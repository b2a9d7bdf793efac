package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
)

// Profile is the shape of a load run.
type Profile string

const (
	// ProfileConcurrency runs one closed-loop step per concurrency: N
	// requests in flight, each followed at once by the next.
	ProfileConcurrency Profile = "concurrency"
	// ProfileRate runs one open-loop step per arrival rate.
	ProfileRate Profile = "rate"
	// ProfileSweep finds the maximum throughput with a closed-loop step at
	// high concurrency, then steps the arrival rate up towards it and
	// reports the knee: the highest throughput the server sustains.
	ProfileSweep Profile = "sweep"
)

// Profiles lists the valid Profile values.
var Profiles = []Profile{ProfileConcurrency, ProfileRate, ProfileSweep}

// API is the endpoint a run loads.
type API string

const (
	APICompletions API = "completions"
	APIChat        API = "chat"
)

// Defaults.
const (
	DefaultDuration        = 30 * time.Second
	DefaultWarmup          = 5 * time.Second
	DefaultCooldown        = 2 * time.Second
	DefaultGrace           = 2 * time.Second
	DefaultInputTokens     = 256
	DefaultOutputTokens    = 128
	DefaultSweepSteps      = 6
	DefaultSweepMaxConc    = 256
	DefaultSaturationRatio = 0.95
	DefaultSLOAttainment   = 0.9
	DefaultSyntheticPool   = 64
	DefaultSeed            = 1
)

// DefaultConcurrency is the concurrency profile's default ladder.
var DefaultConcurrency = []int{1, 4, 16, 64}

// Options configure a load run. Zero values take the defaults; Run checks
// everything in one place (Check) before any request is sent.
type Options struct {
	// Model is the model ID sent with every request.
	Model string
	// API is completions (default) or chat.
	API API
	// Tools are built-in serverless tools ("math:calculator") sent with
	// every chat request; they need API chat.
	Tools []string

	Profile Profile
	// Concurrency lists the closed-loop levels (ProfileConcurrency).
	Concurrency []int
	// Rates lists the open-loop arrival rates, requests per second
	// (ProfileRate).
	Rates []float64
	// Arrival shapes open-loop schedules (default Constant: evenly spaced);
	// Burstiness is
	// the gamma shape (default 1).
	Arrival    Arrival
	Burstiness float64
	// MaxConcurrency caps the requests in flight in open-loop steps; the
	// wait for a slot is client queue time (charged to the from-intended
	// latencies). 0 means no cap. For ProfileSweep it is also the
	// concurrency of the saturation step (default 256).
	MaxConcurrency int

	// A step measures for Duration, or until Requests requests started in
	// the window (one of the two; Duration defaults to 30s). Warmup comes
	// before (default 5s; set NoWarmup for none) and Cooldown after
	// (default 2s; NoCooldown for none). A request is measured iff its
	// intended start time falls in the window.
	Duration   time.Duration
	Requests   int
	Warmup     time.Duration
	Cooldown   time.Duration
	NoWarmup   bool
	NoCooldown bool
	// RampUp spreads the first starts of a closed-loop step's N clients
	// evenly over this time instead of firing them together.
	RampUp time.Duration
	// Grace is how long requests in flight may finish after ctx is
	// cancelled before they are cancelled too (default 2s).
	Grace time.Duration

	// Prompts come from Dataset (any layout the datasets package reads,
	// rendered as question, lettered choices and "Answer:"), PromptsFile
	// (JSONL with "prompt" or chat "messages"), or else synthetic text of
	// InputTokens tokens (default 256), calibrated through the tokenize
	// endpoint. Prompts are used in order and cycled.
	Dataset     []string
	DataOptions datasets.Options
	PromptsFile string
	InputTokens int
	// SyntheticPool is the number of distinct synthetic prompts (default 64).
	SyntheticPool int
	// OutputTokens is sent as both min_tokens and max_tokens (default 128);
	// NaturalOutput sends neither, letting the model stop by itself.
	OutputTokens  int
	NaturalOutput bool

	// SLO, when set, makes every step report goodput; SLOAttainment is the
	// good fraction a step needs to meet them (default 0.9).
	SLO           SLO
	SLOAttainment float64
	// SweepSteps is the number of rate steps of a sweep (default 6);
	// SaturationRatio the achieved/offered ratio below which a step is not
	// sustainable (default 0.95).
	SweepSteps      int
	SaturationRatio float64

	// Seed seeds the schedules and the synthetic prompts (0 means 1).
	Seed uint64

	// RequestLog receives requests.jsonl, one line per request as it ends;
	// nil keeps none.
	RequestLog io.Writer

	// BaseURL is recorded in the report. InProcessServer says the server
	// runs in this process (the embedded simulator), so the client's CPU
	// figures include it.
	BaseURL         string
	InProcessServer bool

	// Log receives progress lines; nil or Quiet discards them. Terminal
	// draws a bar instead of periodic lines; LogEvery is their period
	// (default 10s).
	Log      io.Writer
	Quiet    bool
	Terminal bool
	LogEvery time.Duration

	Version string
}

// Check fills the defaults and validates every field at once, naming the
// options (in the command line's words) that are wrong.
func (o *Options) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.API == "" {
		o.API = APICompletions
	}
	if o.API != APICompletions && o.API != APIChat {
		bad("api %q: want completions or chat", o.API)
	}
	if len(o.Tools) > 0 && o.API != APIChat {
		bad("tools need the chat API")
	}
	if o.Profile == "" {
		o.Profile = ProfileConcurrency
	}
	if !slices.Contains(Profiles, o.Profile) {
		bad("profile %q: want concurrency, rate or sweep", o.Profile)
	}
	if o.Arrival == "" {
		o.Arrival = Constant
	}
	if !slices.Contains(Arrivals, o.Arrival) {
		bad("arrival %q: want constant, poisson or gamma", o.Arrival)
	}
	if o.Burstiness == 0 {
		o.Burstiness = 1
	}
	if !(o.Burstiness > 0) || math.IsInf(o.Burstiness, 0) {
		bad("burstiness %v: want a positive number", o.Burstiness)
	}
	if o.Burstiness != 1 && o.Arrival != Gamma {
		bad("burstiness %v needs the gamma arrival", o.Burstiness)
	}
	switch o.Profile {
	case ProfileConcurrency:
		if len(o.Concurrency) == 0 {
			o.Concurrency = slices.Clone(DefaultConcurrency)
		}
		if len(o.Rates) > 0 {
			bad("rate is for the rate profile (this is the concurrency profile)")
		}
	case ProfileRate:
		if len(o.Rates) == 0 {
			bad("the rate profile needs at least one rate")
		}
		if len(o.Concurrency) > 0 {
			bad("concurrency is for the concurrency profile; cap the rate profile with max-concurrency")
		}
	case ProfileSweep:
		if len(o.Rates) > 0 || len(o.Concurrency) > 0 {
			bad("the sweep profile picks its own rates: drop concurrency and rate (max-concurrency sets its saturation step)")
		}
		if o.MaxConcurrency == 0 {
			o.MaxConcurrency = DefaultSweepMaxConc
		}
	}
	for _, n := range o.Concurrency {
		if n <= 0 {
			bad("concurrency %d: want a positive number", n)
		}
	}
	for _, r := range o.Rates {
		if !(r > 0) || math.IsInf(r, 0) {
			bad("rate %v: want a positive number of requests per second", r)
		}
	}
	if o.MaxConcurrency < 0 {
		bad("max-concurrency %d is negative", o.MaxConcurrency)
	}
	switch {
	case o.Duration < 0:
		bad("duration %v is negative", o.Duration)
	case o.Requests < 0:
		bad("requests %d is negative", o.Requests)
	case o.Duration > 0 && o.Requests > 0:
		bad("give duration or requests, not both")
	case o.Duration == 0 && o.Requests == 0:
		o.Duration = DefaultDuration
	}
	if o.Warmup < 0 || o.Cooldown < 0 || o.RampUp < 0 || o.Grace < 0 {
		bad("warmup, cooldown, ramp-up and grace must not be negative")
	}
	if o.Warmup == 0 && !o.NoWarmup {
		o.Warmup = DefaultWarmup
	}
	if o.Cooldown == 0 && !o.NoCooldown {
		o.Cooldown = DefaultCooldown
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	sources := 0
	for _, set := range []bool{len(o.Dataset) > 0, o.PromptsFile != "", o.InputTokens != 0} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		bad("give one prompt source: dataset, prompts or input-tokens")
	}
	if o.InputTokens < 0 {
		bad("input-tokens %d is negative", o.InputTokens)
	}
	if sources == 0 {
		o.InputTokens = DefaultInputTokens
	}
	if o.SyntheticPool < 0 {
		bad("synthetic pool %d is negative", o.SyntheticPool)
	}
	if o.SyntheticPool == 0 {
		o.SyntheticPool = DefaultSyntheticPool
	}
	if o.OutputTokens < 0 {
		bad("output-tokens %d is negative", o.OutputTokens)
	}
	if o.OutputTokens == 0 && !o.NaturalOutput {
		o.OutputTokens = DefaultOutputTokens
	}
	if o.NaturalOutput {
		o.OutputTokens = 0
	}
	if o.SLO.TTFT < 0 || o.SLO.TPOT < 0 || o.SLO.E2E < 0 {
		bad("slo: objectives must be positive")
	}
	if o.SLOAttainment == 0 {
		o.SLOAttainment = DefaultSLOAttainment
	}
	if !(o.SLOAttainment > 0 && o.SLOAttainment <= 1) {
		bad("slo-attainment %v: want a fraction in (0, 1]", o.SLOAttainment)
	}
	if o.SweepSteps == 0 {
		o.SweepSteps = DefaultSweepSteps
	}
	if o.SweepSteps < 1 || o.SweepSteps > 100 {
		bad("sweep-steps %d: want 1 to 100", o.SweepSteps)
	}
	if o.SaturationRatio == 0 {
		o.SaturationRatio = DefaultSaturationRatio
	}
	if !(o.SaturationRatio > 0 && o.SaturationRatio <= 1) {
		bad("saturation ratio %v: want a fraction in (0, 1]", o.SaturationRatio)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.LogEvery == 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.Log == nil || o.Quiet {
		o.Log = io.Discard
	}
	if len(errs) > 0 {
		return fmt.Errorf("loadgen: %w", errors.Join(errs...))
	}
	return nil
}

// tools turns the tool names into request tools.
func (o *Options) tools() []endpoint.Tool {
	if len(o.Tools) == 0 {
		return nil
	}
	t := make([]endpoint.Tool, len(o.Tools))
	for i, name := range o.Tools {
		t[i] = endpoint.Tool{Type: name}
	}
	return t
}
