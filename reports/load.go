package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evalbench/evalbench/results"
)

// A load run's files: load.json (results.LoadReport, schema
// "evalbench.load/v1"), load.md, load.html and requests.parquet. They are
// rendered from the LoadReport and the run's requests.jsonl alone, so the
// network side (loadgen) and the rendering stay apart.
const (
	LoadJSONFile     = results.LoadFile
	LoadMarkdownFile = "load.md"
	LoadHTMLFile     = "load.html"
	LoadParquetFile  = "requests.parquet"
)

// LoadOptions configure WriteLoadAll.
type LoadOptions struct {
	// Requests is the requests.jsonl to turn into requests.parquet; ""
	// writes no Parquet file.
	Requests string
	// SkipPlots leaves the charts out of load.html (faster, for tests).
	SkipPlots bool
}

// WriteLoadAll writes load.json, load.md, load.html and (from
// opts.Requests) requests.parquet into dir, each atomically.
func WriteLoadAll(ctx context.Context, dir string, rep *results.LoadReport, opts LoadOptions) error {
	write := func(name string, fn func(io.Writer) error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return writeAtomic(filepath.Join(dir, name), fn)
	}
	if err := write(LoadJSONFile, func(w io.Writer) error { return WriteLoadJSON(w, rep) }); err != nil {
		return err
	}
	if err := write(LoadMarkdownFile, func(w io.Writer) error { return WriteLoadMarkdown(w, rep) }); err != nil {
		return err
	}
	if opts.Requests != "" {
		if err := write(LoadParquetFile, func(w io.Writer) error { return WriteLoadParquet(ctx, w, rep, opts.Requests) }); err != nil {
			return err
		}
	}
	return write(LoadHTMLFile, func(w io.Writer) error { return WriteLoadHTML(w, rep, opts.SkipPlots) })
}

// WriteLoadJSON writes load.json, indented.
func WriteLoadJSON(w io.Writer, rep *results.LoadReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("reports: encode load.json: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("reports: write load.json: %w", err)
	}
	return nil
}

// ReadLoadJSON reads a load.json written by WriteLoadJSON.
func ReadLoadJSON(path string) (*results.LoadReport, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return results.ReadLoadReport(path)
}

// Formatting of load figures: latencies in ms with a precision that suits
// their size, rates with one decimal.

func fmtLat(f results.Float) string {
	if !f.Valid() {
		return "N/A"
	}
	v := float64(f)
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func fmtRate1(f results.Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.1f", float64(f))
}

func fmtFrac(f results.Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(f))
}

func fmtSec(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}

// loadSummary is the lines describing the run.
func loadSummary(r *results.LoadReport) []string {
	c := r.Config
	lines := []string{
		fmt.Sprintf("Model %s at %s (%s API%s)", orDash(c.Model), orDash(c.BaseURL), c.API, toolsNote(c.Tools)),
		fmt.Sprintf("Profile %s: %s", c.Profile, profileNote(c)),
		fmt.Sprintf("Each step: warm-up %s, %s, cool-down %s%s", fmtSec(c.WarmupSeconds), measureNote(c), fmtSec(c.CooldownSeconds), rampNote(c)),
		fmt.Sprintf("Prompts: %s; output %s", sourceNote(c.Source), outputNote(c.OutputTokens)),
	}
	if c.SLO != nil {
		lines = append(lines, "SLOs: "+sloNote(c.SLO))
	}
	lines = append(lines, fmt.Sprintf("Status %s; started %s; %s wall; seed %d; evalbench %s",
		r.Status, r.Started.UTC().Format(time.RFC3339), fmtSec(r.WallSeconds), c.Seed, orDash(r.Version)))
	return lines
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func toolsNote(t []string) string {
	if len(t) == 0 {
		return ""
	}
	return ", tools " + strings.Join(t, ", ")
}

func profileNote(c results.LoadConfig) string {
	switch c.Profile {
	case "concurrency":
		parts := make([]string, len(c.Concurrency))
		for i, n := range c.Concurrency {
			parts[i] = fmt.Sprint(n)
		}
		return "closed loop at concurrency " + strings.Join(parts, ", ")
	case "rate":
		parts := make([]string, len(c.Rates))
		for i, r := range c.Rates {
			parts[i] = fmt.Sprintf("%g/s", r)
		}
		s := "open loop at " + strings.Join(parts, ", ") + ", " + arrivalNote(c)
		if c.MaxConcurrency > 0 {
			s += fmt.Sprintf(", at most %d in flight", c.MaxConcurrency)
		}
		return s
	case "sweep":
		return fmt.Sprintf("saturation step at concurrency %d, then up to %d rate steps, %s, stopping below %.0f%% achieved",
			c.MaxConcurrency, c.SweepSteps, arrivalNote(c), c.SaturationRatio*100)
	}
	return c.Profile
}

func arrivalNote(c results.LoadConfig) string {
	if c.Arrival == "gamma" {
		return fmt.Sprintf("gamma arrivals (burstiness %g)", c.Burstiness)
	}
	return c.Arrival + " arrivals"
}

func measureNote(c results.LoadConfig) string {
	if c.Requests > 0 {
		return fmt.Sprintf("measure %d requests", c.Requests)
	}
	return "measure " + fmtSec(c.DurationSeconds)
}

func rampNote(c results.LoadConfig) string {
	if c.RampUpSeconds > 0 {
		return fmt.Sprintf("; closed-loop starts spread over %s", fmtSec(c.RampUpSeconds))
	}
	return ""
}

func sourceNote(s results.LoadSource) string {
	switch s.Kind {
	case "synthetic":
		return fmt.Sprintf("synthetic, %d tokens (%d distinct prompts, calibrated with the tokenize endpoint)", s.InputTokens, s.Distinct)
	case "dataset":
		return "dataset " + strings.Join(s.Paths, ", ")
	case "prompts":
		return "file " + strings.Join(s.Paths, ", ")
	}
	return s.Kind
}

func outputNote(n int) string {
	if n == 0 {
		return "length left to the model"
	}
	return fmt.Sprintf("%d tokens (min_tokens = max_tokens)", n)
}

func sloNote(s *results.LoadSLO) string {
	var parts []string
	for _, p := range []struct {
		k string
		v results.Float
	}{{"TTFT", s.TTFT}, {"TPOT", s.TPOT}, {"E2E", s.E2E}} {
		if p.v.Valid() {
			parts = append(parts, fmt.Sprintf("%s ≤ %s ms", p.k, fmtLat(p.v)))
		}
	}
	return fmt.Sprintf("%s (TTFT and E2E from the intended send time); a step meets them with ≥ %.0f%% good requests", strings.Join(parts, ", "), s.Attainment*100)
}

// loadStepHeader and loadStepRow are the per-step summary table, shared by
// the terminal, Markdown and HTML.
func loadStepHeader(r *results.LoadReport) []string {
	h := []string{"step", "load", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TTFT p99 (intended)", "ITL p50", "TPOT p50", "E2E p50", "E2E p99", "errors"}
	if r.Config.SLO != nil {
		h = append(h, "goodput req/s", "good")
	}
	return h
}

func loadStepRow(r *results.LoadReport, s *results.LoadStep) []string {
	l := s.Latency
	label := s.Label
	if s.Status == results.LoadPartial {
		label += " (partial)"
	}
	if s.Sustainable != nil && !*s.Sustainable {
		label += " (saturated)"
	}
	row := []string{
		fmt.Sprint(s.Index + 1), label, fmtRate1(s.Throughput.RequestsPerSec), fmtRate1(s.Throughput.OutputTokensPerSec),
		fmtLat(l.TTFT.FromSent.P50), fmtLat(l.TTFT.FromSent.P99), fmtLat(l.TTFT.FromIntended.P99),
		fmtLat(l.ITL.P50), fmtLat(l.TPOT.P50), fmtLat(l.E2E.FromSent.P50), fmtLat(l.E2E.FromSent.P99),
		fmt.Sprintf("%d/%d", s.Requests.Errors, s.Requests.OK+s.Requests.Errors),
	}
	if r.Config.SLO != nil {
		if g := s.Goodput; g != nil {
			row = append(row, fmtRate1(g.RequestsPerSec), fmtFrac(g.GoodFraction))
		} else {
			row = append(row, "N/A", "N/A")
		}
	}
	return row
}

const loadTableNote = "Latencies in ms over the measured requests that succeeded; TTFT and E2E from the actual send time unless marked (intended)."

// sweepLines describe the sweep's outcome.
func sweepLines(r *results.LoadReport) []string {
	sw := r.Sweep
	if sw == nil {
		return nil
	}
	lines := []string{fmt.Sprintf("Maximum throughput (saturation step): %s req/s", fmtRate1(sw.MaxThroughput))}
	if sw.KneeStep >= 0 {
		lines = append(lines, fmt.Sprintf("Knee (highest sustainable throughput): %s req/s, at rate %s/s (step %d)", fmtRate1(sw.Knee), fmtRate1(sw.KneeRate), sw.KneeStep+1))
	} else {
		lines = append(lines, "Knee: none of the rate steps was sustainable")
	}
	stop := "Stopped by: " + sw.StoppedBy
	if sw.Reason != "" {
		stop += " (" + sw.Reason + ")"
	}
	return append(lines, stop)
}

// WriteLoadText writes the per-step table for a terminal, then the sweep's
// outcome and the warnings.
func WriteLoadText(w io.Writer, r *results.LoadReport) error {
	e := &errWriter{w: w}
	if r.Status == results.LoadPartial {
		e.printf("PARTIAL: %s\n", loadPartialText(r))
	}
	tw := tabwriter.NewWriter(e.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells []string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row(loadStepHeader(r))
	for i := range r.Steps {
		row(loadStepRow(r, &r.Steps[i]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	e.printf("%s\n", loadTableNote)
	for _, l := range sweepLines(r) {
		e.printf("%s\n", l)
	}
	for _, wn := range r.Warnings {
		e.printf("warning: %s\n", wn)
	}
	return e.err
}

// distRows lists a step's distributions for the detail tables.
func distRows(s *results.LoadStep) [][]string {
	l := s.Latency
	rows := [][]string{}
	add := func(name string, d results.Dist, fmtv func(results.Float) string) {
		rows = append(rows, []string{name, fmt.Sprint(d.Count), fmtv(d.Mean), fmtv(d.Std), fmtv(d.Min), fmtv(d.P50), fmtv(d.P90), fmtv(d.P95), fmtv(d.P99), fmtv(d.Max)})
	}
	add("TTFT from intended (ms)", l.TTFT.FromIntended, fmtLat)
	add("TTFT from sent (ms)", l.TTFT.FromSent, fmtLat)
	add("E2E from intended (ms)", l.E2E.FromIntended, fmtLat)
	add("E2E from sent (ms)", l.E2E.FromSent, fmtLat)
	add("TPOT (ms)", l.TPOT, fmtLat)
	add("ITL, per token (ms)", l.ITL, fmtLat)
	add("schedule lag (ms)", l.ScheduleLag, fmtLat)
	add("dispatch lag (ms)", l.DispatchLag, fmtLat)
	if l.ClientQueue.Count > 0 {
		add("client queue (ms)", l.ClientQueue, fmtLat)
	}
	add("input tokens", l.InputTokens, fmtTok)
	add("output tokens", l.OutputTokens, fmtTok)
	return rows
}

func fmtTok(f results.Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.1f", float64(f))
}

var distHeader = []string{"metric", "count", "mean", "std", "min", "p50", "p90", "p95", "p99", "max"}

// stepFacts are a step's counts and rates, one line each.
func stepFacts(s *results.LoadStep) []string {
	q, t := s.Requests, s.Throughput
	facts := []string{
		fmt.Sprintf("Window: %s from %s after the step's start; step wall time %s", fmtSec(s.WindowSeconds), fmtSec(s.WindowStart), fmtSec(s.WallSeconds)),
		fmt.Sprintf("Requests: %d sent (%d warm-up, %d measured, %d cool-down); measured: %d ok, %s, %d cancelled", q.Sent, q.Warmup, q.Measured, q.Cooldown, q.OK, plural(int(q.Errors), "error", "errors"), q.Cancelled),
		fmt.Sprintf("Throughput in the window: %s req/s (%d completions), %s output tok/s, %s total tok/s", fmtRate1(t.RequestsPerSec), q.CompletedInWindow, fmtRate1(t.OutputTokensPerSec), fmtRate1(t.TotalTokensPerSec)),
		fmt.Sprintf("Offered %s req/s; achieved ratio %s; sent at %s req/s over the dispatch span", fmtRate1(t.OfferedPerSec), fmtFrac(t.Achieved), fmtRate1(t.SendRate)),
		fmt.Sprintf("Peak in flight %d; error rate %s%s", s.PeakInFlight, fmtFrac(s.ErrorRate), errorsNote(s.Errors)),
		fmt.Sprintf("Client CPU %s s, %s cores (GOMAXPROCS %d)", fmtLat(s.Client.CPUSeconds), fmtLat(s.Client.Cores), s.Client.GOMAXPROCS),
	}
	if q.UsageMissing > 0 || q.UsageMismatch > 0 {
		facts = append(facts, fmt.Sprintf("Token counts: %d replies without usage, %d where usage differs from the streamed count", q.UsageMissing, q.UsageMismatch))
	}
	if g := s.Goodput; g != nil {
		met := "not met"
		if g.Met {
			met = "met"
		}
		facts = append(facts, fmt.Sprintf("Goodput %s req/s; %d good (%s): SLOs %s", fmtRate1(g.RequestsPerSec), g.Good, fmtFrac(g.GoodFraction), met))
	}
	return facts
}

func errorsNote(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	parts := []string{}
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// loadSections are the report's sections, in order, for Markdown and HTML.
func loadSections(r *results.LoadReport) []section {
	secs := []section{{
		ID: "steps", Title: "Steps", Header: loadStepHeader(r), Notes: []string{loadTableNote},
		Empty: "No step ran.",
	}}
	for i := range r.Steps {
		secs[0].Rows = append(secs[0].Rows, loadStepRow(r, &r.Steps[i]))
	}
	if lines := sweepLines(r); lines != nil {
		secs = append(secs, section{ID: "sweep", Title: "Sweep", List: lines})
	}
	if len(r.Warnings) > 0 {
		secs = append(secs, section{ID: "warnings", Title: "Warnings", List: r.Warnings})
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		secs = append(secs, section{
			ID: fmt.Sprintf("step-%d", s.Index+1), Title: fmt.Sprintf("Step %d: %s", s.Index+1, s.Label),
			List: stepFacts(s), Header: distHeader, Rows: distRows(s),
		})
	}
	defs := []string{}
	keys := make([]string, 0, len(r.Definitions))
	for k := range r.Definitions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		defs = append(defs, k+": "+r.Definitions[k])
	}
	secs = append(secs, section{ID: "definitions", Title: "Definitions", List: defs})
	if len(r.Notes) > 0 {
		secs = append(secs, section{ID: "notes", Title: "Notes", List: r.Notes})
	}
	return secs
}

const loadPartialNote = "This run was stopped before it ended (status partial): the figures are what was measured until then."

// loadPartialText is the banner of a partial run, with its reason.
func loadPartialText(r *results.LoadReport) string {
	if r.Stopped == "" {
		return loadPartialNote
	}
	return loadPartialNote + " Stopped: " + reason(r.Stopped) + "."
}

// WriteLoadMarkdown writes load.md.
func WriteLoadMarkdown(w io.Writer, r *results.LoadReport) error {
	banner := ""
	if r.Status == results.LoadPartial {
		banner = loadPartialText(r)
	}
	if err := writeMarkdownDoc(w, "evalbench load report", banner, loadSummary(r), loadSections(r)); err != nil {
		return fmt.Errorf("reports: write load.md: %w", err)
	}
	return nil
}
