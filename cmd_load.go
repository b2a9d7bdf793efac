package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/loadgen"
	"github.com/evalbench/evalbench/reports"
	"github.com/evalbench/evalbench/results"
)

func loadCommand(e env) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `ID`: ENDPOINT_ID, ENDPOINT_ID:ADAPTER_ROUTE, or a serverless model code"},
		&cli.StringFlag{Name: "api", Value: "completions", Usage: "completions or chat"},
		&cli.StringSliceFlag{Name: "tools", Usage: "built-in serverless tool `TYPE` sent with every chat request, e.g. math:calculator (needs --api chat and the serverless tools base URL)"},
		&cli.StringFlag{Name: "profile", Value: "concurrency", Usage: "concurrency (closed loop: N in flight), rate (open loop: arrivals per second) or sweep (find the saturation knee)"},
		&cli.StringFlag{Name: "concurrency", DefaultText: "1,4,16,64", Usage: "closed-loop levels `N,N,...`, one step each"},
		&cli.StringFlag{Name: "rate", Usage: "open-loop arrival rates `R,R,...` in requests per second, one step each"},
		&cli.StringFlag{Name: "arrival", Value: "constant", Usage: "arrival schedule of rate steps: constant (evenly spaced), poisson or gamma"},
		&cli.Float64Flag{Name: "burstiness", DefaultText: "1", Usage: "gamma shape `B` (vLLM's convention): 1 is Poisson, below 1 burstier, above 1 smoother"},
		&cli.IntFlag{Name: "max-concurrency", DefaultText: "no cap; 256 for the sweep", Usage: "cap `N` on requests in flight in rate steps (the wait counts as client queue time); for the sweep, the saturation step's concurrency"},
		&cli.DurationFlag{Name: "duration", DefaultText: "30s", Usage: "measurement window of each step"},
		&cli.IntFlag{Name: "requests", DefaultText: "none", Usage: "measure `N` requests per step instead of a duration"},
		&cli.DurationFlag{Name: "warmup", Value: loadgen.DefaultWarmup, Usage: "warm-up before each window; its requests are not measured"},
		&cli.DurationFlag{Name: "cooldown", Value: loadgen.DefaultCooldown, Usage: "load kept on after each window while its last requests finish; not measured"},
		&cli.DurationFlag{Name: "ramp-up", DefaultText: "none", Usage: "spread the first starts of a closed-loop step's clients over this time"},
		&cli.StringFlag{Name: "prompts", Usage: "JSONL `FILE` of {\"prompt\": \"...\"} or {\"messages\": [...]} lines (chat), used in turn"},
		&cli.IntFlag{Name: "input-tokens", DefaultText: "256 without --dataset or --prompts", Usage: "synthetic prompts of `N` tokens, calibrated with the tokenize endpoint"},
		&cli.IntFlag{Name: "output-tokens", Value: loadgen.DefaultOutputTokens, Usage: "`N` tokens per reply, sent as min_tokens and max_tokens; 0 lets the model stop by itself"},
		&cli.StringFlag{Name: "slo", Usage: "service-level objectives for goodput, any of `ttft=500ms,tpot=50ms,e2e=10s`"},
		&cli.Float64Flag{Name: "slo-attainment", Value: loadgen.DefaultSLOAttainment, Usage: "fraction of good requests a step needs to meet the SLOs"},
		&cli.IntFlag{Name: "sweep-steps", Value: loadgen.DefaultSweepSteps, Usage: "`N` rate steps of the sweep, up to its maximum throughput"},
		&cli.Int64Flag{Name: "seed", Value: loadgen.DefaultSeed, Usage: "`S` seeds the arrival schedules and the synthetic prompts"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR` (default runs/<timestamp>-load-<model>)"},
	}
	flags = append(flags, datasetFlags()...)
	flags = append(flags, connectionFlags()...)
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:  "load",
		Usage: "load-test an endpoint: TTFT, ITL, TPOT, E2E, throughput and goodput per load level",
		UsageText: `evalbench load --base-url URL|sim --model ID [--api completions|chat] [--profile concurrency|rate|sweep]
       [--concurrency 1,4,16,64] [--rate 2,4,8] [--arrival constant|poisson|gamma] [--burstiness B]
       [--max-concurrency N] [--duration 30s | --requests N] [--warmup 5s] [--cooldown 2s]
       [--dataset PATH... | --prompts FILE.jsonl | --input-tokens N] [--output-tokens N]
       [--slo ttft=500ms,tpot=50ms,e2e=10s] [--seed S] [--out DIR] [--format text|json] [--quiet]`,
		Description: `Runs one step per load level. The concurrency profile keeps N streamed
requests in flight (closed loop); the rate profile sends requests on a seeded
open-loop schedule, each at its absolute time whatever the others are doing;
the sweep finds the maximum throughput with a closed-loop step at
--max-concurrency, then steps the rate up towards it until the server stops
keeping up (or misses the SLOs), and reports the knee.

Each step has a warm-up, a measurement window and a cool-down; a request is
measured iff its intended start falls in the window. From each stream:
TTFT (to the first chunk carrying a token), ITL (per token: a chunk of k
tokens gives k samples of its gap/k), TPOT ((E2E - TTFT) / (tokens - 1)) and
E2E (to the last token), with TTFT and E2E both from the intended and the
actual send time; output tokens from usage. Requests make one attempt:
errors are counted by kind, not retried.

Writes load.json (schema evalbench.load/v1), load.md, load.html and
requests.parquet (one row per request) in --out, and prints a table per step
(or load.json with --format json). Ctrl-C stops sending, lets requests in
flight finish briefly, writes what was measured marked partial and exits 130.

Examples:
   evalbench load --base-url sim --model demo --concurrency 1,8,32 --duration 10s
   evalbench load --base-url sim --model demo --profile rate --rate 5,10,20 --arrival constant
   evalbench load --base-url sim --model demo --profile sweep --slo ttft=200ms,tpot=20ms --duration 10s
   FRIENDLI_TOKEN=... evalbench load --model $ENDPOINT_ID --profile rate --rate 2,4,8 \
       --input-tokens 1024 --output-tokens 128 --slo ttft=500ms,tpot=50ms
   FRIENDLI_TOKEN=... evalbench load --base-url https://api.friendli.ai/serverless/tools \
       --model meta-llama-3.1-8b-instruct --api chat --tools math:calculator --prompts math.jsonl`,
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("load takes no arguments (got %q)", c.Args().First())
			}
			opts, pool, err := loadOptions(c)
			if err != nil {
				return err
			}
			requestsGC(e)
			return runLoad(c.Context, e, c, opts, pool)
		},
	}
}

// loadOptions turns the flags into loadgen options, checking every value
// and naming the flag that is wrong (exit 2). pool sizes the connection
// pool: the most requests a step keeps in flight.
func loadOptions(c *cli.Context) (loadgen.Options, int, error) {
	var o loadgen.Options
	if !c.IsSet("model") {
		return o, 0, usagef("load needs --model ID")
	}
	o.Model = c.String("model")
	if o.Model != "" {
		if _, err := endpoint.ParseModelID(o.Model); err != nil {
			return o, 0, usagef("--model: %v", err)
		}
	}
	o.API = loadgen.API(c.String("api"))
	if o.API != loadgen.APICompletions && o.API != loadgen.APIChat {
		return o, 0, usagef("--api %q: want completions or chat", o.API)
	}
	o.Tools = c.StringSlice("tools")
	if len(o.Tools) > 0 && o.API != loadgen.APIChat {
		return o, 0, usagef("--tools needs --api chat")
	}
	o.Profile = loadgen.Profile(c.String("profile"))
	if !slices.Contains(loadgen.Profiles, o.Profile) {
		return o, 0, usagef("--profile %q: want concurrency, rate or sweep", o.Profile)
	}
	var err error
	if c.IsSet("concurrency") {
		if o.Concurrency, err = parseInts("concurrency", c.String("concurrency")); err != nil {
			return o, 0, err
		}
		if o.Profile != loadgen.ProfileConcurrency {
			return o, 0, usagef("--concurrency is for --profile concurrency (cap a rate profile with --max-concurrency)")
		}
	}
	if c.IsSet("rate") {
		if o.Rates, err = parseRates(c.String("rate")); err != nil {
			return o, 0, err
		}
		switch o.Profile {
		case loadgen.ProfileSweep:
			return o, 0, usagef("--rate is not for --profile sweep: the sweep picks its own rates")
		case loadgen.ProfileConcurrency:
			return o, 0, usagef("--rate needs --profile rate (the concurrency profile keeps --concurrency requests in flight)")
		}
	}
	if o.Profile == loadgen.ProfileRate && len(o.Rates) == 0 {
		return o, 0, usagef("--profile rate needs --rate R,R,...")
	}
	o.Arrival = loadgen.Arrival(c.String("arrival"))
	if !slices.Contains(loadgen.Arrivals, o.Arrival) {
		return o, 0, usagef("--arrival %q: want constant, poisson or gamma", o.Arrival)
	}
	if c.IsSet("arrival") && o.Profile == loadgen.ProfileConcurrency {
		return o, 0, usagef("--arrival shapes open-loop arrivals: it needs --profile rate or sweep")
	}
	if c.IsSet("burstiness") {
		o.Burstiness = c.Float64("burstiness")
		if !(o.Burstiness > 0) || math.IsInf(o.Burstiness, 0) {
			return o, 0, usagef("--burstiness %v: want a positive number", o.Burstiness)
		}
		if o.Arrival != loadgen.Gamma {
			return o, 0, usagef("--burstiness needs --arrival gamma")
		}
	}
	if o.MaxConcurrency = c.Int("max-concurrency"); o.MaxConcurrency < 0 {
		return o, 0, usagef("--max-concurrency %d: want a positive number", o.MaxConcurrency)
	}
	if o.MaxConcurrency > 0 && o.Profile == loadgen.ProfileConcurrency {
		return o, 0, usagef("--max-concurrency is for --profile rate or sweep (use --concurrency)")
	}
	if c.IsSet("duration") && c.IsSet("requests") {
		return o, 0, usagef("give --duration or --requests, not both")
	}
	if c.IsSet("duration") {
		if o.Duration = c.Duration("duration"); o.Duration <= 0 {
			return o, 0, usagef("--duration %v: want a positive duration", o.Duration)
		}
	}
	if c.IsSet("requests") {
		if o.Requests = c.Int("requests"); o.Requests <= 0 {
			return o, 0, usagef("--requests %d: want a positive number", o.Requests)
		}
	}
	for _, d := range []struct {
		flag string
		v    *time.Duration
		none *bool
	}{{"warmup", &o.Warmup, &o.NoWarmup}, {"cooldown", &o.Cooldown, &o.NoCooldown}, {"ramp-up", &o.RampUp, nil}} {
		*d.v = c.Duration(d.flag)
		if *d.v < 0 {
			return o, 0, usagef("--%s %v: want a duration of 0 or more", d.flag, *d.v)
		}
		if *d.v == 0 && d.none != nil {
			*d.none = true
		}
	}
	sources := 0
	o.Dataset = c.StringSlice("dataset")
	if len(o.Dataset) > 0 {
		sources++
		fields, err := parseFields(c.StringSlice("field"))
		if err != nil {
			return o, 0, err
		}
		if o.DataOptions, err = dataOptions(c.String("layout"), fields, c.String("on-invalid")); err != nil {
			return o, 0, err
		}
		// A path that names nothing is a mistake in the command, found
		// before anything starts, as a missing --prompts file is.
		r, err := datasets.Open(c.Context, o.Dataset, o.DataOptions)
		if err != nil {
			return o, 0, usagef("--dataset: %v", err)
		}
		r.Close()
	}
	if o.PromptsFile = c.String("prompts"); o.PromptsFile != "" {
		sources++
		if _, err := os.Stat(o.PromptsFile); err != nil {
			return o, 0, usagef("--prompts: %v", err)
		}
	}
	if c.IsSet("input-tokens") {
		sources++
		if o.InputTokens = c.Int("input-tokens"); o.InputTokens <= 0 {
			return o, 0, usagef("--input-tokens %d: want a positive number", o.InputTokens)
		}
	}
	if sources > 1 {
		return o, 0, usagef("give one of --dataset, --prompts or --input-tokens")
	}
	switch o.OutputTokens = c.Int("output-tokens"); {
	case o.OutputTokens < 0:
		return o, 0, usagef("--output-tokens %d: want 0 or more", o.OutputTokens)
	case o.OutputTokens == 0:
		o.NaturalOutput = true
	}
	if o.SLO, err = loadgen.ParseSLO(c.String("slo")); err != nil {
		return o, 0, usagef("--slo: %s", strings.TrimPrefix(err.Error(), "loadgen: "))
	}
	if o.SLOAttainment = c.Float64("slo-attainment"); !(o.SLOAttainment > 0 && o.SLOAttainment <= 1) {
		return o, 0, usagef("--slo-attainment %v: want a fraction in (0, 1]", o.SLOAttainment)
	}
	if o.SweepSteps = c.Int("sweep-steps"); o.SweepSteps < 1 || o.SweepSteps > 100 {
		return o, 0, usagef("--sweep-steps %d: want 1 to 100", o.SweepSteps)
	}
	seed := c.Int64("seed")
	if seed <= 0 {
		return o, 0, usagef("--seed %d: want a positive number", seed)
	}
	o.Seed = uint64(seed)
	if c.IsSet("max-attempts") && c.Int("max-attempts") != 1 {
		return o, 0, usagef("--max-attempts: a load run makes one attempt per request (a retry would hide an error and distort latency)")
	}
	switch f := c.String("format"); f {
	case "text", "json":
	default:
		return o, 0, usagef("--format %q: want text or json", f)
	}
	if err := o.Check(); err != nil {
		return o, 0, usageError{err.Error()}
	}
	// Size the connection pool for the most requests a step keeps in
	// flight, so no request waits for a connection (that would be hidden
	// client queueing) and steady load never re-dials. Uncapped open-loop
	// steps have no bound: 512 covers rate × latency for most runs.
	pool := 0
	switch o.Profile {
	case loadgen.ProfileConcurrency:
		pool = slices.Max(o.Concurrency)
	case loadgen.ProfileRate:
		pool = o.MaxConcurrency
		if pool == 0 {
			pool = 512
		}
	case loadgen.ProfileSweep:
		pool = max(o.MaxConcurrency, 512)
	}
	return o, pool, nil
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return nil, usagef("--%s %q: %q is not a positive integer", flag, s, part)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), "/s"))
		r, err := strconv.ParseFloat(part, 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) {
			return nil, usagef("--rate %q: %q is not a positive number of requests per second", s, part)
		}
		out = append(out, r)
	}
	return out, nil
}

// defaultLoadOut is runs/<timestamp>-load-<model>.
func defaultLoadOut(t time.Time, model string) string {
	name := strings.Trim(unsafeFileChars.Replace(model), "_")
	if name == "" {
		name = "default"
	}
	return filepath.Join("runs", t.Format("20060102-150405")+"-load-"+name)
}

var unsafeFileChars = strings.NewReplacer(":", "_", "/", "_", "\\", "_", " ", "_")

func runLoad(ctx context.Context, e env, c *cli.Context, o loadgen.Options, pool int) error {
	quiet := c.Bool("quiet")
	dir := c.String("out")
	if dir == "" {
		dir = defaultLoadOut(time.Now(), o.Model)
	}
	if _, err := os.Stat(filepath.Join(dir, results.LoadFile)); err == nil {
		return usagef("--out %s already holds a load run (load.json); choose another directory", dir)
	}
	cn, err := connect(ctx, e, connSettings{
		baseURL: c.String("base-url"), tokenFile: c.String("token-file"), team: c.String("team"),
		timeout: c.Duration("timeout"), maxAttempts: 1, concurrency: pool,
	})
	if err != nil {
		return err
	}
	defer cn.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if cn.sim != nil && !quiet {
		fmt.Fprintf(e.stderr, "evalbench: embedded simulator at %s (it shares this process: its CPU counts in the client's)\n", cn.baseURL)
	}
	o.BaseURL = cn.baseURL
	o.InProcessServer = cn.sim != nil
	o.Log, o.Quiet, o.Terminal, o.Version = e.stderr, quiet, e.terminal, version

	// Each request is appended here as it ends; requests.parquet is built
	// from it at the end, and it is removed once that is written.
	logPath := filepath.Join(dir, results.LoadRequestsFile)
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	o.RequestLog = f
	rep, runErr := loadgen.Run(ctx, cn.client, o)
	if cerr := f.Close(); cerr != nil && runErr == nil {
		runErr = fmt.Errorf("load: %w", cerr)
	}
	if rep == nil { // nothing was measured (bad options, prompts that cannot be built)
		os.Remove(logPath)
		os.Remove(dir) // only if empty
		if errors.Is(runErr, loadgen.ErrInterrupted) {
			return errInterrupted
		}
		return runErr
	}
	// Written even after an interrupt: marked partial, with every request
	// measured so far.
	if err := reports.WriteLoadAll(context.WithoutCancel(ctx), dir, rep, reports.LoadOptions{Requests: logPath}); err != nil {
		return errors.Join(runErr, err)
	}
	os.Remove(logPath)
	switch c.String("format") {
	case "json":
		if err := reports.WriteLoadJSON(e.stdout, rep); err != nil {
			return err
		}
	default:
		if err := reports.WriteLoadText(e.stdout, rep); err != nil {
			return err
		}
	}
	if !quiet {
		fmt.Fprintf(e.stderr, "evalbench: wrote %s\n", filepath.Join(dir, reports.LoadMarkdownFile))
	}
	if errors.Is(runErr, loadgen.ErrInterrupted) {
		return errInterrupted
	}
	return runErr
}
