package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/internal/grace"
	"github.com/evalbench/evalbench/results"
)

// ErrInterrupted is returned (with the partial report) when ctx was
// cancelled before the run ended.
var ErrInterrupted = errors.New("loadgen: interrupted")

// Client is what the load generator needs of the endpoint client.
// *endpoint.Client implements it.
type Client interface {
	Tokenizer
	SendStream(ctx context.Context, req endpoint.StreamRequest) (*endpoint.Stream, endpoint.Call, error)
}

// Warning thresholds: a client busier than this, or later than this on
// its schedule, may be measuring itself rather than the server.
const (
	WarnClientCores = 0.8
	WarnLagP99MS    = 5.0
)

// runState is what every step of a run shares.
type runState struct {
	opts    Options
	client  Client
	prompts *prompts
	log     *results.LoadRequestWriter
	// work outlives an interrupt by opts.Grace, so requests in flight can
	// finish briefly before they are cancelled.
	work context.Context

	outTokens  *int
	streamOpts *endpoint.StreamOptions
	tools      []endpoint.Tool

	health health
}

// AbortAfter is how many requests may fail, before any succeeds, until the
// run stops: a wrong URL, model or token fails every request, and
// measuring that for every step would only hammer the server.
const AbortAfter = 20

// health stops a run whose every request fails from the start.
type health struct {
	mu       sync.Mutex
	anyOK    bool
	failures int
	first    error
}

func (h *health) ok() {
	h.mu.Lock()
	h.anyOK = true
	h.mu.Unlock()
}

// failed counts a failure and returns the run's error once AbortAfter of
// them came before any success.
func (h *health) failed(err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.anyOK {
		return nil
	}
	if h.first == nil {
		h.first = err
		if err == nil {
			h.first = errors.New("the stream ended without any token")
		}
	}
	if h.failures++; h.failures == AbortAfter {
		return fmt.Errorf("loadgen: the first %d requests all failed, so the run stopped; the first error: %w", AbortAfter, h.first)
	}
	return nil
}

// request is p's encoded request, encoded once per prompt.
func (g *runState) request(p *Prompt) (endpoint.StreamRequest, error) {
	if p.body == nil {
		return g.encode(p)
	}
	p.body.once.Do(func() { p.body.req, p.body.err = g.encode(p) })
	return p.body.req, p.body.err
}

func (g *runState) encode(p *Prompt) (endpoint.StreamRequest, error) {
	if g.opts.API == APIChat {
		return endpoint.EncodeChatStream(&endpoint.ChatRequest{Model: g.opts.Model, Messages: p.Messages,
			MaxTokens: g.outTokens, MinTokens: g.outTokens, Tools: g.tools, StreamOptions: g.streamOpts})
	}
	return endpoint.EncodeCompletionsStream(&endpoint.CompletionRequest{Model: g.opts.Model, Prompt: p.Text,
		MaxTokens: g.outTokens, MinTokens: g.outTokens, StreamOptions: g.streamOpts})
}

// stepSeed gives every step its own schedule, reproducible from the seed.
func (g *runState) stepSeed(index int) uint64 {
	return g.opts.Seed*0x9e3779b97f4a7c15 + uint64(index) + 1
}

// Run loads the endpoint as opts says and returns the report: every step's
// figures, and the sweep's outcome. Each request is written to
// opts.RequestLog as it ends. When ctx is cancelled, dispatch stops,
// requests in flight get opts.Grace to finish, and Run returns the report
// so far (status partial) with ErrInterrupted. On another error the report
// so far is returned too, when there is one.
func Run(ctx context.Context, client Client, opts Options) (*results.LoadReport, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("loadgen: no client")
	}
	rep := &results.LoadReport{
		Schema: results.LoadSchema, Version: opts.Version, Status: results.LoadComplete,
		Started: time.Now(), Config: configOf(&opts), Warnings: []string{}, Definitions: Definitions(),
	}
	work, cancelWork := grace.Context(ctx, opts.Grace)
	defer cancelWork()

	g := &runState{opts: opts, client: client, work: work, tools: opts.tools(),
		streamOpts: &endpoint.StreamOptions{IncludeUsage: true}}
	if opts.OutputTokens > 0 {
		g.outTokens = endpoint.Ptr(opts.OutputTokens)
	}
	src, pool, err := g.openSource(ctx)
	if err != nil {
		return nil, err
	}
	rep.Config.Source.Distinct, rep.Config.Source.TemplateTokens = pool.distinct, pool.template
	if pool.noTemplate != "" {
		rep.Notes = append(rep.Notes, pool.noTemplate)
	}
	g.prompts = newPrompts(src)
	defer g.prompts.close()
	if opts.RequestLog != nil {
		g.log = results.NewLoadRequestWriter(opts.RequestLog)
	}

	var runErr error
	switch opts.Profile {
	case ProfileConcurrency:
		for i, n := range opts.Concurrency {
			if runErr = g.step(ctx, rep, stepPlan{index: i, kind: "concurrency", concurrency: n}); runErr != nil {
				break
			}
		}
	case ProfileRate:
		for i, r := range opts.Rates {
			if runErr = g.step(ctx, rep, stepPlan{index: i, kind: "rate", rate: r, maxConc: opts.MaxConcurrency}); runErr != nil {
				break
			}
		}
	case ProfileSweep:
		runErr = g.sweep(ctx, rep)
	}
	if g.log != nil {
		if err := g.log.Flush(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if ctx.Err() != nil && (runErr == nil || errors.Is(runErr, ErrInterrupted)) {
		runErr = ErrInterrupted
	}
	if runErr != nil {
		rep.Status = results.LoadPartial
		rep.Stopped = "interrupted"
		if !errors.Is(runErr, ErrInterrupted) {
			rep.Stopped = runErr.Error()
		}
	}
	rep.Finished = time.Now()
	rep.WallSeconds = rep.Finished.Sub(rep.Started).Seconds()
	rep.Notes = append(rep.Notes, notes(&opts)...)
	return rep, runErr
}

// step runs one step and appends its summary and warnings to rep.
func (g *runState) step(ctx context.Context, rep *results.LoadReport, plan stepPlan) error {
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	st := newStep(g, plan)
	s, err := st.execute(ctx)
	rep.Steps = append(rep.Steps, *s)
	rep.Warnings = append(rep.Warnings, stepWarnings(&g.opts, s)...)
	g.logStepEnd(s)
	if err != nil {
		return err
	}
	if st.interrupted.Load() {
		return ErrInterrupted
	}
	return nil
}

// poolInfo describes a synthetic pool: its distinct prompts, and the
// tokens the chat template adds to each (chat only), or why that is not
// known.
type poolInfo struct {
	distinct, template int
	noTemplate         string
}

// openSource opens the prompt source the options name.
func (g *runState) openSource(ctx context.Context) (source, poolInfo, error) {
	o := &g.opts
	chat := o.API == APIChat
	switch {
	case len(o.Dataset) > 0:
		s, err := openDataset(ctx, o.Dataset, o.DataOptions, chat)
		return s, poolInfo{}, err
	case o.PromptsFile != "":
		s, err := openPromptsFile(ctx, o.PromptsFile, chat)
		return s, poolInfo{}, err
	}
	if !o.Quiet && o.Log != nil {
		fmt.Fprintf(o.Log, "load: calibrating %d synthetic prompts of %d tokens with the tokenize endpoint\n", o.SyntheticPool, o.InputTokens)
	}
	var info poolInfo
	target := o.InputTokens
	if chat {
		// The tokenize endpoint sees the text; the model sees it inside
		// the chat template (roles, special tokens, tool definitions).
		// One short chat request measures what the template adds, and the
		// text is made that much shorter.
		n, err := g.templateTokens(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, info, ErrInterrupted
		case err != nil:
			info.noTemplate = fmt.Sprintf("Synthetic chat prompts: %v; their text has %d tokens, the chat template's are on top.", err, target)
		case n >= target:
			return nil, info, fmt.Errorf("loadgen: input-tokens %d: the chat template alone is %d tokens", target, n)
		default:
			info.template, target = n, target-n
		}
	}
	pool, err := syntheticPool(ctx, g.client, o.Model, target, o.SyntheticPool, o.Seed, chat)
	if err != nil {
		if ctx.Err() != nil {
			return nil, info, ErrInterrupted
		}
		return nil, info, err
	}
	for i := range pool {
		pool[i].InputTokens += info.template
	}
	info.distinct = len(pool)
	return &poolSource{pool: pool}, info, nil
}

// templateTokens is the number of prompt tokens a one-message chat request
// has beyond its text's own: usage.prompt_tokens of a one-token reply less
// the text's tokens from the tokenize endpoint.
func (g *runState) templateTokens(ctx context.Context) (int, error) {
	const probe = "Hello there"
	ids, _, err := g.client.Tokenize(ctx, g.opts.Model, probe)
	if err != nil {
		return 0, fmt.Errorf("loadgen: measuring the chat template: %w", err)
	}
	req, err := endpoint.EncodeChatStream(&endpoint.ChatRequest{Model: g.opts.Model, Messages: []endpoint.Message{{Role: "user", Content: probe}},
		MaxTokens: endpoint.Ptr(1), Tools: g.tools, StreamOptions: g.streamOpts})
	if err != nil {
		return 0, err
	}
	s, _, err := g.client.SendStream(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("loadgen: measuring the chat template: %w", err)
	}
	defer s.Close()
	prompt := -1
	for {
		ch, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("loadgen: measuring the chat template: %w", err)
		}
		if ch.Usage != nil && ch.Usage.PromptTokens > 0 {
			prompt = ch.Usage.PromptTokens
		}
	}
	if prompt < 0 {
		return 0, errors.New("the server's reply had no usage, so the chat template's length is not known")
	}
	// The text's count from tokenize includes the special tokens tokenize
	// adds (BOS); the template holds those too, so they are not counted twice.
	return max(prompt-len(ids), 0), nil
}

func configOf(o *Options) results.LoadConfig {
	c := results.LoadConfig{
		BaseURL: o.BaseURL, Model: o.Model, API: string(o.API), Tools: o.Tools, Profile: string(o.Profile),
		Concurrency: o.Concurrency, Rates: o.Rates, MaxConcurrency: o.MaxConcurrency,
		DurationSeconds: o.Duration.Seconds(), Requests: o.Requests,
		WarmupSeconds: o.Warmup.Seconds(), CooldownSeconds: o.Cooldown.Seconds(), RampUpSeconds: o.RampUp.Seconds(),
		OutputTokens: o.OutputTokens, Seed: o.Seed, InProcessServer: o.InProcessServer,
	}
	if o.Profile != ProfileConcurrency {
		c.Arrival = string(o.Arrival)
		if o.Arrival == Gamma {
			c.Burstiness = o.Burstiness
		}
	}
	if o.Profile == ProfileSweep {
		c.SweepSteps, c.SaturationRatio = o.SweepSteps, o.SaturationRatio
	}
	switch {
	case len(o.Dataset) > 0:
		c.Source = results.LoadSource{Kind: "dataset", Paths: o.Dataset}
	case o.PromptsFile != "":
		c.Source = results.LoadSource{Kind: "prompts", Paths: []string{o.PromptsFile}}
	default:
		c.Source = results.LoadSource{Kind: "synthetic", InputTokens: o.InputTokens}
	}
	if o.SLO.Set() {
		opt := func(d time.Duration) results.Float {
			if d <= 0 {
				return results.NaN()
			}
			return results.Float(ms(d))
		}
		c.SLO = &results.LoadSLO{TTFT: opt(o.SLO.TTFT), TPOT: opt(o.SLO.TPOT), E2E: opt(o.SLO.E2E), Attainment: o.SLOAttainment}
	}
	return c
}

// stepWarnings flags a step whose figures may describe the client more
// than the server.
func stepWarnings(o *Options, s *results.LoadStep) []string {
	var w []string
	where := fmt.Sprintf("step %d (%s)", s.Index+1, s.Label)
	if c := s.Client.Cores; c.Valid() && float64(c) > WarnClientCores {
		msg := fmt.Sprintf("%s: the client used %.2f CPU cores (more than %.0f%% of a core, GOMAXPROCS %d): latencies may include the client's own delays",
			where, float64(c), WarnClientCores*100, s.Client.GOMAXPROCS)
		if o.InProcessServer {
			msg += "; this figure includes the embedded simulator, which runs in the same process (run `evalbench serve` separately to measure the client alone)"
		}
		w = append(w, msg)
	}
	// Schedule lag is the client's lateness, but under --max-concurrency it
	// also holds the wait for a slot, which is the load's doing, not the
	// client's: there the dispatch lag (the lag before that wait) is what
	// tells a client that cannot keep up.
	lag, what := s.Latency.ScheduleLag.P99, "schedule lag"
	if s.MaxConcurrency > 0 {
		lag, what = s.Latency.DispatchLag.P99, "dispatch lag"
	}
	if lag.Valid() && float64(lag) > WarnLagP99MS {
		w = append(w, fmt.Sprintf("%s: %s p99 %.1f ms exceeds %.0f ms: the client fell behind its schedule, so latencies may include its own delays", where, what, float64(lag), WarnLagP99MS))
	}
	if s.Kind == "rate" && s.MaxConcurrency == 0 {
		if sr := s.Throughput.SendRate; sr.Valid() && s.Requests.Sent > 100 && float64(sr) < 0.95*s.Rate && s.Status == results.LoadComplete && o.Arrival == Constant {
			w = append(w, fmt.Sprintf("%s: requests were sent at %.1f/s, below the %.1f/s asked for", where, float64(sr), s.Rate))
		}
	}
	if e2e := s.Latency.E2E.FromIntended.P50; e2e.Valid() && s.Requests.Measured > 0 && s.WindowStart*1000 < float64(e2e) &&
		float64(e2e)/1000 > 0.1*s.WindowSeconds {
		sec, share := float64(e2e)/1000, float64(e2e)/1000/max(s.WindowSeconds, 1e-9)
		effect := fmt.Sprintf("its throughput is underestimated by about E2E/window (%.0f%%)", 100*share)
		if share >= 1 {
			effect = "the window ends before a request started in it can finish, so its throughput means little"
		}
		w = append(w, fmt.Sprintf("%s: the warm-up (%.3gs) is shorter than the median E2E latency (%.3gs): completions lag the window's start, so %s; lengthen --warmup and --duration",
			where, s.WindowStart, sec, effect))
	}
	if n := s.Requests.UsageMismatch; n > 0 {
		w = append(w, fmt.Sprintf("%s: usage.completion_tokens differs from the tokens counted in the stream in %d requests (usage is used)", where, n))
	}
	if n := s.Requests.UsageMissing; n > 0 {
		w = append(w, fmt.Sprintf("%s: %d requests had no usage chunk; their output tokens were counted from the stream", where, n))
	}
	if c := s.Requests; c.OK == 0 && c.Errors > 0 {
		w = append(w, fmt.Sprintf("%s: every measured request failed (%d errors): its latency figures are empty", where, c.Errors))
	}
	if s.Requests.Measured == 0 && s.Status == results.LoadComplete {
		w = append(w, fmt.Sprintf("%s: no request started inside the measurement window", where))
	}
	return w
}

func notes(o *Options) []string {
	n := []string{
		"Requests count in a step's latency figures iff their intended start time falls in its measurement window; warm-up and cool-down requests are excluded.",
		"Throughput counts what successful requests did inside the window: completions (their last token), and output tokens as they arrived (prompt tokens when the first token arrived).",
		"Latencies are over successful measured requests; errors are counted apart. Each request made one attempt (no retries).",
	}
	if o.SLO.Set() {
		n = append(n, fmt.Sprintf("Goodput: a request is good iff it succeeded and met %s, TTFT and E2E taken from the intended send time; a step meets the SLOs when at least %.0f%% of its measured requests are good.", o.SLO, o.SLOAttainment*100))
	}
	if o.InProcessServer {
		n = append(n, "The server was the embedded simulator, in the same process: client CPU figures include it.")
	}
	n = append(n, fmt.Sprintf("Client: GOMAXPROCS %d.", runtime.GOMAXPROCS(0)))
	return n
}

// Definitions says what each figure of load.json measures.
func Definitions() map[string]string {
	return map[string]string{
		"ttft_ms":             "time to first token: to the first streamed chunk that carries a token (never an empty or role-only chunk)",
		"itl_ms":              "inter-token latency, one sample per token: a chunk carrying k tokens gives k samples of (its gap since the previous token-carrying chunk)/k; tokens beyond the first in the first chunk give none",
		"tpot_ms":             "time per output token after the first: (e2e − ttft) / (output tokens − 1), per request, when output tokens > 1",
		"e2e_ms":              "end-to-end latency: to the last chunk that carries a token (not the trailing usage chunk or [DONE])",
		"from_intended":       "measured from the time the schedule meant the request to be sent: corrects coordinated omission, charging client queueing and lag to the latency",
		"from_sent":           "measured from the time the request was handed to the HTTP client",
		"schedule_lag_ms":     "sent − intended: dispatch lag plus client queue time",
		"dispatch_lag_ms":     "how late the client started a request (open loop) or turned around to the next (closed loop)",
		"client_queue_ms":     "wait for a --max-concurrency slot",
		"output_tokens":       "usage.completion_tokens, or the tokens counted in the stream when the reply had no usage",
		"requests_per_s":      "successful completions (their last token) inside the measurement window / window length",
		"output_tokens_per_s": "output tokens of successful requests that arrived inside the window / window length",
		"total_tokens_per_s":  "output tokens plus the prompt tokens of successful requests whose first token arrived inside the window, per second",
		"offered_per_s":       "requests whose intended start is inside the window / window length",
		"send_rate":           "(requests sent − 1) / (last send − first send), over the whole step",
		"achieved_ratio":      "requests_per_s / offered_per_s",
		"goodput":             "requests_per_s × (good / ok): the successful completions' rate times the share of the measured successes that met every SLO",
		"cpu_cores":           "the process's user+system CPU time over the step / the step's wall time",
	}
}

// finite maps NaN to nil-like zero for comparisons.
func finite(f results.Float) float64 {
	if !f.Valid() {
		return math.NaN()
	}
	return float64(f)
}
