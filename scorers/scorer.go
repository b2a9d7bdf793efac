package scorers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

// Method is a scoring method.
type Method string

const (
	Letter       Method = "letter"
	Continuation Method = "continuation"
)

// ParseMethod accepts "letter" or "continuation".
func ParseMethod(s string) (Method, error) {
	switch Method(s) {
	case Letter, Continuation:
		return Method(s), nil
	}
	return "", fmt.Errorf("scorers: unknown scoring %q (want letter or continuation)", s)
}

// API is the part of the endpoint client a scorer needs. The runner passes a
// wrapper that applies its concurrency cap and rate limit to every call.
type API interface {
	Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error)
	Tokenize(ctx context.Context, model, prompt string) ([]int, endpoint.Call, error)
}

// Options configure a Scorer. Zero values take the defaults.
type Options struct {
	Method Method
	Prompt *Prompt
	// TopK is the logprobs count of the letter method's single request.
	TopK int
	// Shots are taken from FewShot, the first Shots of the same subject.
	Shots   int
	FewShot *datasets.FewShot
	// VerifyQuestions is how many questions check that the labels tokenize
	// as single tokens after the context before the one-request path is
	// trusted.
	VerifyQuestions int
	// CacheSize bounds the tokenize cache (entries).
	CacheSize int
}

func (o *Options) defaults() error {
	if o.Method == "" {
		o.Method = Letter
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return err
	}
	if o.Prompt == nil {
		return errors.New("scorers: no prompt")
	}
	if o.TopK <= 0 {
		o.TopK = 20
	}
	if o.Shots > 0 && o.FewShot == nil {
		return fmt.Errorf("scorers: %d shots need a few-shot source", o.Shots)
	}
	if o.VerifyQuestions <= 0 {
		o.VerifyQuestions = 5
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 8192
	}
	return nil
}

// Scorer scores examples for one model. It is safe for concurrent use.
type Scorer struct {
	api   API
	model endpoint.ModelID
	opts  Options
	tok   *tokenCache

	mu     sync.Mutex
	labels labelState
	// verifying counts questions checking the label split right now;
	// changed is closed (and replaced) whenever labels or verifying change.
	verifying int
	changed   chan struct{}
}

// New returns a scorer for model.
func New(api API, model endpoint.ModelID, opts Options) (*Scorer, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Scorer{api: api, model: model, opts: opts, tok: newTokenCache(api, model, opts.CacheSize), changed: make(chan struct{})}, nil
}

// Model returns the model this scorer queries.
func (s *Scorer) Model() endpoint.ModelID { return s.model }

// Score scores one example. It never returns an error: a sample that could
// not be scored comes back failed, with the reason.
func (s *Scorer) Score(ctx context.Context, ex *datasets.Example, seq int) *results.Sample {
	smp := &results.Sample{
		Model: s.model.String(), ID: ex.ID, Subject: ex.Subject, Seq: seq,
		Gold: ex.Answer, NumChoices: len(ex.Choices), Status: results.StatusOK,
		Start: time.Now().UTC(),
	}
	rec := &recorder{}
	var (
		sc  *scored
		err error
	)
	if len(ex.Choices) < 2 {
		err = fmt.Errorf("%d choices", len(ex.Choices))
	} else if ex.Answer < 0 || ex.Answer >= len(ex.Choices) {
		err = fmt.Errorf("answer %d out of range for %d choices", ex.Answer, len(ex.Choices))
	} else if s.opts.Method == Letter {
		sc, err = s.scoreLetter(ctx, ex, rec)
	} else {
		sc, err = s.scoreContinuation(ctx, ex, rec)
	}
	smp.End = time.Now().UTC()
	smp.Requests = rec.requests()
	if err != nil {
		smp.Status = results.StatusFailed
		smp.Error = err.Error()
		if sc != nil {
			smp.Method = sc.method
		}
		return smp
	}
	smp.Method = sc.method
	smp.LogLik = sc.loglik
	smp.CharLen = sc.charLen
	smp.Greedy = sc.greedy
	smp.Pred = argmax(sc.loglik, nil)
	smp.PredNorm = argmax(sc.loglik, sc.charLen)
	smp.Acc = smp.Pred == ex.Answer
	smp.AccNorm = smp.PredNorm == ex.Answer
	if verr := smp.Validate(); verr != nil {
		// A scorer bug must not reach the journal as a score.
		smp.Status = results.StatusFailed
		smp.Error = "internal check: " + verr.Error()
	}
	return smp
}

// scored is what a method produces for one example.
type scored struct {
	method  string
	loglik  []float64
	charLen []int
	greedy  []bool
}

// argmax returns the index of the largest value (divided by norm[i] when
// norm is given), ties going to the lowest index as numpy's argmax does.
func argmax(v []float64, norm []int) int {
	best := 0
	bestV := 0.0
	for i, x := range v {
		if norm != nil {
			x /= float64(max(norm[i], 1))
		}
		if i == 0 || x > bestV {
			best, bestV = i, x
		}
	}
	return best
}

// context returns the prompt context of ex, with its few-shot examples.
func (s *Scorer) context(ex *datasets.Example, target func(*datasets.Example) string) (string, error) {
	var shots []datasets.Example
	if s.opts.Shots > 0 {
		shots = s.opts.FewShot.ForExample(ex, s.opts.Shots)
		if len(shots) < s.opts.Shots {
			return "", fmt.Errorf("only %d few-shot examples for subject %q, %d requested", len(shots), ex.Subject, s.opts.Shots)
		}
	}
	c, err := s.opts.Prompt.Context(ex, shots, target)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	return c, nil
}

// recorder collects the API calls made for one sample. Calls of one sample
// may run concurrently (continuation choices), hence the lock.
type recorder struct {
	mu   sync.Mutex
	reqs []results.Request
}

func (r *recorder) add(kind string, call endpoint.Call, usage *endpoint.Usage, err error) {
	req := results.Request{
		Kind:      kind,
		LatencyMS: ms(call.Latency()),
		ElapsedMS: ms(call.Elapsed()),
		Attempts:  len(call.Attempts),
	}
	for i, a := range call.Attempts {
		if i == len(call.Attempts)-1 && err == nil {
			req.Status = a.Status
			continue
		}
		req.Errors = append(req.Errors, a.Status)
		req.Status = a.Status
	}
	if usage != nil {
		req.PromptTokens = usage.PromptTokens
		req.CompletionTokens = usage.CompletionTokens
		req.CachedTokens = usage.CachedTokens
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
}

func (r *recorder) requests() []results.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// complete sends one completions request and records it.
func (s *Scorer) complete(ctx context.Context, req *endpoint.CompletionRequest, rec *recorder) (*endpoint.CompletionResponse, error) {
	req.Model = s.model.String()
	resp, call, err := s.api.Completions(ctx, req)
	var usage *endpoint.Usage
	if resp != nil {
		usage = &resp.Usage
	}
	rec.add("completions", call, usage, err)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
