package results

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// A load run (evalbench load) leaves load.json (a LoadReport), the rendered
// load.md and load.html, and requests.parquet, built from requests.jsonl:
// one LoadRequest per request, appended as requests finish, so memory stays
// flat however long the run is.

// LoadSchema versions load.json.
const LoadSchema = "evalbench.load/v1"

// File names inside a load run directory.
const (
	LoadFile         = "load.json"
	LoadRequestsFile = "requests.jsonl"
)

// Phases of a load step. A request belongs to the phase its intended start
// time falls in; only PhaseMeasure requests enter the latency figures.
const (
	PhaseWarmup   = "warmup"
	PhaseMeasure  = "measure"
	PhaseCooldown = "cooldown"
)

// Outcomes of a load request. A cancelled request was stopped by the
// harness (an interrupt, or the end of a step for requests that are not
// measured); it is neither a success nor a server error.
const (
	LoadOK        = "ok"
	LoadError     = "error"
	LoadCancelled = "cancelled"
)

// Float is a float64 written to JSON as null when it is not finite, so an
// undefined statistic (a percentile of nothing, a rate over no time) never
// becomes NaN, which JSON cannot carry. Reading null gives NaN back.
type Float float64

// NaN is the undefined Float.
func NaN() Float { return Float(math.NaN()) }

// Valid reports whether f is a finite number.
func (f Float) Valid() bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = NaN()
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = Float(x)
	return nil
}

// Dist summarises a distribution. Count, Mean, Std (sample, n−1), Min and
// Max are exact; the percentiles come from an HDR histogram with 3
// significant digits (within 0.1%) and are clamped to [Min, Max]. Latencies
// are in milliseconds, token counts in tokens. Undefined values are null.
type Dist struct {
	Count int64 `json:"count"`
	Mean  Float `json:"mean"`
	Std   Float `json:"std"`
	Min   Float `json:"min"`
	P50   Float `json:"p50"`
	P90   Float `json:"p90"`
	P95   Float `json:"p95"`
	P99   Float `json:"p99"`
	Max   Float `json:"max"`
}

// EmptyDist is the summary of no values.
func EmptyDist() Dist {
	n := NaN()
	return Dist{Mean: n, Std: n, Min: n, P50: n, P90: n, P95: n, P99: n, Max: n}
}

// Views holds a latency measured twice: from the time the schedule meant
// the request to be sent (which charges any delay in sending to the
// latency, correcting coordinated omission) and from the time it was sent
// (the server's service time plus the network).
type Views struct {
	FromIntended Dist `json:"from_intended"`
	FromSent     Dist `json:"from_sent"`
}

// LoadLatency holds a step's distributions, over its measured requests that
// succeeded (schedule lag and queue time: over every measured request sent).
type LoadLatency struct {
	TTFT Views `json:"ttft_ms"`
	E2E  Views `json:"e2e_ms"`
	// TPOT is per request: (E2E − TTFT) / (output tokens − 1).
	TPOT Dist `json:"tpot_ms"`
	// ITL is per token, pooled over requests.
	ITL Dist `json:"itl_ms"`
	// ScheduleLag is sent − intended: dispatch lag plus client queue time.
	ScheduleLag Dist `json:"schedule_lag_ms"`
	// DispatchLag is how late the client started a request's goroutine
	// (open loop) or its next request (closed loop): the client's own delay.
	DispatchLag Dist `json:"dispatch_lag_ms"`
	// ClientQueue is the wait for a --max-concurrency slot (rate profile).
	ClientQueue  Dist `json:"client_queue_ms"`
	InputTokens  Dist `json:"input_tokens"`
	OutputTokens Dist `json:"output_tokens"`
}

// LoadCounts counts a step's requests.
type LoadCounts struct {
	// Sent counts requests handed to the HTTP client, every phase.
	Sent     int64 `json:"sent"`
	Warmup   int64 `json:"warmup"`
	Measured int64 `json:"measured"`
	Cooldown int64 `json:"cooldown"`
	// OK, Errors and Cancelled split the measured requests.
	OK        int64 `json:"ok"`
	Errors    int64 `json:"errors"`
	Cancelled int64 `json:"cancelled"`
	// CompletedInWindow counts successful completions (of any phase) that
	// ended inside the measurement window: the numerator of RequestsPerSec.
	CompletedInWindow int64 `json:"completed_in_window"`
	// UsageMissing counts measured successes whose stream had no usage
	// chunk (output tokens were counted from the stream); UsageMismatch
	// those whose usage.completion_tokens differs from the streamed count.
	UsageMissing  int64 `json:"usage_missing"`
	UsageMismatch int64 `json:"usage_mismatch"`
}

// LoadThroughput is a step's throughput over its measurement window, from
// the events that happened inside it: completions, and output tokens as
// they arrived (so requests started in the warm-up but finishing in the
// window count for the work they did in it).
type LoadThroughput struct {
	RequestsPerSec     Float `json:"requests_per_s"`
	OutputTokensPerSec Float `json:"output_tokens_per_s"`
	// TotalTokensPerSec adds the prompt tokens of requests whose first token
	// arrived inside the window.
	TotalTokensPerSec Float `json:"total_tokens_per_s"`
	// OfferedPerSec is measured requests (intended start in the window) per
	// second: the load the schedule offered.
	OfferedPerSec Float `json:"offered_per_s"`
	// SendRate is the rate requests were actually sent over the step's
	// dispatch span: (sent − 1) / (last send − first send).
	SendRate Float `json:"send_rate"`
	// Achieved is RequestsPerSec / OfferedPerSec: below 1 the server did
	// not keep up with the load.
	Achieved Float `json:"achieved_ratio"`
}

// LoadGoodput is a step's goodput under the run's SLOs.
type LoadGoodput struct {
	// Good counts measured requests that succeeded and met every SLO;
	// GoodFraction is Good over every measured request (errors are not good).
	Good         int64 `json:"good"`
	GoodFraction Float `json:"good_fraction"`
	// RequestsPerSec is goodput: the step's requests/s times the share of
	// its measured successes that met every SLO (good / ok). Errors are
	// already out of requests/s, so they are not counted against it twice.
	RequestsPerSec Float `json:"requests_per_s"`
	// Met says whether GoodFraction reached the run's SLO attainment target.
	Met bool `json:"met"`
}

// LoadClient is the load generator's own cost during a step.
type LoadClient struct {
	// CPUSeconds is user+system CPU of the whole process over the step;
	// Cores is CPUSeconds per wall second.
	CPUSeconds Float `json:"cpu_seconds"`
	Cores      Float `json:"cpu_cores"`
	GOMAXPROCS int   `json:"gomaxprocs"`
}

// LoadStep is one load level: a concurrency or an arrival rate.
type LoadStep struct {
	Index int    `json:"index"`
	Label string `json:"label"`
	// Kind is "concurrency" (closed loop) or "rate" (open loop).
	Kind string `json:"kind"`
	// Role is "throughput" for a sweep's saturation step, "rate" for its
	// rate steps, "" outside a sweep.
	Role           string  `json:"role,omitempty"`
	Concurrency    int     `json:"concurrency,omitempty"`
	Rate           float64 `json:"rate,omitempty"`
	Arrival        string  `json:"arrival,omitempty"`
	Burstiness     float64 `json:"burstiness,omitempty"`
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
	// Status is "complete" or "partial" (cut short); Stopped says why.
	Status      string    `json:"status"`
	Stopped     string    `json:"stopped,omitempty"`
	Started     time.Time `json:"started"`
	WallSeconds float64   `json:"wall_seconds"`
	// WindowStart and WindowSeconds place the measurement window after the
	// step's start, in seconds.
	WindowStart   float64 `json:"window_start_s"`
	WindowSeconds float64 `json:"window_s"`

	Requests   LoadCounts     `json:"requests"`
	Throughput LoadThroughput `json:"throughput"`
	Goodput    *LoadGoodput   `json:"goodput,omitempty"`
	// ErrorRate is measured errors over measured requests that finished.
	ErrorRate Float `json:"error_rate"`
	// Errors counts measured errors by kind ("http_503", "stream_cut",
	// "timeout", "connection", ...).
	Errors map[string]int64 `json:"errors,omitempty"`
	// PeakInFlight is the most requests in flight at once during the step.
	PeakInFlight int64       `json:"peak_in_flight"`
	Latency      LoadLatency `json:"latency"`
	Client       LoadClient  `json:"client"`
	// Sustainable is set on a sweep's rate steps: the server kept up
	// (achieved ratio at or above the saturation threshold).
	Sustainable *bool `json:"sustainable,omitempty"`
	// Histograms holds the HDR histograms behind the latency figures,
	// base64 of HdrHistogram's V2 compressed encoding (values in
	// microseconds), so they can be merged and re-plotted: keys
	// ttft_from_sent, ttft_from_intended, e2e_from_sent, e2e_from_intended,
	// tpot, itl.
	Histograms map[string]string `json:"histograms,omitempty"`
}

// HistogramUnitsPerMS is the unit of the histograms in LoadStep.Histograms:
// microseconds.
const HistogramUnitsPerMS = 1000

// DecodeHistogram decodes one of LoadStep.Histograms.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("results: histogram: %w", err)
	}
	h, err := hdrhistogram.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("results: histogram: %w", err)
	}
	return h, nil
}

// LoadSource says where the prompts came from.
type LoadSource struct {
	// Kind is "dataset", "prompts" (a JSONL file) or "synthetic".
	Kind  string   `json:"kind"`
	Paths []string `json:"paths,omitempty"`
	// InputTokens is the synthetic prompts' target length.
	InputTokens int `json:"input_tokens,omitempty"`
	// Distinct is the number of distinct synthetic prompts, used in turn.
	Distinct int `json:"distinct,omitempty"`
	// TemplateTokens is what the chat template adds to each synthetic chat
	// prompt (measured with one request); their text is that much shorter,
	// so that InputTokens is what the model sees.
	TemplateTokens int `json:"template_tokens,omitempty"`
}

// LoadSLO is the service-level objectives, in milliseconds; null if unset.
type LoadSLO struct {
	TTFT Float `json:"ttft_ms"`
	TPOT Float `json:"tpot_ms"`
	E2E  Float `json:"e2e_ms"`
	// Attainment is the good fraction a step needs to meet the SLOs.
	Attainment float64 `json:"attainment"`
}

// LoadConfig is the resolved settings of a load run. Never holds the token.
type LoadConfig struct {
	BaseURL         string     `json:"base_url"`
	Model           string     `json:"model"`
	API             string     `json:"api"`
	Tools           []string   `json:"tools,omitempty"`
	Profile         string     `json:"profile"`
	Concurrency     []int      `json:"concurrency,omitempty"`
	Rates           []float64  `json:"rates,omitempty"`
	Arrival         string     `json:"arrival,omitempty"`
	Burstiness      float64    `json:"burstiness,omitempty"`
	MaxConcurrency  int        `json:"max_concurrency,omitempty"`
	DurationSeconds float64    `json:"duration_s,omitempty"`
	Requests        int        `json:"requests,omitempty"`
	WarmupSeconds   float64    `json:"warmup_s"`
	CooldownSeconds float64    `json:"cooldown_s"`
	RampUpSeconds   float64    `json:"ramp_up_s,omitempty"`
	Source          LoadSource `json:"source"`
	OutputTokens    int        `json:"output_tokens"`
	SLO             *LoadSLO   `json:"slo,omitempty"`
	SweepSteps      int        `json:"sweep_steps,omitempty"`
	SaturationRatio float64    `json:"saturation_ratio,omitempty"`
	Seed            uint64     `json:"seed"`
	// InProcessServer is set when the server (--base-url sim) ran in the
	// client's process, so the client CPU figures include it.
	InProcessServer bool `json:"in_process_server,omitempty"`
}

// LoadSweep is the outcome of the sweep profile.
type LoadSweep struct {
	// MaxThroughput is the saturation step's completions per second.
	MaxThroughput Float `json:"max_throughput_rps"`
	// Rates are the rate steps planned, in order.
	Rates []float64 `json:"rates"`
	// Knee is the highest sustainable throughput: the largest achieved
	// requests/s among rate steps that kept up (and met the SLOs, if
	// any). KneeStep is that step's index, -1 if none qualified.
	Knee     Float `json:"knee_rps"`
	KneeRate Float `json:"knee_rate"`
	KneeStep int   `json:"knee_step"`
	// StoppedBy is "completed" (every planned rate ran), "saturation"
	// (achieved below the threshold), "no-gain" (throughput did not grow),
	// "slo" (goodput fell below the attainment target) or "interrupted".
	StoppedBy string `json:"stopped_by"`
	Reason    string `json:"reason,omitempty"`
}

// Load run status values.
const (
	LoadComplete = "complete"
	LoadPartial  = "partial"
)

// LoadReport is load.json.
type LoadReport struct {
	Schema  string `json:"schema"`
	Version string `json:"evalbench_version,omitempty"`
	Status  string `json:"status"`
	// Stopped says why a partial run ended early ("interrupted", or the
	// error that stopped it).
	Stopped     string     `json:"stopped,omitempty"`
	Started     time.Time  `json:"started"`
	Finished    time.Time  `json:"finished"`
	WallSeconds float64    `json:"wall_seconds"`
	Config      LoadConfig `json:"config"`
	Steps       []LoadStep `json:"steps"`
	Sweep       *LoadSweep `json:"sweep,omitempty"`
	Warnings    []string   `json:"warnings"`
	Notes       []string   `json:"notes,omitempty"`
	// Definitions says what each metric measures, so the file explains
	// itself.
	Definitions map[string]string `json:"definitions"`
}

// ReadLoadReport reads and checks load.json.
func ReadLoadReport(path string) (*LoadReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var r LoadReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if r.Schema != LoadSchema {
		return nil, fmt.Errorf("results: %s: schema %q, want %q", path, r.Schema, LoadSchema)
	}
	return &r, nil
}

// LoadRequest is one request of a load run: one line of requests.jsonl.
// Times are offsets in milliseconds from the step's start (the monotonic
// clock); pointers are null when the request never got that far.
type LoadRequest struct {
	Step int `json:"step"`
	// Seq is the request's position in the step's schedule (open loop) or
	// start order (closed loop).
	Seq    int64  `json:"seq"`
	Phase  string `json:"phase"`
	Status string `json:"status"`
	// HTTPStatus is the reply's status; 0 if none arrived.
	HTTPStatus int    `json:"http_status,omitempty"`
	ErrorKind  string `json:"error_kind,omitempty"`
	Error      string `json:"error,omitempty"`

	IntendedMS   float64  `json:"intended_ms"`
	SentMS       *float64 `json:"sent_ms,omitempty"`
	FirstTokenMS *float64 `json:"first_token_ms,omitempty"`
	LastTokenMS  *float64 `json:"last_token_ms,omitempty"`
	EndMS        float64  `json:"end_ms"`

	TTFTMS         *float64 `json:"ttft_ms,omitempty"`
	TTFTIntendedMS *float64 `json:"ttft_intended_ms,omitempty"`
	E2EMS          *float64 `json:"e2e_ms,omitempty"`
	E2EIntendedMS  *float64 `json:"e2e_intended_ms,omitempty"`
	TPOTMS         *float64 `json:"tpot_ms,omitempty"`
	ITLMeanMS      *float64 `json:"itl_mean_ms,omitempty"`
	QueueMS        float64  `json:"queue_ms,omitempty"`

	// InputTokens is usage.prompt_tokens, else the calibrated length of a
	// synthetic prompt, else 0 (unknown).
	InputTokens int `json:"input_tokens"`
	// OutputTokens is usage.completion_tokens, else StreamTokens.
	OutputTokens int  `json:"output_tokens"`
	StreamTokens int  `json:"stream_tokens"`
	Usage        bool `json:"usage"`
	// Chunks counts the stream's chunks that carried anything.
	Chunks       int    `json:"chunks"`
	FinishReason string `json:"finish_reason,omitempty"`
	// Good is set when SLOs were given: the request succeeded and met them.
	Good *bool `json:"good,omitempty"`
}

// Validate checks the invariants a requests.jsonl line must hold.
func (r *LoadRequest) Validate() error {
	switch r.Phase {
	case PhaseWarmup, PhaseMeasure, PhaseCooldown:
	default:
		return fmt.Errorf("phase %q is not warmup, measure or cooldown", r.Phase)
	}
	switch r.Status {
	case LoadOK, LoadCancelled:
	case LoadError:
		if r.ErrorKind == "" {
			return errors.New("an error without error_kind")
		}
	default:
		return fmt.Errorf("status %q is not ok, error or cancelled", r.Status)
	}
	if r.Step < 0 || r.Seq < 0 {
		return fmt.Errorf("negative step %d or seq %d", r.Step, r.Seq)
	}
	if r.OutputTokens < 0 || r.InputTokens < 0 || r.StreamTokens < 0 || r.Chunks < 0 {
		return errors.New("negative token or chunk count")
	}
	for _, v := range []*float64{r.SentMS, r.FirstTokenMS, r.LastTokenMS, r.TTFTMS, r.TTFTIntendedMS, r.E2EMS, r.E2EIntendedMS, r.TPOTMS, r.ITLMeanMS} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			return errors.New("a time is not a finite number")
		}
	}
	return nil
}

// LoadRequestWriter writes requests.jsonl lines. It is not safe for
// concurrent use: the load generator writes from one place under its lock.
type LoadRequestWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewLoadRequestWriter buffers writes to w; call Flush at the end.
func NewLoadRequestWriter(w io.Writer) *LoadRequestWriter {
	return &LoadRequestWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write appends one line. Errors are sticky.
func (lw *LoadRequestWriter) Write(r *LoadRequest) error {
	if lw.err != nil {
		return lw.err
	}
	lw.buf = r.AppendJSON(lw.buf[:0])
	lw.buf = append(lw.buf, '\n')
	if _, err := lw.w.Write(lw.buf); err != nil {
		lw.err = fmt.Errorf("results: write %s: %w", LoadRequestsFile, err)
	}
	return lw.err
}

// Flush writes out what is buffered.
func (lw *LoadRequestWriter) Flush() error {
	if lw.err != nil {
		return lw.err
	}
	if err := lw.w.Flush(); err != nil {
		lw.err = fmt.Errorf("results: write %s: %w", LoadRequestsFile, err)
	}
	return lw.err
}

// AppendJSON appends r as JSON, the same bytes json.Marshal writes up to
// float formatting: the load generator writes one line per request, and
// reflection-based encoding would be a measurable part of its own CPU.
func (r *LoadRequest) AppendJSON(b []byte) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, int64(r.Step), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"phase":`...)
	b = strconv.AppendQuote(b, r.Phase)
	b = append(b, `,"status":`...)
	b = strconv.AppendQuote(b, r.Status)
	if r.HTTPStatus != 0 {
		b = append(b, `,"http_status":`...)
		b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
	}
	if r.ErrorKind != "" {
		b = append(b, `,"error_kind":`...)
		b = appendJSONString(b, r.ErrorKind)
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, r.Error)
	}
	b = appendMS(b, "intended_ms", r.IntendedMS)
	b = appendOptMS(b, "sent_ms", r.SentMS)
	b = appendOptMS(b, "first_token_ms", r.FirstTokenMS)
	b = appendOptMS(b, "last_token_ms", r.LastTokenMS)
	b = appendMS(b, "end_ms", r.EndMS)
	b = appendOptMS(b, "ttft_ms", r.TTFTMS)
	b = appendOptMS(b, "ttft_intended_ms", r.TTFTIntendedMS)
	b = appendOptMS(b, "e2e_ms", r.E2EMS)
	b = appendOptMS(b, "e2e_intended_ms", r.E2EIntendedMS)
	b = appendOptMS(b, "tpot_ms", r.TPOTMS)
	b = appendOptMS(b, "itl_mean_ms", r.ITLMeanMS)
	if r.QueueMS != 0 {
		b = appendMS(b, "queue_ms", r.QueueMS)
	}
	b = append(b, `,"input_tokens":`...)
	b = strconv.AppendInt(b, int64(r.InputTokens), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(r.OutputTokens), 10)
	b = append(b, `,"stream_tokens":`...)
	b = strconv.AppendInt(b, int64(r.StreamTokens), 10)
	b = append(b, `,"usage":`...)
	b = strconv.AppendBool(b, r.Usage)
	b = append(b, `,"chunks":`...)
	b = strconv.AppendInt(b, int64(r.Chunks), 10)
	if r.FinishReason != "" {
		b = append(b, `,"finish_reason":`...)
		b = appendJSONString(b, r.FinishReason)
	}
	if r.Good != nil {
		b = append(b, `,"good":`...)
		b = strconv.AppendBool(b, *r.Good)
	}
	return append(b, '}')
}

func appendMS(b []byte, key string, v float64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e15 {
		return append(b, "null"...)
	}
	// Microsecond precision is what the clock readings carry; integer
	// formatting is several times cheaper than strconv's shortest float.
	us := int64(math.Round(v * 1000))
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1000, 10)
	if frac := us % 1000; frac != 0 {
		d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := 4
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return b
}

func appendOptMS(b []byte, key string, v *float64) []byte {
	if v == nil {
		return b
	}
	return appendMS(b, key, *v)
}

// appendJSONString quotes s as a JSON string. Error messages are the only
// free text; encoding/json handles them exactly (HTML-safe escapes, invalid
// UTF-8) and they are rare.
func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil { // cannot happen for a string
		return strconv.AppendQuote(b, s)
	}
	return append(b, q...)
}
