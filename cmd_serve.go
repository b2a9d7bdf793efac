package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/simulator"
)

func serveCommand(e env) *cli.Command {
	d := simulator.DefaultConfig()
	return &cli.Command{
		Name:  "serve",
		Usage: "run the simulator: a local server that speaks the Friendli API",
		Description: `Serves /dedicated/v1, /serverless/v1, /serverless/tools/v1 and the container
paths /v1 (completions, chat/completions, tokenize, detokenize), plus /health
and /metrics, with a deterministic tokenizer and language model, a latency
model with a capacity limit, and seeded faults.

Examples:
   evalbench serve --addr 127.0.0.1:8000
   evalbench serve --addr 127.0.0.1:0 --token sim-secret      # 401 without "Authorization: Bearer sim-secret"
   evalbench serve --adapter lora-a --adapter lora-b --ttft 50ms --itl 10ms --capacity 64
   evalbench serve --rate-429 0.05 --retry-after 1s --rate-reset 0.01`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8000", Usage: "listen `ADDR`"},
			&cli.Int64Flag{Name: "seed", Value: d.Seed, Usage: "seeds the model, the latency jitter and the faults"},
			&cli.StringSliceFlag{Name: "endpoint", Usage: "known endpoint `ID` (repeatable)", Value: cli.NewStringSlice(d.Endpoints...)},
			&cli.StringSliceFlag{Name: "adapter", Usage: "known adapter `ROUTE` (repeatable)", Value: cli.NewStringSlice(d.Adapters...)},
			&cli.StringFlag{Name: "token", Usage: "require `TOKEN` as a bearer token (401 without it)"},
			&cli.StringFlag{Name: "token-file", Usage: "require the token in `FILE` as a bearer token (401 without it)"},
			&cli.DurationFlag{Name: "ttft", Value: d.Latency.TTFT, Usage: "base time to first token"},
			&cli.DurationFlag{Name: "per-prompt-token", Value: d.Latency.PerPromptToken, Usage: "added to TTFT per prompt token"},
			&cli.DurationFlag{Name: "itl", Value: d.Latency.ITL, Usage: "interval per output token"},
			&cli.Float64Flag{Name: "jitter", Value: d.Latency.Jitter, Usage: "seeded latency jitter, a fraction"},
			&cli.IntFlag{Name: "capacity", Value: d.Capacity, Usage: "concurrent sequences; past it requests queue (0: unlimited)"},
			&cli.Float64Flag{Name: "rate-429", Usage: "fraction of requests answered 429"},
			&cli.DurationFlag{Name: "retry-after", Value: d.Faults.RetryAfter, Usage: "Retry-After sent with 429"},
			&cli.Float64Flag{Name: "rate-500", Usage: "fraction answered 500"},
			&cli.Float64Flag{Name: "rate-503", Usage: "fraction answered 503"},
			&cli.Float64Flag{Name: "rate-reset", Usage: "fraction of connections reset"},
			&cli.Float64Flag{Name: "rate-cut", Usage: "fraction of streams cut mid-way"},
			&cli.Float64Flag{Name: "rate-slow", Usage: "fraction of slow responses"},
			&cli.DurationFlag{Name: "slow-delay", Value: d.Faults.SlowDelay, Usage: "delay added to slow responses"},
			&cli.IntFlag{Name: "chunk-tokens", Value: 1, Usage: "tokens per streamed chunk (>1 mimics speculative decoding)"},
			&cli.BoolFlag{Name: "legacy-stream", Usage: "stream the legacy token_sampled/complete event format"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			cfg := simulator.DefaultConfig()
			cfg.Seed = c.Int64("seed")
			cfg.Endpoints = c.StringSlice("endpoint")
			cfg.Adapters = c.StringSlice("adapter")
			switch {
			case c.IsSet("token") && c.IsSet("token-file"):
				return usagef("give --token or --token-file, not both")
			case c.IsSet("token"):
				if err := endpoint.CheckToken(c.String("token")); err != nil || c.String("token") == "" {
					return usagef("--token: want a non-empty token of letters, digits and -._~+/=:")
				}
				cfg.Token = c.String("token")
			case c.IsSet("token-file"):
				tok, err := endpoint.LoadToken("", c.String("token-file"))
				if err != nil {
					return err
				}
				cfg.Token = tok
			}
			cfg.Latency = simulator.Latency{
				TTFT: c.Duration("ttft"), PerPromptToken: c.Duration("per-prompt-token"),
				ITL: c.Duration("itl"), Jitter: c.Float64("jitter"),
			}
			cfg.Capacity = c.Int("capacity")
			cfg.Faults = simulator.Faults{
				Rate429: c.Float64("rate-429"), RetryAfter: c.Duration("retry-after"),
				Rate500: c.Float64("rate-500"), Rate503: c.Float64("rate-503"),
				RateReset: c.Float64("rate-reset"), RateCut: c.Float64("rate-cut"),
				RateSlow: c.Float64("rate-slow"), SlowDelay: c.Duration("slow-delay"),
			}
			cfg.Quirks.ChunkTokens = c.Int("chunk-tokens")
			cfg.Quirks.LegacyStream = c.Bool("legacy-stream")

			inst, err := simulator.Start(c.Context, cfg, c.String("addr"))
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "simulator listening on %s\n", inst.URL())
			fmt.Fprintf(e.stdout, "  dedicated:  --base-url %s/dedicated --model %s\n", inst.URL(), firstOr(cfg.Endpoints, "demo"))
			fmt.Fprintf(e.stdout, "  container:  --base-url %s\n", inst.URL())
			fmt.Fprintf(e.stdout, "  adapters:   %s\n", strings.Join(cfg.Adapters, ", "))
			<-c.Context.Done()
			fmt.Fprintln(e.stdout, "simulator stopping")
			return inst.Close()
		},
	}
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}
