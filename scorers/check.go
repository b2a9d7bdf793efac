package scorers

import (
	"fmt"
	"math"
	"slices"

	"github.com/evalbench/evalbench/endpoint"
)

// forcedResult is a checked reply to a forced-token request.
type forcedResult struct {
	logprobs []float64
	// top holds, per position, the top-k dictionary, or nil when the reply
	// had none (the legacy list-of-floats shape).
	top []map[string]float64
	// strs holds the token strings of the forced tokens, when given.
	strs []string
}

// checkForced verifies a forced-token reply before any of it is used: one
// choice, the forced tokens echoed back, exactly one finite, non-positive
// logprob (and, when given, one token string) per forced token, and
// well-formed top-k entries.
func checkForced(resp *endpoint.CompletionResponse, forced []int) (*forcedResult, error) {
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("reply has no choices")
	}
	if len(resp.Choices) != 1 {
		// One prompt was sent: which choice answers it would be a guess.
		return nil, fmt.Errorf("reply has %d choices for one prompt", len(resp.Choices))
	}
	ch := &resp.Choices[0]
	if ch.Tokens == nil {
		return nil, fmt.Errorf("reply has no choices[0].tokens, so the forced tokens cannot be verified")
	}
	if !slices.Equal(ch.Tokens, forced) {
		return nil, fmt.Errorf("reply tokens %v are not the forced tokens %v", clip(ch.Tokens), clip(forced))
	}
	lp := ch.Logprobs
	if lp == nil {
		return nil, fmt.Errorf("reply has no logprobs")
	}
	if len(lp.TokenLogprobs) != len(forced) {
		return nil, fmt.Errorf("reply has %d token logprobs for %d forced tokens", len(lp.TokenLogprobs), len(forced))
	}
	for i, v := range lp.TokenLogprobs {
		if err := checkValue(v); err != nil {
			return nil, fmt.Errorf("token logprob %d: %w", i, err)
		}
	}
	r := &forcedResult{logprobs: lp.TokenLogprobs}
	if !lp.Legacy && lp.TopLogprobs != nil {
		if len(lp.TopLogprobs) != len(forced) {
			return nil, fmt.Errorf("reply has %d top_logprobs entries for %d forced tokens", len(lp.TopLogprobs), len(forced))
		}
		for i, m := range lp.TopLogprobs {
			for k, v := range m {
				if err := checkValue(v); err != nil {
					return nil, fmt.Errorf("top_logprobs %d %q: %w", i, k, err)
				}
			}
		}
		r.top = lp.TopLogprobs
	}
	switch len(lp.Tokens) {
	case 0: // optional: the letter method then distrusts top_logprobs
	case len(forced):
		r.strs = lp.Tokens
	default:
		// The lists of one reply disagree on how many positions it has.
		return nil, fmt.Errorf("reply has %d logprobs.tokens for %d forced tokens", len(lp.Tokens), len(forced))
	}
	return r, nil
}

func checkValue(v float64) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("NaN")
	case math.IsInf(v, 0):
		return fmt.Errorf("%v", v)
	case v > 0:
		return fmt.Errorf("positive log-probability %v", v)
	}
	return nil
}

// greedyAt reports whether the forced token at a position was the model's
// argmax: its logprob is at least every top-k value. Servers round floats, so
// a tiny tolerance keeps an exact tie from reading as "not greedy".
func greedyAt(v float64, top map[string]float64) bool {
	for _, x := range top {
		if x > v+greedyTolerance {
			return false
		}
	}
	return true
}

const greedyTolerance = 1e-6

func clip(ids []int) []int {
	if len(ids) > 8 {
		return ids[:8]
	}
	return ids
}
