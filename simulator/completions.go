package simulator

import (
	"encoding/json"
	"net/http"
	"time"
)

func (s *Server) completions(w http.ResponseWriter, r *http.Request, rt route, f fault, body []byte, arrived time.Time) {
	var req completionsRequest
	text, textOK, e := decodeCompletions(body, &req)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	m, name, e := s.resolve(rt.family, req.Model)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	gr, stream, usage, e := s.completionsRequest(&req, text, textOK)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	gr.m = m
	j := s.newJob(opCompletions, rt.path, gr, f, name, arrived)
	j.stream, j.includeUsage = stream, usage
	j.legacy = stream && s.cfg.Quirks.LegacyStream
	s.run(w, r, j)
}

// completionsRequest validates a completions body into a generation.
// text is the prompt's text when the decoder already read it (textOK).
func (s *Server) completionsRequest(req *completionsRequest, text string, textOK bool) (gr *genRequest, stream, usage bool, e *apiError) {
	gr = &genRequest{topK: -1}
	hasPrompt, hasTokens := !isNull(req.Prompt), req.Tokens != nil
	promptField := "prompt"
	if hasTokens {
		promptField = "tokens"
	}
	switch {
	case hasPrompt && hasTokens:
		return nil, false, false, invalid("tokens", "send either prompt or tokens, not both")
	case hasPrompt:
		if !textOK {
			if text, e = promptText(req.Prompt); e != nil {
				return nil, false, false, e
			}
		}
		gr.prompt = s.tok.Tokenize(text)
	case hasTokens:
		if len(req.Tokens) == 0 {
			return nil, false, false, invalid("tokens", "must not be empty")
		}
		if e := s.checkTokens("tokens", req.Tokens); e != nil {
			return nil, false, false, e
		}
		gr.prompt = req.Tokens
	default:
		return nil, false, false, invalid("prompt", "either prompt or tokens is required")
	}
	gr.h = ctxHash(gr.prompt)

	if req.MaxTokens != nil && req.MaxTotalTokens != nil {
		return nil, false, false, invalid("max_total_tokens", "only one of max_tokens and max_total_tokens is allowed")
	}
	if req.MinTokens != nil && req.MinTotalTokens != nil {
		return nil, false, false, invalid("min_total_tokens", "only one of min_tokens and min_total_tokens is allowed")
	}
	lf := lengthFields{
		prompt: promptField, promptTokens: len(gr.prompt),
		maxTokensName: "max_tokens", maxTokens: req.MaxTokens, maxTotal: req.MaxTotalTokens,
		minTokens: req.MinTokens, minTotal: req.MinTotalTokens,
	}
	if gr.maxOut, gr.minOut, e = s.lengths(lf); e != nil {
		return nil, false, false, e
	}
	if req.ForcedOutputTokens != nil {
		forced := req.ForcedOutputTokens
		if len(forced) == 0 {
			return nil, false, false, invalid("forced_output_tokens", "must not be empty")
		}
		if e := s.checkTokens("forced_output_tokens", forced); e != nil {
			return nil, false, false, e
		}
		if len(forced) > gr.maxOut {
			switch {
			case req.MaxTokens != nil:
				return nil, false, false, invalid("max_tokens", "%d forced output tokens exceed the maximum output of %d tokens", len(forced), gr.maxOut)
			case req.MaxTotalTokens != nil:
				return nil, false, false, invalid("max_total_tokens", "%d forced output tokens exceed the maximum output of %d tokens after the prompt's %d", len(forced), gr.maxOut, len(gr.prompt))
			}
			return nil, false, false, invalid("forced_output_tokens", "the prompt (%d tokens) plus %d forced tokens exceeds the model's max length %d", len(gr.prompt), len(forced), s.cfg.MaxContext)
		}
		gr.forced = forced
		// Generation ends with the forced tokens: "length" when they fill
		// the allowed output, "stop" otherwise.
		gr.forcedFinish = "stop"
		if len(forced) == gr.maxOut {
			gr.forcedFinish = "length"
		}
		gr.maxOut = len(forced)
		gr.minOut = 0
	}
	if gr.n, e = checkN(req.N); e != nil {
		return nil, false, false, e
	}
	if req.Logprobs != nil {
		k := *req.Logprobs
		limit := s.tok.VocabSize()
		if s.cfg.MaxLogprobs > 0 {
			limit = min(limit, s.cfg.MaxLogprobs)
		}
		if k < 0 || k > limit {
			return nil, false, false, invalid("logprobs", "%d must be in [0, %d]", k, limit)
		}
		gr.topK = k
	} else if s.cfg.Quirks.LegacyLogprobs && req.IncludeOutputLogprobs != nil && *req.IncludeOutputLogprobs {
		gr.topK = 0
	}
	if gr.seeds, e = parseSeeds(req.Seed, gr.n); e != nil {
		return nil, false, false, e
	}
	if gr.samp, e = parseSampling(req.samplingFields); e != nil {
		return nil, false, false, e
	}
	if e = gr.setStops(req.Stop); e != nil {
		return nil, false, false, e
	}
	for i, st := range req.StopTokens {
		if len(st.Tokens) == 0 {
			return nil, false, false, invalid("stop_tokens", "element %d has no tokens", i)
		}
		if e := s.checkTokens("stop_tokens", st.Tokens); e != nil {
			return nil, false, false, e
		}
		gr.stopToks = append(gr.stopToks, st.Tokens)
	}
	if e := s.checkEOSTokens(req.EOSToken, gr.minOut); e != nil {
		return nil, false, false, e
	}
	gr.eosExtra = req.EOSToken
	if e := checkUnsupported(req.unsupportedFields); e != nil {
		return nil, false, false, e
	}
	stream = req.Stream != nil && *req.Stream
	if req.StreamOptions != nil && !stream {
		return nil, false, false, invalid("stream_options", "can only be used when stream is true")
	}
	usage = stream && (s.cfg.Quirks.StreamUsageAlways ||
		(req.StreamOptions != nil && req.StreamOptions.IncludeUsage != nil && *req.StreamOptions.IncludeUsage))
	return gr, stream, usage, nil
}

// promptText reads "prompt": a string, or a list holding exactly one.
// Batched prompts (several strings) are refused: how the API maps them to
// choices is undocumented, so the simulator does not guess.
func promptText(raw json.RawMessage) (string, *apiError) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", invalid("prompt", "expected a string, got %s", clipRaw(raw))
	}
	if len(list) != 1 {
		return "", invalid("prompt", "batched prompts (a list of %d strings) are not supported; send one request per prompt", len(list))
	}
	return list[0], nil
}
