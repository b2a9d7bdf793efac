// Command evalbench scores LLM endpoints on multiple-choice benchmarks
// through forced-token log-likelihoods, and load-tests them.
//
// This file and the cmd_*.go files beside it only wire flags to the
// packages that do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// gcPercent is the garbage collector's target for the commands that keep
// requests in flight (run, load), unless GOGC says otherwise. They keep
// little live (they stream), so at Go's default of 100 they collect many
// times a second under load, and every collection's pauses and mark
// assists land in the latencies they measure and delay the requests in
// flight. At 400 they collect a quarter as often; the heap may grow to five
// times what is live, a few tens of MB.
const gcPercent = 400

// requestsGC sets gcPercent for a command that keeps requests in flight.
func requestsGC(e env) {
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, terminal: term.IsTerminal(int(os.Stderr.Fd()))})
	stop()
	os.Exit(code)
}

// env is what a command may touch of the process, so tests can run the
// whole CLI in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	terminal       bool // stderr is a terminal: progress bars instead of log lines
}

// usageError marks mistakes in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errInterrupted asks for exit code 130 after the command has saved its work.
var errInterrupted = errors.New("interrupted")

func run(ctx context.Context, args []string, e env) int {
	var prof profiler
	app := newApp(ctx, e, &prof)
	err := app.RunContext(ctx, args)
	if perr := prof.stop(); perr != nil && err == nil {
		err = fmt.Errorf("--cpuprofile: %w", perr)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(e.stderr, "evalbench: interrupted; work so far is saved")
		return exitInterrupted
	}
	fmt.Fprintln(e.stderr, "evalbench:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// profiler holds a CPU profile being written (--cpuprofile).
type profiler struct{ f *os.File }

func (p *profiler) start(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return usagef("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	p.f = f
	return nil
}

func (p *profiler) stop() error {
	if p.f == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.f.Close()
	p.f = nil
	return err
}

func newApp(ctx context.Context, e env, prof *profiler) *cli.App {
	return &cli.App{
		Name:    "evalbench",
		Usage:   "evaluate and load-test LLM inference endpoints (FriendliAI first)",
		Version: version,
		Description: `evalbench scores models and LoRA adapters (ENDPOINT_ID:ADAPTER_ROUTE) on
multiple-choice benchmarks through the completions API's forced_output_tokens
and logprobs, and measures endpoint latency and throughput.

--base-url sim runs everything against an embedded simulator: no token needed.

Examples:
   evalbench run --config configs/demo.yaml
   evalbench run --dataset mmlu/test --fewshot mmlu/dev --shots 5 --model $ENDPOINT_ID
   evalbench ping --model $ENDPOINT_ID
   evalbench load --base-url sim --model demo --concurrency 1,8,32 --duration 10s
   evalbench serve --addr 127.0.0.1:8000`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a Go CPU profile of the command to `FILE` (for `go tool pprof`)"},
		},
		Before: func(c *cli.Context) error {
			if path := c.String("cpuprofile"); path != "" {
				return prof.start(path)
			}
			return nil
		},
		Writer:          e.stdout,
		ErrWriter:       e.stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // run() maps errors to exit codes
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err.Error()}
		},
		Commands: []*cli.Command{
			runCommand(e),
			reportCommand(e),
			inspectCommand(e),
			convertCommand(e),
			pingCommand(e),
			serveCommand(e),
			loadCommand(e),
		},
	}
}
