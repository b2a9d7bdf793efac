package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/configs"
	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/reports"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/runner"
	"github.com/evalbench/evalbench/scorers"
)

func datasetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "dataset", Aliases: []string{"d"}, Usage: "dataset `PATH`: a .jsonl, .jsonl.gz, .json, .parquet or .csv file, a directory, or a glob (repeatable)"},
		&cli.StringFlag{Name: "layout", Usage: "force a layout: " + strings.Join(configs.Layouts, ", ") + " (default: detect)"},
		&cli.StringSliceFlag{Name: "field", Usage: "generic layout field mapping `NAME=COLUMN`, e.g. --field question=prompt --field choices=opt_a,opt_b --field answer=label (repeatable; choices may list several columns, in one flag or in several)"},
		&cli.StringFlag{Name: "on-invalid", Usage: "what to do with a bad record: fail or skip (default fail)"},
	}
}

func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
		&cli.StringFlag{Name: "format", Usage: "output format: text or json", Value: "text"},
	}
}

func runCommand(e env) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "YAML run config `FILE`; flags override its keys"},
		&cli.StringSliceFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `ID`: ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE (repeatable: one report entry per model)"},
		&cli.StringSliceFlag{Name: "fewshot", Usage: "few-shot source `PATH` (e.g. MMLU dev); the first K of the same subject are used"},
		&cli.IntFlag{Name: "shots", Usage: "few-shot examples per question"},
		&cli.IntFlag{Name: "limit", Usage: "score only the first `N` examples"},
		&cli.StringFlag{Name: "task", Usage: "prompt family: " + strings.Join(configs.Tasks, ", ") + " (default: from the layout)"},
		&cli.StringFlag{Name: "scoring", Usage: "letter or continuation (default: letter for MMLU-style data, continuation otherwise)"},
		&cli.IntFlag{Name: "top-k", Usage: "logprobs per request in letter scoring (default 20)"},
		&cli.StringFlag{Name: "template", Usage: "Go text/template `FILE` replacing the per-question prompt"},
		&cli.IntFlag{Name: "concurrency", Usage: "requests in flight (default 16)"},
		&cli.Float64Flag{Name: "rate", Usage: "requests per second, 0 for no limit"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "run `DIR` (default runs/<timestamp>-<model>); an existing run there is resumed"},
		&cli.BoolFlag{Name: "fresh", Usage: "start over when --out holds a run made with other settings (the old journal is kept as .prev)"},
	}
	flags = append(flags, datasetFlags()...)
	flags = append(flags, connectionFlags()...)
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:  "run",
		Usage: "score models on a multiple-choice benchmark",
		UsageText: `evalbench run --dataset PATH [--fewshot PATH --shots K] --model ID[:ADAPTER] [--base-url URL]
       [--scoring letter|continuation] [--concurrency N] [--rate R] [--limit N] [--out DIR] [--config FILE]`,
		Description: `Scores every example with forced-token log-likelihoods and writes, in the run
directory: samples.jsonl (the journal, appended as samples finish), run.json,
report.json, report.md, report.html, subjects.csv, samples.parquet, plots/ and
lm-evaluation-harness results (results_lmeval.json, or one
results_lmeval_<model>.json per model).

Running again with the same --out resumes; Ctrl-C stops new requests, lets
those in flight finish, writes a partial report and exits 130.

Examples:
   evalbench run --config configs/demo.yaml
   evalbench run --base-url sim --model demo --model demo:lora-a \
       --dataset testdata/samples/mmlu_sample/test.jsonl \
       --fewshot testdata/samples/mmlu_sample/dev.jsonl --shots 5
   FRIENDLI_TOKEN=... evalbench run --model $ENDPOINT_ID:$ADAPTER \
       --dataset ../shared/data/mmlu/test --fewshot ../shared/data/mmlu/dev --shots 5`,
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("run takes no arguments (got %q); use --dataset PATH", c.Args().First())
			}
			cfg, err := runConfig(c)
			if err != nil {
				return err
			}
			requestsGC(e)
			return runEval(c.Context, e, c, cfg)
		},
	}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return usageError{err.Error()} }

// runConfig loads --config and lays the flags over it, remembering which
// keys came from flags so errors name them.
func runConfig(c *cli.Context) (*configs.Run, error) {
	cfg := &configs.Run{}
	if path := c.String("config"); path != "" {
		var err error
		if cfg, err = configs.LoadRun(path); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	set := func(flag, key string, apply func()) {
		if c.IsSet(flag) {
			apply()
			cfg.SetBy(key, flag)
		}
	}
	set("model", "models", func() { cfg.Models = c.StringSlice("model") })
	set("dataset", "dataset", func() { cfg.Dataset = c.StringSlice("dataset") })
	set("layout", "layout", func() { cfg.Layout = c.String("layout") })
	set("on-invalid", "on_invalid", func() { cfg.OnInvalid = c.String("on-invalid") })
	set("fewshot", "fewshot", func() { cfg.FewShot = c.StringSlice("fewshot") })
	set("shots", "shots", func() { cfg.Shots = c.Int("shots") })
	set("limit", "limit", func() { cfg.Limit = c.Int("limit") })
	set("task", "task", func() { cfg.Task = c.String("task") })
	set("scoring", "scoring", func() { cfg.Scoring = c.String("scoring") })
	set("top-k", "top_k", func() { cfg.TopK = c.Int("top-k") })
	set("concurrency", "concurrency", func() { cfg.Concurrency = c.Int("concurrency") })
	set("rate", "rate", func() { cfg.Rate = c.Float64("rate") })
	set("out", "out", func() { cfg.Out = c.String("out") })
	set("base-url", "base_url", func() { cfg.BaseURL = c.String("base-url") })
	set("token-file", "token_file", func() { cfg.TokenFile = c.String("token-file") })
	set("team", "team", func() { cfg.Team = c.String("team") })
	set("timeout", "timeout", func() { cfg.Timeout = c.Duration("timeout") })
	set("max-attempts", "max_attempts", func() { cfg.MaxAttempts = c.Int("max-attempts") })
	var fieldErr error
	set("field", "fields", func() { cfg.Fields, fieldErr = parseFields(c.StringSlice("field")) })
	if fieldErr != nil {
		return nil, fieldErr
	}
	if path := c.String("template"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usagef("--template: %v", err)
		}
		cfg.Template = string(b)
		cfg.SetBy("template", "template "+path)
	}
	cfg.Defaults()
	if err := cfg.Validate(checkTemplate); err != nil {
		return nil, usageError{err.Error()}
	}
	return cfg, nil
}

// checkTemplate parses the prompt template with the scorers' own parser
// while the config is validated, so that a typo is a usage error naming the
// config line or the --template file before anything starts.
func checkTemplate(r *configs.Run) (key, msg string) {
	if r.Template == "" {
		return "", ""
	}
	err := scorers.CheckTemplate(r.Template, r.Description)
	var te *scorers.TemplateError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &te) && te.Line > 0:
		return te.Part, fmt.Sprintf("line %d of the %s: %s", te.Line, te.Part, te.Msg)
	case errors.As(err, &te):
		return te.Part, te.Msg
	}
	return "template", err.Error()
}

// parseFields reads --field NAME=COLUMN values. urfave/cli splits a slice
// flag's value on commas before we see it, so "choices=opt_a,opt_b" arrives
// as "choices=opt_a" and "opt_b": a piece without "=" is the rest of the
// previous value, and is joined back to it. (The app-wide switch that turns
// the splitting off would also stop --model a,b from naming two models.)
// choices may list columns in one flag or across several; any other name
// given twice with different columns is an error, not a silent last-wins.
func parseFields(kvs []string) (map[string]string, error) {
	var vals []string
	for _, kv := range kvs {
		if len(vals) > 0 && !strings.Contains(kv, "=") {
			vals[len(vals)-1] += "," + kv
			continue
		}
		vals = append(vals, kv)
	}
	m := map[string]string{}
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" || strings.HasPrefix(v, ",") || strings.HasSuffix(v, ",") || strings.Contains(v, ",,") {
			return nil, usagef("--field %q: want NAME=COLUMN, e.g. question=prompt or choices=opt_a,opt_b", kv)
		}
		prev, seen := m[k]
		switch {
		case !seen:
			m[k] = v
		case k == "choices":
			m[k] = prev + "," + v
		case prev != v:
			return nil, usagef("--field %s given twice: %s=%s and %s=%s", k, k, prev, k, v)
		}
	}
	return m, nil
}

func dataOptions(layout string, fields map[string]string, onInvalid string) (datasets.Options, error) {
	policy, err := datasets.ParseInvalidPolicy(onInvalid)
	if err != nil {
		return datasets.Options{}, usageError{err.Error()}
	}
	if layout != "" && !slices.Contains(configs.Layouts, layout) {
		return datasets.Options{}, usagef("--layout %q: want one of %s", layout, strings.Join(configs.Layouts, ", "))
	}
	return datasets.Options{Layout: datasets.Layout(layout), Fields: fields, OnInvalid: policy}, nil
}

func runEval(ctx context.Context, e env, c *cli.Context, cfg *configs.Run) error {
	models := make([]endpoint.ModelID, 0, len(cfg.Models))
	for _, m := range cfg.Models {
		id, err := endpoint.ParseModelID(m)
		if err != nil {
			return usagef("%s: key \"models\": %v", cfg.Where("models"), err)
		}
		models = append(models, id)
	}
	dopts, err := dataOptions(cfg.Layout, cfg.Fields, cfg.OnInvalid)
	if err != nil {
		return err
	}
	cn, err := connect(ctx, e, connSettings{
		baseURL: cfg.BaseURL, tokenFile: cfg.TokenFile, team: cfg.Team, timeout: cfg.Timeout,
		maxAttempts: cfg.MaxAttempts, concurrency: cfg.Concurrency, sim: cfg.Simulator,
	})
	if err != nil {
		return err
	}
	defer cn.Close()
	quiet := c.Bool("quiet")
	if cn.sim != nil && !quiet {
		fmt.Fprintf(e.stderr, "evalbench: embedded simulator at %s\n", cn.baseURL)
	}
	out := cfg.Out
	sum, runErr := runner.Run(ctx, cn.client, runner.Options{
		Models:      models,
		BaseURL:     cfg.BaseURL,
		Dataset:     cfg.Dataset,
		DataOptions: dopts,
		FewShot:     cfg.FewShot,
		Shots:       cfg.Shots,
		Limit:       cfg.Limit,
		Task:        cfg.Task,
		Method:      scorers.Method(cfg.Scoring),
		Template:    cfg.Template,
		Description: cfg.Description,
		TopK:        cfg.TopK,
		Concurrency: cfg.Concurrency,
		Rate:        cfg.Rate,
		Out:         out,
		Fresh:       c.Bool("fresh"),
		Log:         e.stderr,
		Quiet:       quiet,
		Terminal:    e.terminal,
		Version:     version,
	})
	interrupted := errors.Is(runErr, runner.ErrInterrupted)
	if sum == nil {
		// Stopped before the run directory was touched: nothing to save.
		if interrupted {
			return errInterrupted
		}
		return runErr
	}
	for model, path := range sum.LabelPaths {
		if !quiet {
			fmt.Fprintf(e.stderr, "evalbench: %s: letter scoring used %s\n", model, path)
		}
	}
	// The report is written even after an interrupt or an abort: it is
	// marked partial, and every finished sample is in it.
	rep, repErr := reports.WriteAll(context.WithoutCancel(ctx), sum.Dir, reports.Options{Version: version})
	if repErr != nil {
		if interrupted {
			// run() reports an interrupt in its own words; this one must
			// still be seen.
			fmt.Fprintln(e.stderr, "evalbench:", repErr)
			return errInterrupted
		}
		return errors.Join(runErr, repErr)
	}
	// A session that failed before scoring anything (a wrong token, model
	// or URL) says so, not a table of nothing; the files are rewritten so
	// report.json agrees with run.json.
	if sum.PreflightOK || interrupted {
		if err := printReport(e, rep, c.String("format")); err != nil {
			return err
		}
		if !quiet {
			fmt.Fprintf(e.stderr, "evalbench: wrote %s\n", filepath.Join(sum.Dir, "report.md"))
		}
	}
	if interrupted || ctx.Err() != nil {
		// Ctrl-C while the report was written still exits as an interrupt,
		// the report being complete.
		if runErr != nil && !interrupted {
			fmt.Fprintln(e.stderr, "evalbench:", runErr)
		}
		return errInterrupted
	}
	return runErr
}

func printReport(e env, rep *reports.Report, format string) error {
	switch format {
	case "text", "":
		return rep.WriteHeadline(e.stdout)
	case "json":
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(append(b, '\n'))
		return err
	}
	return usagef("--format %q: want text or json", format)
}

func reportCommand(e env) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "rebuild every report file of a run directory from its journal, offline",
		ArgsUsage: "DIR",
		Description: `Reads run.json and samples.jsonl and rewrites report.json, report.md,
report.html, subjects.csv, samples.parquet, plots/ and the lm-evaluation-harness
results file(s). It never contacts an endpoint.

Examples:
   evalbench report runs/demo
   evalbench report --format json runs/demo | jq .runs[0].metrics`,
		Flags:        commonFlags(),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("report takes one run directory")
			}
			dir := c.Args().First()
			if _, err := os.Stat(filepath.Join(dir, results.RunFile)); err != nil {
				return fmt.Errorf("%s is not a run directory: %w", dir, err)
			}
			rep, err := reports.WriteAll(c.Context, dir, reports.Options{Version: version})
			if err != nil {
				return err
			}
			return printReport(e, rep, c.String("format"))
		},
	}
}
