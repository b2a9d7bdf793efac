package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/configs"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/simulator"
)

// simBaseURL is the --base-url value that starts the embedded simulator.
const simBaseURL = "sim"

func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "base-url", Usage: "API base URL: " + endpoint.DefaultBaseURL + ", https://api.friendli.ai/serverless, a container such as http://127.0.0.1:8000, or \"sim\" for the embedded simulator", EnvVars: []string{"EVALBENCH_BASE_URL"}},
		&cli.StringFlag{Name: "token-file", Usage: "read the API token from `FILE` (default: the FRIENDLI_TOKEN environment variable)"},
		&cli.StringFlag{Name: "team", Usage: "send requests as team `ID` (X-Friendli-Team; default: FRIENDLI_TEAM)"},
		&cli.DurationFlag{Name: "timeout", Usage: "per-attempt request timeout (default 10m)"},
		&cli.IntFlag{Name: "max-attempts", Usage: "attempts per request, retries included (default 8)"},
	}
}

// conn is a client, plus the embedded simulator when --base-url is sim.
type conn struct {
	client  *endpoint.Client
	baseURL string
	sim     *simulator.Instance
	// procs is the GOMAXPROCS to restore on Close; 0 when unchanged.
	procs int
}

func (c *conn) Close() {
	if c.sim != nil {
		c.sim.Close()
	}
	if c.procs > 0 {
		runtime.GOMAXPROCS(c.procs)
		c.procs = 0
	}
}

type connSettings struct {
	baseURL     string
	tokenFile   string
	team        string
	timeout     time.Duration
	maxAttempts int
	concurrency int
	sim         configs.Simulator
}

func connect(ctx context.Context, e env, s connSettings) (*conn, error) {
	c := &conn{baseURL: s.baseURL}
	if s.baseURL == "" {
		c.baseURL = endpoint.DefaultBaseURL
	}
	if strings.EqualFold(c.baseURL, simBaseURL) {
		// The simulator outlives ctx (it is closed by conn.Close): on
		// Ctrl-C the requests in flight get their grace period to finish
		// instead of losing their server.
		inst, err := simulator.Start(context.WithoutCancel(ctx), simConfig(s.sim), "")
		if err != nil {
			return nil, fmt.Errorf("start simulator: %w", err)
		}
		c.sim = inst
		c.baseURL = inst.URL() + "/dedicated"
		if e.getenv("GOMAXPROCS") == "" {
			c.procs = runtime.GOMAXPROCS(simulator.EmbeddedProcs(runtime.GOMAXPROCS(0)))
		}
	}
	// FRIENDLI_TOKEN and FRIENDLI_TEAM go only to FriendliAI's own API: a
	// container or another server gets a token only when it is named for
	// it with --token-file, so a token in the environment never reaches a
	// host it was not issued for.
	friendli := endpoint.IsFriendliCloud(endpoint.BaseURLHost(c.baseURL))
	envToken, team := "", s.team
	if friendli {
		envToken = e.getenv("FRIENDLI_TOKEN")
		if team == "" {
			team = e.getenv("FRIENDLI_TEAM")
		}
	}
	token := ""
	if c.sim == nil {
		var err error
		if token, err = endpoint.LoadToken(envToken, s.tokenFile); err != nil {
			c.Close()
			return nil, err
		}
	}
	retry := endpoint.DefaultRetryPolicy()
	if s.maxAttempts > 0 {
		retry.MaxAttempts = s.maxAttempts
	}
	client, err := endpoint.New(endpoint.Options{
		BaseURL:     c.baseURL,
		Token:       token,
		Team:        team,
		Concurrency: s.concurrency,
		Timeout:     s.timeout,
		Retry:       retry,
		UserAgent:   "evalbench/" + version,
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	c.client = client
	return c, nil
}

// simConfig turns the config file's simulator section into the simulator's
// settings, starting from its demo defaults: a key left out (zero) keeps
// the default.
func simConfig(s configs.Simulator) simulator.Config {
	cfg := simulator.DefaultConfig()
	override(&cfg.Seed, s.Seed)
	override(&cfg.Latency.TTFT, s.TTFT)
	override(&cfg.Latency.PerPromptToken, s.PerPromptToken)
	override(&cfg.Latency.ITL, s.ITL)
	override(&cfg.Latency.Jitter, s.Jitter)
	override(&cfg.Capacity, s.Capacity)
	override(&cfg.Faults.RetryAfter, s.RetryAfter)
	override(&cfg.Faults.SlowDelay, s.SlowDelay)
	override(&cfg.Quirks.ChunkTokens, s.ChunkTokens)
	if len(s.Adapters) > 0 {
		cfg.Adapters = s.Adapters
	}
	cfg.Faults.Rate429 = s.Rate429
	cfg.Faults.Rate500 = s.Rate500
	cfg.Faults.Rate503 = s.Rate503
	cfg.Faults.RateReset = s.RateReset
	cfg.Faults.RateCut = s.RateCut
	cfg.Faults.RateSlow = s.RateSlow
	return cfg
}

func override[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}
