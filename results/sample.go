package results

import (
	"fmt"
	"math"
	"time"
)

// Status says whether a sample was scored.
type Status string

const (
	StatusOK     Status = "ok"
	StatusFailed Status = "failed"
)

// Sample is the outcome of one example under one model: one journal line.
//
// A failed sample carries Error and no scores; it is never counted towards
// accuracy, only reported.
type Sample struct {
	Model   string `json:"model"`
	ID      string `json:"id"`
	Subject string `json:"subject,omitempty"`
	// Seq is the example's position in dataset order, so reports can list
	// samples in a stable order whatever order they finished in.
	Seq        int    `json:"seq"`
	Gold       int    `json:"gold"`
	NumChoices int    `json:"n_choices"`
	Status     Status `json:"status"`
	Error      string `json:"error,omitempty"`
	// Method is how the log-likelihoods were obtained: "letter" (one request,
	// labels read from top-k), "letter+fallback" (extra forced requests for
	// labels missing from top-k), "letter-exact" (one forced request per
	// label) or "continuation".
	Method string `json:"method,omitempty"`

	// LogLik is the log-likelihood of each choice's continuation.
	LogLik []float64 `json:"loglik,omitempty"`
	// CharLen is each continuation's length in characters, the acc_norm
	// denominator (lm-eval uses the choice text without the delimiter).
	CharLen []int `json:"char_len,omitempty"`
	// Greedy reports, per choice, whether every continuation token was the
	// model's argmax. Nil when the responses did not allow telling.
	Greedy []bool `json:"greedy,omitempty"`

	Pred     int  `json:"pred"`
	PredNorm int  `json:"pred_norm"`
	Acc      bool `json:"acc"`
	AccNorm  bool `json:"acc_norm"`

	Requests []Request `json:"requests,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Request records one logical API call made for a sample, including the
// retries the client made for it.
type Request struct {
	Kind      string  `json:"kind"` // "completions" or "tokenize"
	LatencyMS float64 `json:"latency_ms"`
	// ElapsedMS includes backoff waits between attempts.
	ElapsedMS float64 `json:"elapsed_ms"`
	Attempts  int     `json:"attempts"`
	// Status is the final HTTP status; 0 when no response ever arrived.
	Status int `json:"status"`
	// Errors lists the status of every failed attempt (0 for a connection
	// error), so reports can count errors by status.
	Errors           []int `json:"errors,omitempty"`
	PromptTokens     int   `json:"prompt_tokens,omitempty"`
	CompletionTokens int   `json:"completion_tokens,omitempty"`
	CachedTokens     int   `json:"cached_tokens,omitempty"`
}

// Key identifies a sample within a run.
func (s *Sample) Key() string { return s.Model + "\x00" + s.ID }

// Validate checks the invariants a journal line must hold before anyone
// aggregates it; a journal edited or written by a buggy tool is caught here,
// not averaged in.
func (s *Sample) Validate() error {
	if s.ID == "" {
		return fmt.Errorf("field %q: empty", "id")
	}
	if s.Model == "" {
		return fmt.Errorf("field %q: empty", "model")
	}
	switch s.Status {
	case StatusFailed:
		if s.Error == "" {
			return fmt.Errorf("field %q: failed sample without a reason", "error")
		}
		return nil
	case StatusOK:
	default:
		return fmt.Errorf("field %q: unknown status %q", "status", s.Status)
	}
	n := s.NumChoices
	if n < 2 {
		return fmt.Errorf("field %q: %d choices", "n_choices", n)
	}
	if len(s.LogLik) != n {
		return fmt.Errorf("field %q: %d values for %d choices", "loglik", len(s.LogLik), n)
	}
	if len(s.CharLen) != n {
		return fmt.Errorf("field %q: %d values for %d choices", "char_len", len(s.CharLen), n)
	}
	if s.Greedy != nil && len(s.Greedy) != n {
		return fmt.Errorf("field %q: %d values for %d choices", "greedy", len(s.Greedy), n)
	}
	for i, v := range s.LogLik {
		if math.IsNaN(v) || math.IsInf(v, 0) || v > 0 {
			return fmt.Errorf("field %q: choice %d: invalid log-likelihood %v", "loglik", i, v)
		}
	}
	if s.Gold < 0 || s.Gold >= n {
		return fmt.Errorf("field %q: %d out of range for %d choices", "gold", s.Gold, n)
	}
	if s.Pred < 0 || s.Pred >= n || s.PredNorm < 0 || s.PredNorm >= n {
		return fmt.Errorf("field %q: prediction out of range for %d choices", "pred", n)
	}
	return nil
}
