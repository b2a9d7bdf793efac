package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxTopLogprobs bounds chat's top_logprobs, as OpenAI does.
const maxTopLogprobs = 20

// Tool types of the tool-assisted API (/serverless/tools/v1). Only the
// calculator is simulated.
const toolCalculator = "math:calculator"

func (s *Server) chat(w http.ResponseWriter, r *http.Request, rt route, f fault, body []byte, arrived time.Time) {
	var req chatRequest
	if e := decode(body, &req); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	m, name, e := s.resolve(rt.family, req.Model)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	gr, stream, usage, e := s.chatRequest(&req, rt.op == opToolsChat)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	gr.m = m
	j := s.newJob(rt.op, rt.path, gr, f, name, arrived)
	j.stream, j.includeUsage = stream, usage
	j.chatLogprobs = req.Logprobs != nil && *req.Logprobs
	s.run(w, r, j)
}

func (s *Server) chatRequest(req *chatRequest, tools bool) (gr *genRequest, stream, usage bool, e *apiError) {
	gr = &genRequest{topK: -1}
	prompt, last, e := renderChat(req.Messages)
	if e != nil {
		return nil, false, false, e
	}
	gr.prompt = s.tok.Tokenize(prompt)
	gr.h = ctxHash(gr.prompt)
	lf := lengthFields{prompt: "messages", promptTokens: len(gr.prompt), maxTokensName: "max_tokens", maxTokens: req.MaxTokens, minTokens: req.MinTokens}
	if lf.maxTokens == nil {
		lf.maxTokensName, lf.maxTokens = "max_completion_tokens", req.MaxCompletionTokens
	}
	if gr.maxOut, gr.minOut, e = s.lengths(lf); e != nil {
		return nil, false, false, e
	}
	if gr.n, e = checkN(req.N); e != nil {
		return nil, false, false, e
	}
	wantLogprobs := req.Logprobs != nil && *req.Logprobs
	if req.TopLogprobs != nil {
		if !wantLogprobs {
			return nil, false, false, invalid("top_logprobs", "logprobs must be set to true if this parameter is used")
		}
		if k := *req.TopLogprobs; k < 0 || k > maxTopLogprobs {
			return nil, false, false, invalid("top_logprobs", "%d must be in [0, %d]", k, maxTopLogprobs)
		}
	}
	if wantLogprobs {
		gr.topK = 0
		if req.TopLogprobs != nil {
			gr.topK = *req.TopLogprobs
		}
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
	if e := s.checkEOSTokens(req.EOSToken, gr.minOut); e != nil {
		return nil, false, false, e
	}
	gr.eosExtra = req.EOSToken
	if e := checkUnsupported(req.unsupportedFields); e != nil {
		return nil, false, false, e
	}
	if t := strings.TrimSpace(string(req.LogitBias)); t != "" && t != "null" && t != "{}" {
		return nil, false, false, invalid("logit_bias", "not supported by the simulator")
	}
	calculator := false
	for i, t := range req.Tools {
		switch {
		case tools && t.Type == toolCalculator:
			calculator = true
		case tools:
			return nil, false, false, invalid("tools", "element %d: tool type %q is not supported (the simulator offers %q)", i, t.Type, toolCalculator)
		case t.Type != "function":
			return nil, false, false, invalid("tools", "element %d: tool type %q is not supported; use \"function\"", i, t.Type)
		}
		// Function tools are accepted; the simulated model never calls them.
	}
	if calculator {
		if answer, ok := calculate(last); ok {
			forced := s.tok.AppendTokens(nil, answer)
			gr.forcedFinish = "stop"
			if len(forced) > gr.maxOut {
				forced, gr.forcedFinish = forced[:gr.maxOut], "length"
			}
			gr.forced, gr.maxOut, gr.minOut = forced, len(forced), 0
		}
	}
	stream = req.Stream != nil && *req.Stream
	if req.StreamOptions != nil && !stream {
		return nil, false, false, invalid("stream_options", "can only be used when stream is true")
	}
	usage = stream && (s.cfg.Quirks.StreamUsageAlways ||
		(req.StreamOptions != nil && req.StreamOptions.IncludeUsage != nil && *req.StreamOptions.IncludeUsage))
	return gr, stream, usage, nil
}

// renderChat applies the simulator's chat template:
//
//	<|role|>\ncontent\n ... <|assistant|>\n
//
// and returns the prompt and the last user message.
func renderChat(msgs []chatMessage) (prompt, lastUser string, e *apiError) {
	if len(msgs) == 0 {
		return "", "", invalid("messages", "at least one message is required")
	}
	var b strings.Builder
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return "", "", invalid(fmt.Sprintf("messages.%d.role", i), "%q is not one of system, developer, user, assistant, tool", m.Role)
		}
		text, e := messageText(i, m.Content)
		if e != nil {
			return "", "", e
		}
		if m.Role == "user" {
			lastUser = text
		}
		b.WriteString("<|")
		b.WriteString(m.Role)
		b.WriteString("|>\n")
		b.WriteString(text)
		b.WriteString("\n")
	}
	b.WriteString("<|assistant|>\n")
	return b.String(), lastUser, nil
}

// messageText reads a message's content: a string, null, or a list of
// {"type":"text","text":..} parts.
func messageText(i int, raw json.RawMessage) (string, *apiError) {
	field := fmt.Sprintf("messages.%d.content", i)
	if isNull(raw) {
		return "", nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text, nil
	}
	var parts []chatContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", invalid(field, "expected a string or a list of content parts, got %s", clipRaw(raw))
	}
	var b strings.Builder
	for k, p := range parts {
		if p.Type != "text" {
			return "", invalid(field, "part %d: type %q is not supported by the simulator (text only)", k, p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// render answers /chat/render with the templated prompt.
func (s *Server) render(w http.ResponseWriter, rt route, body []byte) {
	var req renderRequest
	if e := decode(body, &req); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if _, _, e := s.resolve(rt.family, req.Model); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	prompt, _, e := renderChat(req.Messages)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	b := []byte(`{"text":`)
	b = appendString(b, prompt)
	s.reply(w, rt.path, http.StatusOK, "application/json", append(b, '}'))
}
