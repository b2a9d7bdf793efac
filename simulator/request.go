package simulator

import (
	"bytes"
	"encoding/json"
	"math"
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
// choice, so its length must be n). The n results are "independently
// generated" (API notes §2.1), so one seed for n > 1 seeds the first choice
// and derives the others' seeds from it; each choice reports its own, which
// replays it with n = 1.
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
		seeds[0] = u
		for i := 1; i < n; i++ {
			seeds[i] = choiceSeed(u, i)
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

// choiceSeed is the seed of choice i > 0 of a request seeded with seed. It
// fits in 31 bits, as the seeds drawn for unseeded requests do, so that
// clients decoding it as a 32-bit integer can replay it.
func choiceSeed(seed uint64, i int) uint64 {
	d := mix(seed^saltChoice^uint64(i)) >> 33
	if d == seed {
		d ^= 1 // never the first choice's seed
	}
	return d
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

// lengthFields are a request's length settings and the names of the
// fields they came from, so that an error names the field at fault (chat
// takes max_tokens or its alias max_completion_tokens; the prompt is
// "prompt", "tokens" or "messages"). maxTokens and maxTotal are exclusive,
// as are minTokens and minTotal (checked by the caller).
type lengthFields struct {
	prompt       string // the prompt's field
	promptTokens int
	// maxTokensName is the field maxTokens came from.
	maxTokensName       string
	maxTokens, maxTotal *int
	minTokens, minTotal *int
}

// lengths works out the output bounds from max/min tokens and the context
// limit.
func (s *Server) lengths(f lengthFields) (maxOut, minOut int, e *apiError) {
	limit, prompt := s.cfg.MaxContext, f.promptTokens
	if prompt >= limit {
		return 0, 0, invalid(f.prompt, "%d prompt tokens leave no room for output within the model's max length %d", prompt, limit)
	}
	maxOut = limit - prompt
	switch {
	case f.maxTokens != nil:
		name := f.maxTokensName
		if *f.maxTokens < 1 {
			return 0, 0, invalid(name, "%d must be at least 1", *f.maxTokens)
		}
		if prompt+*f.maxTokens > limit {
			return 0, 0, invalid(name, "the prompt (%d tokens) plus %s (%d) exceeds the model's max length %d", prompt, name, *f.maxTokens, limit)
		}
		maxOut = *f.maxTokens
	case f.maxTotal != nil:
		if *f.maxTotal > limit {
			return 0, 0, invalid("max_total_tokens", "%d exceeds the model's max length %d", *f.maxTotal, limit)
		}
		if *f.maxTotal <= prompt {
			return 0, 0, invalid("max_total_tokens", "%d leaves no room for output after the prompt's %d tokens", *f.maxTotal, prompt)
		}
		maxOut = *f.maxTotal - prompt
	}
	minName := "min_tokens"
	switch {
	case f.minTokens != nil:
		if *f.minTokens < 0 {
			return 0, 0, invalid(minName, "%d must be >= 0", *f.minTokens)
		}
		minOut = *f.minTokens
	case f.minTotal != nil:
		minName = "min_total_tokens"
		if *f.minTotal < 0 {
			return 0, 0, invalid(minName, "%d must be >= 0", *f.minTotal)
		}
		minOut = max(0, *f.minTotal-prompt)
	}
	if minOut > maxOut {
		// The minimum is what cannot be met: the maximum may be the
		// context's, which the request did not set.
		return 0, 0, invalid(minName, "a minimum output of %d tokens exceeds the maximum of %d tokens", minOut, maxOut)
	}
	return maxOut, minOut, nil
}

// checkEOSTokens checks eos_token: valid IDs, and, when min_tokens masks
// them, some token left to generate (else no first token could be drawn).
func (s *Server) checkEOSTokens(eos []int, minOut int) *apiError {
	if e := s.checkTokens("eos_token", eos); e != nil {
		return e
	}
	v := s.tok.VocabSize()
	if minOut == 0 || len(eos) < v-3 {
		return nil
	}
	masked := make([]bool, v)
	masked[PAD], masked[BOS], masked[EOS] = true, true, true
	n := 3
	for _, t := range eos {
		if !masked[t] {
			masked[t] = true
			n++
		}
	}
	if n == v {
		return invalid("eos_token", "lists every token, so with min_tokens nothing could be generated")
	}
	return nil
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
