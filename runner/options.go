package runner

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/scorers"
)

// Options configure a run. Zero values take the defaults; Run checks them
// all in one place before any request is sent.
type Options struct {
	Models  []endpoint.ModelID
	BaseURL string // recorded in run.json only

	Dataset     []string
	DataOptions datasets.Options
	FewShot     []string
	Shots       int
	Limit       int

	// Task picks the prompt family; "" derives it from the dataset layout.
	Task string
	// Method is letter or continuation; "" picks the task's default
	// (letter for MMLU-style data, continuation otherwise).
	Method scorers.Method
	// Template, if set, replaces the task's per-question prompt with a Go
	// text/template; Description replaces its opening line.
	Template    string
	Description *string
	TopK        int

	Concurrency int
	Rate        float64

	// Out is the run directory; "" makes runs/<timestamp>-<model>.
	Out string
	// Fresh discards a journal whose settings differ instead of refusing.
	Fresh bool
	// Grace is how long requests in flight may finish after an interrupt.
	Grace time.Duration

	// Log receives progress and notices; nil discards them.
	Log   io.Writer
	Quiet bool
	// Terminal selects the progress bar over periodic log lines.
	Terminal bool
	// LogEvery is the period of progress lines when not on a terminal.
	LogEvery time.Duration

	Version string
	// Now is the clock; tests may fix it.
	Now func() time.Time
}

func (o *Options) check() error {
	var errs []error
	if len(o.Models) == 0 {
		errs = append(errs, errors.New("no model"))
	}
	if len(o.Dataset) == 0 {
		errs = append(errs, errors.New("no dataset"))
	}
	if o.Shots < 0 {
		errs = append(errs, fmt.Errorf("shots %d is negative", o.Shots))
	}
	if o.Shots > 0 && len(o.FewShot) == 0 {
		errs = append(errs, fmt.Errorf("%d shots need a few-shot source", o.Shots))
	}
	if o.Limit < 0 {
		errs = append(errs, fmt.Errorf("limit %d is negative", o.Limit))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("concurrency %d is negative", o.Concurrency))
	}
	if o.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %v is negative", o.Rate))
	}
	if o.Method != "" {
		if _, err := scorers.ParseMethod(string(o.Method)); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]bool{}
	for _, m := range o.Models {
		if seen[m.String()] {
			errs = append(errs, fmt.Errorf("model %s given twice", m))
		}
		seen[m.String()] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("runner: %w", errors.Join(errs...))
	}
	if o.Concurrency == 0 {
		o.Concurrency = 16
	}
	if o.TopK == 0 {
		o.TopK = 20
	}
	if o.Grace == 0 {
		o.Grace = 5 * time.Second
	}
	if o.LogEvery == 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.Log == nil || o.Quiet {
		o.Log = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// taskOf maps a dataset layout to its prompt family.
func taskOf(l datasets.Layout) string {
	switch l {
	case datasets.LayoutMMLUHF, datasets.LayoutMMLUCSV, datasets.LayoutMMLUPro:
		return "mmlu"
	case datasets.LayoutARC:
		return "arc"
	case datasets.LayoutHellaSwag:
		return "hellaswag"
	case datasets.LayoutPIQA:
		return "piqa"
	}
	return "generic"
}

// defaultMethod is lm-eval's convention: lettered questions are scored by
// their labels, cloze tasks by their continuations.
func defaultMethod(task string) scorers.Method {
	if task == "mmlu" {
		return scorers.Letter
	}
	return scorers.Continuation
}
