package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/endpoint"
)

func pingCommand(e env) *cli.Command {
	return &cli.Command{
		Name:  "ping",
		Usage: "check a token and endpoint with a tokenize call and a one-token completion",
		Description: `Prints each call's status and latency, so a bad token, team, model ID or URL
shows up before a long run.

Examples:
   evalbench ping --base-url sim --model demo
   FRIENDLI_TOKEN=... evalbench ping --model $ENDPOINT_ID:$ADAPTER_ROUTE
   evalbench ping --base-url http://127.0.0.1:8000 --model ""   # a Friendli Container`,
		Flags: append(connectionFlags(),
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `ID`: ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE"},
		),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			model := c.String("model")
			if !c.IsSet("model") {
				return usagef("ping needs --model ID")
			}
			if model != "" {
				if _, err := endpoint.ParseModelID(model); err != nil {
					return usageError{err.Error()}
				}
			}
			cn, err := connect(c.Context, e, connSettings{
				baseURL: c.String("base-url"), tokenFile: c.String("token-file"), team: c.String("team"),
				timeout: c.Duration("timeout"), maxAttempts: c.Int("max-attempts"), concurrency: 1,
			})
			if err != nil {
				return err
			}
			defer cn.Close()
			fmt.Fprintf(e.stdout, "endpoint  %s\nmodel     %s\n", cn.baseURL, model)

			toks, call, err := cn.client.Tokenize(c.Context, model, "Hello, world!")
			if err != nil {
				fmt.Fprintf(e.stdout, "tokenize  FAILED after %s\n", call.Elapsed().Round(time.Millisecond))
				return err
			}
			fmt.Fprintf(e.stdout, "tokenize  ok  %d tokens  %s%s\n", len(toks), call.Latency().Round(time.Millisecond), retries(call))

			resp, call, err := cn.client.Completions(c.Context, &endpoint.CompletionRequest{
				Model: model, Tokens: toks, MaxTokens: endpoint.Ptr(1), Logprobs: endpoint.Ptr(1),
			})
			if err != nil {
				fmt.Fprintf(e.stdout, "complete  FAILED after %s\n", call.Elapsed().Round(time.Millisecond))
				return err
			}
			text := ""
			if len(resp.Choices) > 0 {
				text = resp.Choices[0].Text
			}
			fmt.Fprintf(e.stdout, "complete  ok  %q  %s%s\n", text, call.Latency().Round(time.Millisecond), retries(call))
			return nil
		},
	}
}

func retries(call endpoint.Call) string {
	if n := call.Retries(); n > 0 {
		return fmt.Sprintf("  (%d retries)", n)
	}
	return ""
}
