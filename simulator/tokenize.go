package simulator

import (
	"encoding/json"
	"net/http"
)

// tokenize answers /tokenize: {"tokens":[BOS, ...]}. It takes no capacity
// slot; Latency.Tokenize is its whole latency.
func (s *Server) tokenize(w http.ResponseWriter, r *http.Request, rt route, body []byte) {
	var req tokenizeRequest
	if e := decode(body, &req); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if _, _, e := s.resolve(rt.family, req.Model); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if isNull(req.Prompt) {
		s.fail(w, rt.path, invalid("prompt", "required"))
		return
	}
	text, e := tokenizePrompt(req.Prompt)
	if e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if sleep(r.Context(), s.cfg.Latency.Tokenize) != nil {
		return
	}
	b := append([]byte(nil), `{"tokens":`...)
	b = appendInts(b, s.tok.Tokenize(text))
	s.reply(w, rt.path, http.StatusOK, "application/json", append(b, '}'))
}

func tokenizePrompt(raw []byte) (string, *apiError) {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return "", invalid("prompt", "expected a string, got %s", clipRaw(raw))
	}
	return text, nil
}

// detokenize answers /detokenize: {"text": ...}; special tokens render as
// nothing.
func (s *Server) detokenize(w http.ResponseWriter, r *http.Request, rt route, body []byte) {
	var req detokenizeRequest
	if e := decode(body, &req); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if _, _, e := s.resolve(rt.family, req.Model); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	if req.Tokens == nil {
		s.fail(w, rt.path, invalid("tokens", "required"))
		return
	}
	if e := s.checkTokens("tokens", req.Tokens); e != nil {
		s.fail(w, rt.path, e)
		return
	}
	text, _ := s.tok.Detokenize(req.Tokens)
	if sleep(r.Context(), s.cfg.Latency.Tokenize) != nil {
		return
	}
	b := append([]byte(nil), `{"text":`...)
	b = appendString(b, text)
	s.reply(w, rt.path, http.StatusOK, "application/json", append(b, '}'))
}
