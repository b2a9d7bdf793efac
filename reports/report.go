package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/evalbench/evalbench/results"
)

// Schema versions report.json. Fields are only ever added under v1; a
// renamed or re-typed field means a new version.
const Schema = "evalbench.report/v1"

// Report is everything computed from a run directory. Its exported fields
// are report.json; the unexported ones let the writers stream the journal
// again (samples.parquet) and draw the latency figures.
type Report struct {
	Schema  string `json:"schema"`
	Version string `json:"evalbench_version"`
	// Status is run.json's: "complete", "partial" (interrupted or aborted)
	// or "running" (a report of a run still in progress).
	Status  string           `json:"status"`
	Run     RunInfo          `json:"run"`
	Config  results.Settings `json:"config"`
	Journal JournalStats     `json:"journal"`
	// Runs has one entry per model, in settings order.
	Runs []*ModelRun `json:"runs"`
	// Comparisons pairs every model with the first (the baseline); empty
	// for a single model.
	Comparisons []*Comparison `json:"comparisons"`
	// Throughput is that of all models together over the run's wall time.
	Throughput  Throughput        `json:"throughput"`
	Invalid     []results.Invalid `json:"invalid"`
	Definitions Definitions       `json:"definitions"`

	dir   string
	opts  Options
	lines int      // journal lines read; later passes stop there
	keep  []uint64 // bitset over journal line numbers: the last line of each key
	// latency holds each model's histograms by request kind, for the plots.
	latency []map[string]*latencyAcc
}

// RunInfo is what run.json says about the run as a whole.
type RunInfo struct {
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	WallSeconds Float     `json:"wall_seconds"`
	// Examples is the number of dataset examples selected, per model.
	Examples int `json:"examples"`
	// Version is the evalbench version that ran it (the latest session).
	Version string `json:"evalbench_version,omitempty"`
	// Stopped says why the last session ended before every sample had a
	// result (an interrupt, a failed preflight); "" when it did not.
	Stopped string `json:"stopped,omitempty"`
}

// JournalStats describes samples.jsonl as read.
type JournalStats struct {
	Lines int `json:"lines"`
	// Superseded counts lines replaced by a later line for the same
	// (model, id): samples redone after a failure or a resume.
	Superseded int `json:"superseded"`
	// Torn is set when the last line was cut short (a crash mid-write); it
	// was left out.
	Torn bool `json:"torn"`
}

// ModelRun is one model's results.
type ModelRun struct {
	Model   string `json:"model"`
	Dataset string `json:"dataset"`
	Task    string `json:"task"`
	// Examples is the number selected for the run; Scored + Failed of them
	// have a final journal line and Missing do not (yet).
	Examples   int `json:"examples"`
	Scored     int `json:"scored"`
	Failed     int `json:"failed"`
	Missing    int `json:"missing"`
	Superseded int `json:"superseded"`

	Metrics  Metrics                  `json:"metrics"`
	Subjects map[string]*SubjectStats `json:"subjects"`
	// Groups are MMLU's four categories (stem, humanities, social_sciences,
	// other) and the overall "mmlu" group over all four, as lm-eval reports
	// them. They are present only when run.json's layout says the data is
	// MMLU (mmlu-hf or mmlu-csv), never because subject names match.
	// UngroupedSubjects lists subjects outside lm-eval's 57-subject
	// mapping: they are in no group, so "mmlu" leaves them out while the
	// headline metrics count them.
	Groups            map[string]*GroupStats `json:"groups,omitempty"`
	UngroupedSubjects []string               `json:"ungrouped_subjects,omitempty"`

	Calibration *Calibration        `json:"calibration"`
	Requests    Requests            `json:"requests"`
	LatencyMS   map[string]*Latency `json:"latency_ms"`
	Throughput  Throughput          `json:"throughput"`
	WallSeconds Float               `json:"wall_seconds"`
	// Methods counts scored samples by how their log-likelihoods were
	// obtained (results.Sample.Method).
	Methods map[string]int `json:"methods"`
	// Failures lists the most frequent distinct failure reasons (at most
	// maxFailures); FailureReasons is how many distinct reasons there are.
	Failures       []Failure `json:"failures"`
	FailureReasons int       `json:"failure_reasons"`
}

// Metrics are a model's headline figures over scored samples.
type Metrics struct {
	Acc           Float     `json:"acc"`
	AccStderr     Float     `json:"acc_stderr"`
	AccCI95       *Interval `json:"acc_ci95"`
	AccNorm       Float     `json:"acc_norm"`
	AccNormStderr Float     `json:"acc_norm_stderr"`
	AccNormCI95   *Interval `json:"acc_norm_ci95"`
	// AccMacro is the unweighted mean of subject accuracies; its interval is
	// a bootstrap stratified by subject.
	AccMacro     Float     `json:"acc_macro"`
	AccMacroCI95 *Interval `json:"acc_macro_ci95"`
}

// SubjectStats are one subject's figures for one model.
type SubjectStats struct {
	// N counts scored samples; Failed those that could not be scored.
	N             int   `json:"n"`
	Failed        int   `json:"failed"`
	Acc           Float `json:"acc"`
	AccStderr     Float `json:"acc_stderr"`
	AccNorm       Float `json:"acc_norm"`
	AccNormStderr Float `json:"acc_norm_stderr"`
	// Group is the subject's MMLU category; empty unless the run is MMLU.
	Group string `json:"group,omitempty"`

	k, kNorm int // set by Build; see correct
}

// correct is the number of scored samples with acc; it is recovered from
// Acc·N (exact for any realistic N) so that a Report read back from
// report.json renders the same as the one Build made.
func (s *SubjectStats) correct() int { return fromRate(s.Acc, s.N) }

func (s *SubjectStats) correctNorm() int { return fromRate(s.AccNorm, s.N) }

func fromRate(p Float, n int) int {
	if !p.Valid() {
		return 0
	}
	return int(math.Round(float64(p) * float64(n)))
}

// GroupStats aggregate one MMLU group the way lm-eval does: accuracy
// weighted by subject size (correct / questions) and the pooled stderr.
type GroupStats struct {
	N             int   `json:"n"`
	Acc           Float `json:"acc"`
	AccStderr     Float `json:"acc_stderr"`
	AccNorm       Float `json:"acc_norm"`
	AccNormStderr Float `json:"acc_norm_stderr"`
	// AccMacro is the unweighted mean of the group's subject accuracies.
	AccMacro Float `json:"acc_macro"`
	// Subjects is the number of the group's subjects with scored samples.
	Subjects int `json:"subjects"`
}

// Requests counts the API calls behind a model's samples.
type Requests struct {
	Completions int `json:"completions"`
	Tokenize    int `json:"tokenize"`
	// Other counts requests of any other kind; Total all of them.
	Other int `json:"other"`
	Total int `json:"total"`
	// Retries is Σ(attempts − 1).
	Retries int `json:"retries"`
	// ErrorsByStatus counts every failed attempt by HTTP status; "conn" is a
	// connection error (no response, status 0).
	ErrorsByStatus   map[string]int `json:"errors_by_status"`
	PromptTokens     int64          `json:"prompt_tokens"`
	CompletionTokens int64          `json:"completion_tokens"`
	CachedTokens     int64          `json:"cached_tokens"`
}

// Throughput is work per second of run wall time; null when the run has no
// wall time yet.
type Throughput struct {
	ExamplesPerS Float `json:"examples_per_s"`
	RequestsPerS Float `json:"requests_per_s"`
	TokensPerS   Float `json:"tokens_per_s"`
}

// Failure is one distinct failure reason.
type Failure struct {
	Reason  string `json:"reason"`
	Count   int    `json:"count"`
	FirstID string `json:"first_id"`
}

// Definitions say, in report.json itself, how each figure was computed.
type Definitions struct {
	Acc            string `json:"acc"`
	AccNorm        string `json:"acc_norm"`
	Stderr         string `json:"stderr"`
	CI95           string `json:"ci95"`
	Macro          string `json:"acc_macro"`
	Groups         string `json:"groups"`
	ECE            string `json:"ece"`
	Brier          string `json:"brier"`
	Latency        string `json:"latency_ms"`
	Requests       string `json:"requests"`
	ErrorsByStatus string `json:"errors_by_status"`
	Throughput     string `json:"throughput"`
	Comparisons    string `json:"comparisons"`
	LastLineWins   string `json:"superseded"`
	LMEval         string `json:"lmeval"`
}

func definitions(o Options) Definitions {
	macro := fmt.Sprintf("unweighted mean of subject accuracies; 95%% CI: percentile interval of a bootstrap stratified by subject (%d replicates, seed %d)", o.BootstrapIters, o.Seed)
	if o.BootstrapIters == 0 {
		macro = "unweighted mean of subject accuracies; bootstrap disabled, so no interval"
	}
	return Definitions{
		Acc:            "share of scored samples (status ok) whose prediction is the gold choice; failed samples are counted in failed, never in accuracy",
		AccNorm:        "as acc, with the prediction the argmax of log-likelihood / the choice's length in characters (lm-eval acc_norm); equal to acc when every choice is one character (lettered choices)",
		Stderr:         "lm-eval mean_stderr: sample standard deviation (n-1) / sqrt(n) = sqrt(p(1-p)/(n-1)); null when n <= 1",
		CI95:           "Wilson score interval, z = 1.959964",
		Macro:          macro,
		Groups:         "MMLU runs only (run.json layout mmlu-hf or mmlu-csv): lm-eval's four categories and the overall mmlu group over them, subjects outside lm-eval's 57-subject mapping excluded; acc weighted by subject size (correct/questions); stderr pooled as lm-eval's pooled_sample_stderr, sqrt(sum_i (n_i-1) se_i^2 n_i / (N-k) / N) over the k subjects, null if any subject's stderr is; acc_macro = unweighted mean of the subjects' acc",
		ECE:            "expected calibration error over 10 equal-width bins of the top softmax probability (softmax over the choice log-likelihoods), weighted by bin count",
		Brier:          "multiclass Brier score: mean over samples of sum_k (p_k - y_k)^2, p = softmax of the choice log-likelihoods; range 0..2 (lm-eval brier_score)",
		Latency:        "per request (results.Request.latency_ms, excluding backoff waits), all journal lines; count/mean/std (n-1)/min/max exact, percentiles from an HDR histogram (microseconds, 3 significant digits) clamped to [min, max]",
		Requests:       "every request of every journal line, including lines later superseded: they were sent",
		ErrorsByStatus: "every failed attempt (results.Request.errors) by HTTP status; key \"conn\" = connection error (status 0)",
		Throughput:     "examples: final samples (scored + failed); requests and tokens (prompt + completion): all journal lines; each divided by run wall_seconds",
		Comparisons:    "each model vs the first, over examples scored under both: diff = model - baseline; stderr = sd(per-example differences, n-1)/sqrt(n); 95% CI = diff +/- 1.959964 stderr; b = baseline right & model wrong, c = baseline wrong & model right; McNemar exact two-sided p = min(1, 2 P(X <= min(b,c))), X ~ Binomial(b+c, 1/2); significant_0_05 = p < 0.05. Subject deltas are descriptive, not tested",
		LastLineWins:   "a (model, id) may have several journal lines (a failed sample redone); the last one is the sample's result",
		LMEval:         "lm-evaluation-harness results layout, one file per model as lm-eval writes one per model run: results_lmeval.json when the run has one model, results_lmeval_<model_name_sanitized>.json for each model when it has several; MMLU runs have leaf tasks mmlu_<subject> and the groups above, any other run one task",
	}
}

// Build reads run.json and samples.jsonl from dir and computes the report.
// It writes nothing.
func Build(ctx context.Context, dir string, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	run, err := results.ReadRun(dir)
	if err != nil {
		return nil, err
	}
	if len(run.Settings.Models) == 0 {
		return nil, fmt.Errorf("reports: %s: field %q: no models", filepath.Join(dir, results.RunFile), "settings.models")
	}
	c, err := newCollector(run)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", filepath.Join(dir, results.RunFile), err)
	}
	info, err := results.ReadJournal(ctx, filepath.Join(dir, results.JournalFile), c.add)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Schema:  Schema,
		Version: opts.Version,
		Status:  run.Status,
		Run: RunInfo{
			Started: run.Started, Finished: run.Finished, WallSeconds: Float(run.WallSeconds),
			Examples: run.Examples, Version: run.Version, Stopped: run.Stopped,
		},
		Config:      redactSettings(run.Settings),
		Journal:     JournalStats{Lines: c.lines, Torn: info.Torn},
		Invalid:     run.Invalid,
		Definitions: definitions(opts),
		Comparisons: []*Comparison{},
		dir:         dir,
		opts:        opts,
		lines:       c.lines,
	}
	if r.Invalid == nil {
		r.Invalid = []results.Invalid{}
	}
	if err := c.finish(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// redactSettings keeps credentials out of the report: settings never hold
// the token, but a base URL can carry user:password or a key in its query.
func redactSettings(s results.Settings) results.Settings {
	if u, err := url.Parse(s.BaseURL); err == nil && (u.User != nil || u.RawQuery != "") {
		u.User = nil
		if u.RawQuery != "" {
			u.RawQuery = "REDACTED"
		}
		s.BaseURL = u.String()
	}
	return s
}

// Incomplete reports whether the run did not finish (partial or running):
// every output then says so.
func (r *Report) Incomplete() bool { return r.Status != results.RunComplete }

// JSON returns report.json's bytes: indented, keys in a fixed order (maps
// sorted), no HTML escaping, no trailing newline.
func (r *Report) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("reports: encode report: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// datasetName is how a run's data is named in the report: its paths.
func datasetName(s results.Settings) string { return strings.Join(s.Dataset, ", ") }
