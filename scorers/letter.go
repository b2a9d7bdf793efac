package scorers

import (
	"context"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
)

// Letter methods, as recorded in each sample.
const (
	methodLetter         = "letter"
	methodLetterFallback = "letter+fallback"
	methodLetterExact    = "letter-exact"
	methodContinuation   = "continuation"
)

// labelState is what the first questions taught the scorer about the
// endpoint's tokenizer. It only ever moves towards the safer path.
type labelState struct {
	verified int
	// tokens maps a label continuation (" A") to its single token ID in
	// context.
	tokens map[string]int
	// exact is set when some label is not a single token after the context:
	// every question then scores each label with its own forced request.
	exact  bool
	reason string
	// sendTokens is set when the server's tokenization of a prompt string
	// disagreed with /v1/tokenize (e.g. a different BOS policy), so requests
	// must carry token IDs instead of text.
	sendTokens bool
	// topUntrusted is set when top_logprobs keys or values did not agree with
	// the forced token's own logprob: labels are then never read from it.
	topUntrusted bool
}

func (s *Scorer) scoreLetter(ctx context.Context, ex *datasets.Example, rec *recorder) (*scored, error) {
	n := len(ex.Choices)
	full, err := s.context(ex, func(shot *datasets.Example) string { return labelOf(shot, shot.Answer) })
	if err != nil {
		return nil, err
	}
	// lm-eval moves the context's trailing whitespace into every
	// continuation (a template ending in "Answer: " scores "  A" after
	// "…Answer:"), so both paths below score the pairs lm-eval scores:
	// text is the context, labels are the continuations.
	text, _ := splitContext(full, "")
	moved := full[len(text):]
	labels := make([]string, n)
	charLen := make([]int, n)
	for i := range labels {
		l := labelOf(ex, i)
		labels[i] = moved + TargetDelimiter + l
		// lm-eval normalises by the choice as listed, without the delimiter.
		charLen[i] = utf8.RuneCountInString(l)
	}

	exact := func() (*scored, error) {
		ll, greedy, err := s.forcedEach(ctx, text, labels, rec)
		if err != nil {
			return &scored{method: methodLetterExact}, err
		}
		return &scored{method: methodLetterExact, loglik: ll, charLen: charLen, greedy: greedy}, nil
	}

	verifying, st, err := s.claimLabels(ctx, labels)
	if err != nil {
		return nil, err
	}
	if st.exact || st.topUntrusted {
		return exact()
	}
	var ids, ctxTok []int
	var commit func() bool
	if verifying {
		var reason string
		ids, ctxTok, reason, err = s.verifyLabels(ctx, text, labels, rec)
		if err != nil || reason != "" {
			s.settleLabels(reason)
			if err != nil {
				return nil, err
			}
			return exact()
		}
		// The verdict waits for the completion below, which shows whether
		// the server tokenizes text prompts as /v1/tokenize does: until
		// then the questions waiting in claimLabels must not go ahead with
		// text prompts. A question that fails first hands the
		// verification on to another.
		pending := true
		defer func() {
			if pending {
				s.settleLabels("")
			}
		}()
		commit = func() bool {
			pending = false
			return s.learnLabels(labels, ids) == ""
		}
	} else {
		s.mu.Lock()
		ids = make([]int, n)
		for i, l := range labels {
			ids[i] = s.labels.tokens[l]
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	sendTokens := s.labels.sendTokens
	s.mu.Unlock()

	req := &endpoint.CompletionRequest{
		ForcedOutputTokens: []int{ids[0]},
		Logprobs:           endpoint.Ptr(s.opts.TopK),
		MaxTokens:          endpoint.Ptr(1),
	}
	if sendTokens {
		if ctxTok == nil {
			if ctxTok, err = s.tok.tokens(ctx, text, rec); err != nil {
				return nil, fmt.Errorf("tokenize: %w", err)
			}
		}
		req.Tokens = ctxTok
	} else {
		req.Prompt = text
	}
	resp, err := s.complete(ctx, req, rec)
	if err != nil {
		return nil, err
	}
	if verifying && !sendTokens && resp.Usage.PromptTokens != len(ctxTok) {
		// The server tokenized the text differently from /v1/tokenize, so
		// the verified label split may not hold for text prompts. Carry the
		// token IDs from now on, and redo this question that way.
		s.mu.Lock()
		s.labels.sendTokens = true
		s.mu.Unlock()
		req.Prompt, req.Tokens = "", ctxTok
		if resp, err = s.complete(ctx, req, rec); err != nil {
			return nil, err
		}
	}
	if verifying && !commit() {
		// The label split contradicts an earlier question's: every
		// question, this one included, forces each label from now on.
		return exact()
	}
	first, err := checkForced(resp, req.ForcedOutputTokens)
	if err != nil {
		return nil, err
	}

	ll := make([]float64, n)
	ll[0] = first.logprobs[0]
	var top map[string]float64
	if first.top != nil {
		top = first.top[0]
	}
	trusted := top != nil && first.strs != nil && first.strs[0] == labels[0]
	if v, ok := top[labels[0]]; trusted && ok && math.Abs(v-ll[0]) > topTolerance {
		trusted = false
	}
	if top != nil && !trusted {
		// The dictionary does not speak of tokens the way we do; reading
		// labels from it would be a guess.
		s.mu.Lock()
		s.labels.topUntrusted = true
		s.mu.Unlock()
	}
	method := methodLetter
	var missing []int
	for i := 1; i < n; i++ {
		if v, ok := top[labels[i]]; trusted && ok {
			ll[i] = v
			continue
		}
		missing = append(missing, i)
	}
	if len(missing) > 0 {
		method = methodLetterFallback
		for _, i := range missing {
			r := &endpoint.CompletionRequest{
				Prompt: req.Prompt, Tokens: req.Tokens,
				ForcedOutputTokens: []int{ids[i]},
				Logprobs:           endpoint.Ptr(1),
				MaxTokens:          endpoint.Ptr(1),
			}
			resp, err := s.complete(ctx, r, rec)
			if err != nil {
				return &scored{method: method}, err
			}
			res, err := checkForced(resp, r.ForcedOutputTokens)
			if err != nil {
				return &scored{method: method}, fmt.Errorf("label %q: %w", labels[i], err)
			}
			ll[i] = res.logprobs[0]
		}
	}
	var greedy []bool
	if trusted && len(top) > 0 {
		greedy = make([]bool, n)
		for i := range n {
			greedy[i] = greedyAt(ll[i], top)
		}
	}
	return &scored{method: method, loglik: ll, charLen: charLen, greedy: greedy}, nil
}

// topTolerance is how far a top_logprobs value may sit from the same token's
// token_logprob before the dictionary is distrusted; servers may round one
// and not the other, but not by this much.
const topTolerance = 1e-4

func allKnown(m map[string]int, labels []string) bool {
	for _, l := range labels {
		if _, ok := m[l]; !ok {
			return false
		}
	}
	return true
}

// claimLabels decides how a question is scored. The first VerifyQuestions
// questions each verify the label split; the others wait for that verdict
// instead of all paying for the same tokenize calls. A question whose labels
// were never seen (a new label such as " E") always verifies.
func (s *Scorer) claimLabels(ctx context.Context, labels []string) (verify bool, st labelState, err error) {
	for {
		s.mu.Lock()
		st = s.labels
		known := st.tokens != nil && allKnown(st.tokens, labels)
		switch {
		case st.exact || st.topUntrusted || (known && st.verified >= s.opts.VerifyQuestions):
			s.mu.Unlock()
			return false, st, nil
		case !known && st.verified >= s.opts.VerifyQuestions, st.verified+s.verifying < s.opts.VerifyQuestions:
			s.verifying++
			s.mu.Unlock()
			return true, st, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return false, st, ctx.Err()
		}
	}
}

// learnLabels records a verified split and returns a reason to give up on
// the one-request path if it contradicts an earlier one.
func (s *Scorer) learnLabels(labels []string, ids []int) (conflict string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.labels.tokens == nil {
		s.labels.tokens = map[string]int{}
	}
	for i, l := range labels {
		if prev, ok := s.labels.tokens[l]; ok && prev != ids[i] {
			conflict = fmt.Sprintf("label %q tokenized as %d and as %d in different contexts", l, prev, ids[i])
		}
		s.labels.tokens[l] = ids[i]
	}
	if conflict != "" {
		s.labels.exact, s.labels.reason = true, conflict
	} else {
		s.labels.verified++
	}
	s.verifying--
	s.broadcast()
	return conflict
}

// settleLabels ends a verification that failed (reason != "") or could not
// finish (reason == "", e.g. a network error: another question verifies).
func (s *Scorer) settleLabels(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason != "" && !s.labels.exact {
		s.labels.exact, s.labels.reason = true, reason
	}
	s.verifying--
	s.broadcast()
}

// broadcast wakes every question waiting in claimLabels; s.mu must be held.
func (s *Scorer) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// verifyLabels checks that tokenize(context + label) is tokenize(context)
// followed by exactly one token, for every label. It returns those tokens,
// or a reason why the one-request path cannot be used.
func (s *Scorer) verifyLabels(ctx context.Context, text string, labels []string, rec *recorder) (ids, ctxTok []int, reason string, err error) {
	ctxTok, err = s.tok.tokens(ctx, text, rec)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tokenize: %w", err)
	}
	ids = make([]int, len(labels))
	for i, l := range labels {
		whole, err := s.tok.tokens(ctx, text+l, rec)
		if err != nil {
			return nil, nil, "", fmt.Errorf("tokenize: %w", err)
		}
		if len(whole) != len(ctxTok)+1 || !slices.Equal(whole[:len(ctxTok)], ctxTok) {
			return nil, nil, fmt.Sprintf("label %q is not a single token after the context", l), nil
		}
		ids[i] = whole[len(ctxTok)]
	}
	return ids, ctxTok, "", nil
}

// LabelPath says which letter path the scorer has settled on and why, for
// the run log.
func (s *Scorer) LabelPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.labels.exact:
		return "one forced request per label: " + s.labels.reason
	case s.labels.topUntrusted:
		return "one forced request per label: top_logprobs keys or values disagree with the forced token's logprob"
	case s.labels.verified == 0:
		return "not yet verified"
	case s.labels.sendTokens:
		return fmt.Sprintf("one request per question, token IDs (server prompt tokenization differs from /v1/tokenize; %d questions verified)", s.labels.verified)
	}
	return fmt.Sprintf("one request per question (%d questions verified)", s.labels.verified)
}
