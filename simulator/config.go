package simulator

import (
	"fmt"
	"strings"
	"time"
)

// Config is the simulator's settings. The zero value of a field means its
// default (see DefaultConfig and New), except where noted.
type Config struct {
	Seed int64
	// Endpoints are the dedicated endpoint IDs that exist. nil means
	// ["demo"]. The container paths (/v1/...) serve the first one.
	Endpoints []string
	// Adapters are the adapter routes on every endpoint. nil means
	// ["lora-a", "lora-b"]; an empty non-nil slice means none.
	Adapters []string
	// Models are the serverless model codes. nil means
	// ["meta-llama-3.1-8b-instruct"].
	Models []string
	// Token, when set, is required as "Authorization: Bearer <Token>" on
	// every API path (not /health or /metrics); without it the reply is 401.
	// It is the literal token (printable ASCII without spaces), however the
	// caller got it: a flag, an environment variable or a file it read and
	// trimmed. No error or reply ever shows it.
	Token    string
	Latency  Latency
	Capacity int // concurrent sequences generated; past it requests queue FIFO (0 = unlimited)
	Faults   Faults
	Quirks   Quirks
	// MaxContext bounds prompt + output tokens (0 means 8192); past it 422.
	MaxContext int
	// MaxLogprobs bounds the completions "logprobs" integer (0 means the
	// vocabulary size). Chat's top_logprobs is bounded at 20 as OpenAI's is.
	MaxLogprobs int
}

// Latency is the timing model. Every duration is non-negative.
type Latency struct {
	TTFT           time.Duration // base time to first token
	PerPromptToken time.Duration // added to TTFT per prompt token (prefill)
	ITL            time.Duration // interval per further output token
	Jitter         float64       // seeded multiplicative jitter fraction in [0, 1): 0.1 = ±10%
	Tokenize       time.Duration // latency of tokenize/detokenize
}

// Faults are seeded failure rates, decided per request. Rate429, Rate500,
// Rate503 and RateReset are exclusive outcomes of one draw, so their sum is
// at most 1; RateCut and RateSlow are drawn independently.
type Faults struct {
	Rate429    float64       // answered 429 with Retry-After
	RetryAfter time.Duration // sent as Retry-After (whole seconds, rounded up) and retry-after-ms; 0 sends neither
	Rate500    float64
	Rate503    float64
	RateReset  float64       // connection reset (RST) before any response
	RateCut    float64       // streams cut after some chunks (no [DONE]); non-stream bodies cut mid-JSON
	RateSlow   float64       // SlowDelay added before the first token
	SlowDelay  time.Duration //
}

// Error body shapes (Quirks.ErrorShape), the three the API notes list.
const (
	ErrorShapeOpenAI  = "openai"  // {"error":{"message":..,"type":..,"code":..}}
	ErrorShapeMessage = "message" // {"message":..,"error":{}}
	ErrorShapeDetail  = "detail"  // {"detail":..}
)

// Quirks are reply shapes that real servers (old or odd ones) produce and a
// client must tolerate, and misbehaviours a client must refuse loudly.
type Quirks struct {
	// ChunkTokens is the number of tokens per streamed chunk after the
	// first (>1 mimics speculative decoding); 0 means 1. The first chunk
	// always carries one token, so TTFT stays what Latency says.
	ChunkTokens int
	// LegacyStream streams completions in the pre-2024-12 format: per token
	// "event: token_sampled" + data {"event":"token_sampled","index","text","token"},
	// then {"event":"complete","choices":[..],"usage":{..}}, and no [DONE].
	LegacyStream bool
	// LegacyLogprobs writes completions logprobs as a flat list of floats,
	// one per output token (pre-2024-12 engines).
	LegacyLogprobs bool
	// NullFinishString sends finish_reason as the string "null" in
	// non-final stream chunks instead of JSON null.
	NullFinishString bool
	// TopLogprobsWithChosen adds the chosen token to each top_logprobs
	// dictionary when it is not among the top k (OpenAI's k+1).
	TopLogprobsWithChosen bool
	// StreamUsageAlways sends the usage chunk even without
	// stream_options.include_usage.
	StreamUsageAlways bool
	// ErrorShape is the JSON shape of error bodies: ErrorShapeOpenAI
	// (default), ErrorShapeMessage or ErrorShapeDetail.
	ErrorShape string

	// Misbehaviours, each applied to every completions reply.
	FewerLogprobs bool // drop the last token_logprobs entry
	WrongTokens   bool // choices[].tokens differ from the tokens produced (the first is off by one)
	NoTokens      bool // omit choices[].tokens
	NaNLogprob    bool // write the first token_logprobs entry as the bare literal NaN (as Python's json.dumps does)
}

// DefaultConfig returns the demo settings.
func DefaultConfig() Config {
	return Config{
		Seed:      1,
		Endpoints: []string{"demo"},
		Adapters:  []string{"lora-a", "lora-b"},
		Models:    []string{"meta-llama-3.1-8b-instruct"},
		Latency: Latency{
			TTFT:           30 * time.Millisecond,
			PerPromptToken: 20 * time.Microsecond,
			ITL:            10 * time.Millisecond,
			Jitter:         0.1,
		},
		Capacity:   64,
		Faults:     Faults{RetryAfter: time.Second, SlowDelay: 2 * time.Second},
		Quirks:     Quirks{ChunkTokens: 1},
		MaxContext: 8192,
	}
}

// withDefaults fills the zero fields that have defaults and checks every
// field; the error names the field.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.Endpoints == nil {
		c.Endpoints = d.Endpoints
	}
	if c.Adapters == nil {
		c.Adapters = d.Adapters
	}
	if c.Models == nil {
		c.Models = d.Models
	}
	if c.MaxContext == 0 {
		c.MaxContext = d.MaxContext
	}
	if c.Quirks.ChunkTokens == 0 {
		c.Quirks.ChunkTokens = 1
	}
	if c.Quirks.ErrorShape == "" {
		c.Quirks.ErrorShape = ErrorShapeOpenAI
	}
	for i := 0; i < len(c.Token); i++ {
		// A bearer token is sent in a header, and the server trims the
		// header's value: a token with spaces, control bytes or non-ASCII
		// could never match, and every request would get 401. The error
		// never shows the token.
		if b := c.Token[i]; b <= ' ' || b >= 0x7F {
			return c, fmt.Errorf("simulator: config Token: byte %d of %d is a space, control or non-ASCII byte; a bearer token is printable ASCII without spaces", i+1, len(c.Token))
		}
	}
	if len(c.Endpoints) == 0 {
		return c, fmt.Errorf("simulator: config Endpoints: at least one endpoint ID is needed")
	}
	for _, list := range []struct {
		name string
		ids  []string
	}{{"Endpoints", c.Endpoints}, {"Adapters", c.Adapters}, {"Models", c.Models}} {
		seen := map[string]bool{}
		for i, id := range list.ids {
			switch {
			case id == "":
				return c, fmt.Errorf("simulator: config %s[%d]: empty name", list.name, i)
			case list.name != "Models" && strings.ContainsAny(id, ": \t\n"):
				return c, fmt.Errorf("simulator: config %s[%d]: %q may not contain ':' or whitespace", list.name, i, id)
			case seen[id]:
				return c, fmt.Errorf("simulator: config %s[%d]: %q listed twice", list.name, i, id)
			}
			seen[id] = true
		}
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"Latency.TTFT", c.Latency.TTFT}, {"Latency.PerPromptToken", c.Latency.PerPromptToken},
		{"Latency.ITL", c.Latency.ITL}, {"Latency.Tokenize", c.Latency.Tokenize},
		{"Faults.RetryAfter", c.Faults.RetryAfter}, {"Faults.SlowDelay", c.Faults.SlowDelay},
	}
	for _, f := range durations {
		if f.d < 0 {
			return c, fmt.Errorf("simulator: config %s: %v is negative", f.name, f.d)
		}
	}
	fractions := []struct {
		name string
		v    float64
	}{
		{"Faults.Rate429", c.Faults.Rate429}, {"Faults.Rate500", c.Faults.Rate500},
		{"Faults.Rate503", c.Faults.Rate503}, {"Faults.RateReset", c.Faults.RateReset},
		{"Faults.RateCut", c.Faults.RateCut}, {"Faults.RateSlow", c.Faults.RateSlow},
	}
	for _, f := range fractions {
		if !(f.v >= 0 && f.v <= 1) { // also rejects NaN
			return c, fmt.Errorf("simulator: config %s: %v is not a fraction in [0, 1]", f.name, f.v)
		}
	}
	if sum := c.Faults.Rate429 + c.Faults.Rate500 + c.Faults.Rate503 + c.Faults.RateReset; sum > 1+1e-12 {
		return c, fmt.Errorf("simulator: config Faults: Rate429+Rate500+Rate503+RateReset = %v exceeds 1 (they are exclusive outcomes)", sum)
	}
	if !(c.Latency.Jitter >= 0 && c.Latency.Jitter < 1) {
		return c, fmt.Errorf("simulator: config Latency.Jitter: %v is not a fraction in [0, 1)", c.Latency.Jitter)
	}
	if c.Capacity < 0 {
		return c, fmt.Errorf("simulator: config Capacity: %d is negative", c.Capacity)
	}
	if c.MaxContext < 2 {
		return c, fmt.Errorf("simulator: config MaxContext: %d is too small", c.MaxContext)
	}
	if c.MaxLogprobs < 0 {
		return c, fmt.Errorf("simulator: config MaxLogprobs: %d is negative", c.MaxLogprobs)
	}
	if c.Quirks.ChunkTokens < 0 {
		return c, fmt.Errorf("simulator: config Quirks.ChunkTokens: %d is negative", c.Quirks.ChunkTokens)
	}
	switch c.Quirks.ErrorShape {
	case ErrorShapeOpenAI, ErrorShapeMessage, ErrorShapeDetail:
	default:
		return c, fmt.Errorf("simulator: config Quirks.ErrorShape: %q is not %q, %q or %q", c.Quirks.ErrorShape, ErrorShapeOpenAI, ErrorShapeMessage, ErrorShapeDetail)
	}
	return c, nil
}
