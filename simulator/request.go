package simulator

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// Validation shared by completions and chat. Each check returns a 422
// naming the field, as a real server's request validation does.

const maxN = 64

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// checkTokens checks token IDs against the vocabulary.
func (s *Server) checkTokens(field string, toks []int) *apiError {
	for i, t := range toks {
		if t < 0 || t >= s.tok.VocabSize() {
			return invalid(field, "token %d at index %d is outside the vocabulary [0, %d)", t, i, s.tok.VocabSize())
		}
	}
	return nil
}

// parseSeeds reads "seed": an unsigned integer, or a list of them (one per
// choice, so its length must be n).
func parseSeeds(raw json.RawMessage, n int) ([]uint64, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	one := func(v json.RawMessage) (uint64, bool) {
		u, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		return u, err == nil
	}
	if u, ok := one(raw); ok {
		seeds := make([]uint64, n)
		for i := range seeds {
			seeds[i] = u
		}
		return seeds, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("seed", "expected a non-negative integer or a list of them, got %s", clipRaw(raw))
	}
	if len(list) != n {
		return nil, invalid("seed", "a list of %d seeds was given for n = %d choices", len(list), n)
	}
	seeds := make([]uint64, n)
	for i, v := range list {
		u, ok := one(v)
		if !ok {
			return nil, invalid("seed", "element %d: expected a non-negative integer, got %s", i, clipRaw(v))
		}
		seeds[i] = u
	}
	return seeds, nil
}

// parseStop reads "stop": a list of strings (a bare string is accepted,
// as OpenAI does).
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, invalid("stop", "stop strings must not be empty")
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("stop", "expected a list of strings, got %s", clipRaw(raw))
	}
	for i, s := range list {
		if s == "" {
			return nil, invalid("stop", "element %d is empty", i)
		}
	}
	return list, nil
}

func clipRaw(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) > 40 {
		return string(t[:40]) + "..."
	}
	return string(t)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// parseSampling checks temperature, top_k, top_p and min_p.
func parseSampling(f samplingFields) (sampling, *apiError) {
	sp := sampling{temp: 1, topP: 1}
	if f.Temperature != nil {
		if v := *f.Temperature; !finite(v) || v < 0 {
			return sp, invalid("temperature", "%v must be a number >= 0", v)
		}
		sp.temp = *f.Temperature
	}
	if f.TopK != nil {
		if *f.TopK < 0 {
			return sp, invalid("top_k", "%d must be >= 0 (0 disables top-k filtering)", *f.TopK)
		}
		sp.topK = *f.TopK
	}
	if f.TopP != nil {
		if v := *f.TopP; !finite(v) || v <= 0 || v > 1 {
			return sp, invalid("top_p", "%v must be in (0, 1]", v)
		}
		sp.topP = *f.TopP
	}
	if f.MinP != nil {
		if v := *f.MinP; !finite(v) || v < 0 || v > 1 {
			return sp, invalid("min_p", "%v must be in [0, 1]", v)
		}
		sp.minP = *f.MinP
	}
	return sp, nil
}

// checkUnsupported refuses documented options the simulator does not
// implement, unless they hold their neutral value.
func checkUnsupported(u unsupportedFields) *apiError {
	unsupported := func(field string) *apiError {
		return invalid(field, "not supported by the simulator")
	}
	if !isNull(u.ResponseFormat) {
		var rf struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(u.ResponseFormat, &rf) != nil || rf.Type != "text" {
			return invalid("response_format", "only {\"type\":\"text\"} is supported by the simulator")
		}
	}
	for _, p := range []struct {
		name    string
		v       *float64
		neutral float64
	}{
		{"repetition_penalty", u.RepetitionPenalty, 1}, {"frequency_penalty", u.FrequencyPenalty, 0},
		{"presence_penalty", u.PresencePenalty, 0}, {"encoder_repetition_penalty", u.EncoderRepetitionPenalty, 1},
		{"xtc_threshold", u.XTCThreshold, 0}, {"xtc_probability", u.XTCProbability, 0},
	} {
		if p.v != nil && *p.v != p.neutral {
			return unsupported(p.name)
		}
	}
	if u.NoRepeatNgram != nil && *u.NoRepeatNgram != 0 {
		return unsupported("no_repeat_ngram")
	}
	if u.EncoderNoRepeatNgram != nil && *u.EncoderNoRepeatNgram != 0 {
		return unsupported("encoder_no_repeat_ngram")
	}
	if len(u.BadWords) > 0 {
		return unsupported("bad_words")
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"bad_word_tokens", u.BadWordTokens}, {"embedding_to_replace", u.EmbeddingToReplace}, {"token_index_to_replace", u.TokenIndexToReplace}} {
		if t := bytes.TrimSpace(f.raw); !isNull(t) && string(t) != "[]" {
			return unsupported(f.name)
		}
	}
	return nil
}

// lengths works out the output bounds from max/min tokens and the context
// limit. maxTokens and maxTotal are exclusive, as are minTokens and
// minTotal (checked by the caller).
func (s *Server) lengths(prompt int, maxTokens, maxTotal, minTokens, minTotal *int) (maxOut, minOut int, e *apiError) {
	limit := s.cfg.MaxContext
	if prompt >= limit {
		return 0, 0, errorf(http.StatusUnprocessableEntity, "the prompt has %d tokens, which leaves no room for output within the model's max length %d", prompt, limit)
	}
	maxOut = limit - prompt
	switch {
	case maxTokens != nil:
		if *maxTokens < 1 {
			return 0, 0, invalid("max_tokens", "%d must be at least 1", *maxTokens)
		}
		if prompt+*maxTokens > limit {
			return 0, 0, invalid("max_tokens", "the prompt (%d tokens) plus max_tokens (%d) exceeds the model's max length %d", prompt, *maxTokens, limit)
		}
		maxOut = *maxTokens
	case maxTotal != nil:
		if *maxTotal > limit {
			return 0, 0, invalid("max_total_tokens", "%d exceeds the model's max length %d", *maxTotal, limit)
		}
		if *maxTotal <= prompt {
			return 0, 0, invalid("max_total_tokens", "%d leaves no room for output after the prompt's %d tokens", *maxTotal, prompt)
		}
		maxOut = *maxTotal - prompt
	}
	switch {
	case minTokens != nil:
		if *minTokens < 0 {
			return 0, 0, invalid("min_tokens", "%d must be >= 0", *minTokens)
		}
		minOut = *minTokens
	case minTotal != nil:
		if *minTotal < 0 {
			return 0, 0, invalid("min_total_tokens", "%d must be >= 0", *minTotal)
		}
		minOut = max(0, *minTotal-prompt)
	}
	if minOut > maxOut {
		return 0, 0, errorf(http.StatusUnprocessableEntity, "the minimum output (%d tokens) exceeds the maximum (%d tokens)", minOut, maxOut)
	}
	return maxOut, minOut, nil
}

func checkN(n *int) (int, *apiError) {
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > maxN {
		return 0, invalid("n", "%d must be in [1, %d]", *n, maxN)
	}
	return *n, nil
}
