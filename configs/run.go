package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Run is the configuration of `evalbench run`. Zero values mean "use the
// default"; Defaults fills them in.
type Run struct {
	Models    StringList `yaml:"models"`
	BaseURL   string     `yaml:"base_url"`
	Team      string     `yaml:"team"`
	TokenFile string     `yaml:"token_file"`

	Dataset   StringList        `yaml:"dataset"`
	Layout    string            `yaml:"layout"`
	Fields    map[string]string `yaml:"fields"`
	OnInvalid string            `yaml:"on_invalid"`
	FewShot   StringList        `yaml:"fewshot"`
	Shots     int               `yaml:"shots"`
	Limit     int               `yaml:"limit"`

	// Task picks the prompt family (mmlu, arc, piqa, hellaswag, generic);
	// empty means "from the dataset layout".
	Task    string `yaml:"task"`
	Scoring string `yaml:"scoring"`
	TopK    int    `yaml:"top_k"`
	// Template replaces the per-question prompt with a Go text/template;
	// Description replaces the line that opens the prompt.
	Template    string  `yaml:"template"`
	Description *string `yaml:"description"`

	Concurrency int           `yaml:"concurrency"`
	Rate        float64       `yaml:"rate"`
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
	Out         string        `yaml:"out"`

	// Simulator configures the in-process server when base_url is "sim".
	Simulator Simulator `yaml:"simulator"`

	origin map[string]string // key -> "file:line" or "flag --x"
}

// Simulator holds the settings of the embedded simulator.
type Simulator struct {
	Seed           int64         `yaml:"seed"`
	Adapters       []string      `yaml:"adapters"`
	TTFT           time.Duration `yaml:"ttft"`
	PerPromptToken time.Duration `yaml:"per_prompt_token"`
	ITL            time.Duration `yaml:"itl"`
	Jitter         float64       `yaml:"jitter"`
	Capacity       int           `yaml:"capacity"`
	Rate429        float64       `yaml:"rate_429"`
	RetryAfter     time.Duration `yaml:"retry_after"`
	Rate500        float64       `yaml:"rate_500"`
	Rate503        float64       `yaml:"rate_503"`
	RateReset      float64       `yaml:"rate_reset"`
	RateCut        float64       `yaml:"rate_cut"`
	RateSlow       float64       `yaml:"rate_slow"`
	SlowDelay      time.Duration `yaml:"slow_delay"`
	ChunkTokens    int           `yaml:"chunk_tokens"`
}

// Choices for enumerated keys.
var (
	Scorings   = []string{"letter", "continuation"}
	Tasks      = []string{"mmlu", "arc", "piqa", "hellaswag", "generic"}
	OnInvalids = []string{"fail", "skip"}
	Layouts    = []string{"mmlu-hf", "mmlu-csv", "arc", "hellaswag", "piqa", "mmlu-pro", "generic"}
)

// Default values.
const (
	DefaultConcurrency = 16
	DefaultTopK        = 20
	DefaultMaxAttempts = 8
	DefaultTimeout     = 10 * time.Minute
)

// LoadRun reads a YAML run config. Unknown keys are errors (a typo must not
// be silently ignored), and relative dataset paths are resolved against the
// config file's directory so a config works from any working directory.
func LoadRun(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	var r Run
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("configs: %s: empty config", path)
		}
		return nil, fmt.Errorf("configs: %s: %s", path, yamlMessage(err))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("configs: %s: %s", path, yamlMessage(err))
	}
	r.origin = keyLines(path, &root)
	base := filepath.Dir(path)
	r.Dataset = resolve(base, r.Dataset)
	r.FewShot = resolve(base, r.FewShot)
	if r.TokenFile != "" {
		r.TokenFile = resolve(base, StringList{r.TokenFile})[0]
	}
	return &r, nil
}

func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	msg = strings.ReplaceAll(msg, " in type configs.Run", "")
	msg = strings.ReplaceAll(msg, " in type configs.Simulator", "")
	return msg
}

// keyLines maps each key (dotted for nested maps) to "file:line".
func keyLines(path string, root *yaml.Node) map[string]string {
	m := map[string]string{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n.Kind == yaml.DocumentNode {
			for _, c := range n.Content {
				walk(prefix, c)
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := prefix + n.Content[i].Value
			m[k] = fmt.Sprintf("%s:%d", path, n.Content[i].Line)
			walk(k+".", n.Content[i+1])
		}
	}
	walk("", root)
	return m
}

func resolve(base string, paths StringList) StringList {
	out := make(StringList, len(paths))
	for i, p := range paths {
		if p == "" || filepath.IsAbs(p) || base == "." {
			out[i] = p
			continue
		}
		out[i] = filepath.Join(base, p)
	}
	return out
}

// SetBy records that key was given by a command-line flag, so errors about
// it name the flag rather than a config line.
func (r *Run) SetBy(key, flag string) {
	if r.origin == nil {
		r.origin = map[string]string{}
	}
	r.origin[key] = "flag --" + flag
}

// Where says where key's value came from, or "default".
func (r *Run) Where(key string) string {
	if w, ok := r.origin[key]; ok {
		return w
	}
	return "default"
}

// Defaults fills unset values. Task-dependent defaults (scoring) need the
// dataset layout and are settled by the runner.
func (r *Run) Defaults() {
	if r.BaseURL == "" {
		r.BaseURL = "https://api.friendli.ai/dedicated"
	}
	if r.OnInvalid == "" {
		r.OnInvalid = "fail"
	}
	if r.Concurrency == 0 {
		r.Concurrency = DefaultConcurrency
	}
	if r.TopK == 0 {
		r.TopK = DefaultTopK
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
}

// FieldError is one invalid key.
type FieldError struct {
	Where string // "configs/demo.yaml:7", "flag --scoring" or "default"
	Key   string
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: key %q: %s", e.Where, e.Key, e.Msg)
}

// Errors collects every problem, so a user fixes them in one pass.
type Errors []*FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = "configs: " + e.Error()
	}
	return strings.Join(parts, "\n")
}

// A Check judges a part of the config that configs cannot judge alone: a
// prompt template can only be parsed by the scorers' own parser, and
// configs imports nothing of ours. It returns the key at fault and what is
// wrong with it, or "" when all is well.
type Check func(r *Run) (key, msg string)

// Validate checks the whole config, with checks added to its own, and
// returns Errors, or nil.
func (r *Run) Validate(checks ...Check) error {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Where: r.Where(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}
	if len(r.Models) == 0 {
		bad("models", "no model given (use --model ID or models: [ID] in the config)")
	}
	for i, m := range r.Models {
		if strings.TrimSpace(m) == "" {
			bad("models", "entry %d is empty", i)
		}
	}
	if slices.ContainsFunc(r.Models, func(m string) bool { return strings.Count(m, ":") > 1 }) {
		bad("models", "a model is ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE")
	}
	if len(r.Dataset) == 0 {
		bad("dataset", "no dataset given (use --dataset PATH)")
	}
	oneOf("scoring", r.Scoring, Scorings)
	oneOf("task", r.Task, Tasks)
	oneOf("on_invalid", r.OnInvalid, OnInvalids)
	oneOf("layout", r.Layout, Layouts)
	if r.Description != nil && r.Template == "" {
		// The built-in prompts keep their own opening line: a description
		// alone would be silently ignored.
		bad("description", "replaces the opening line of a custom template; set template too")
	}
	if r.Shots < 0 {
		bad("shots", "%d is negative", r.Shots)
	}
	if r.Shots > 0 && len(r.FewShot) == 0 {
		bad("shots", "%d shots need a few-shot source (--fewshot PATH)", r.Shots)
	}
	if r.Limit < 0 {
		bad("limit", "%d is negative", r.Limit)
	}
	if r.TopK < 1 {
		bad("top_k", "%d must be at least 1", r.TopK)
	}
	if r.Concurrency < 1 {
		bad("concurrency", "%d must be at least 1", r.Concurrency)
	}
	if r.Rate < 0 {
		bad("rate", "%v is negative", r.Rate)
	}
	if r.MaxAttempts < 1 {
		bad("max_attempts", "%d must be at least 1", r.MaxAttempts)
	}
	if r.Timeout < 0 {
		bad("timeout", "%v is negative", r.Timeout)
	}
	s := r.Simulator
	for key, v := range map[string]float64{
		"simulator.rate_429": s.Rate429, "simulator.rate_500": s.Rate500,
		"simulator.rate_503": s.Rate503, "simulator.rate_reset": s.RateReset,
		"simulator.rate_cut": s.RateCut, "simulator.rate_slow": s.RateSlow,
		"simulator.jitter": s.Jitter,
	} {
		if v < 0 || v > 1 {
			bad(key, "%v is not a fraction in [0, 1]", v)
		}
	}
	for key, v := range map[string]time.Duration{
		"simulator.ttft": s.TTFT, "simulator.per_prompt_token": s.PerPromptToken, "simulator.itl": s.ITL,
		"simulator.retry_after": s.RetryAfter, "simulator.slow_delay": s.SlowDelay,
	} {
		if v < 0 {
			bad(key, "%v is negative", v)
		}
	}
	if s.Capacity < 0 {
		bad("simulator.capacity", "%d is negative", s.Capacity)
	}
	if s.ChunkTokens < 0 {
		bad("simulator.chunk_tokens", "%d is negative", s.ChunkTokens)
	}
	for _, check := range checks {
		if key, msg := check(r); key != "" {
			bad(key, "%s", msg)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortFunc(errs, func(a, b *FieldError) int { return strings.Compare(a.Key, b.Key) })
	return errs
}
