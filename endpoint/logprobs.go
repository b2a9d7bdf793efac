package endpoint

import (
	"bytes"
	"encoding/json"
)

// Logprobs is a completions choice's logprobs: the current object of
// parallel lists, or the legacy list of floats (one per generated or forced
// token) that older engines return.
type Logprobs struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	// Legacy is set when the reply was the legacy list-of-floats shape: only
	// TokenLogprobs is set.
	Legacy bool `json:"-"`
}

// logprobsPlain has Logprobs' fields without its methods, for the fast path.
type logprobsPlain struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// UnmarshalJSON accepts the object shape, the legacy []float64 (setting
// Legacy) and null (no change). Anything else, and any null, string or
// other non-number where a number belongs, is an error naming the field and
// index, e.g. "logprobs.token_logprobs[3]: got null, want a number".
func (lp *Logprobs) UnmarshalJSON(b []byte) error {
	if err := lp.decode(b); err != nil {
		return under("logprobs", err)
	}
	return nil
}

// decode is UnmarshalJSON with errors relative to the logprobs value.
func (lp *Logprobs) decode(b []byte) error {
	b = trimWS(b)
	switch {
	case len(b) == 0:
		return shapef("", "empty value")
	case isNull(b):
		return nil
	case b[0] == '[':
		v, err := parseFloats(b)
		if err != nil {
			return err
		}
		*lp = Logprobs{TokenLogprobs: v, Legacy: true}
		return nil
	case b[0] == '{':
		// With no null anywhere, encoding/json is strict enough: every
		// other misplaced kind is a type error. Only then, and for a
		// precise message, take the slow path.
		if !bytes.Contains(b, nullLit) {
			var w logprobsPlain
			if json.Unmarshal(b, &w) == nil {
				*lp = Logprobs{TextOffset: w.TextOffset, TokenLogprobs: w.TokenLogprobs, Tokens: w.Tokens, TopLogprobs: w.TopLogprobs}
				return nil
			}
		}
		return lp.decodeStrict(b)
	}
	return shapef("", "got %s, want an object or a list of numbers", kindOf(b))
}

func (lp *Logprobs) decodeStrict(b []byte) error {
	var raw struct {
		TextOffset    json.RawMessage `json:"text_offset"`
		TokenLogprobs json.RawMessage `json:"token_logprobs"`
		Tokens        json.RawMessage `json:"tokens"`
		TopLogprobs   json.RawMessage `json:"top_logprobs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return shapef("", "%v", err)
	}
	var out Logprobs
	var err error
	if out.TextOffset, err = parseInts(raw.TextOffset); err != nil {
		return under("text_offset", err)
	}
	if out.TokenLogprobs, err = parseFloats(raw.TokenLogprobs); err != nil {
		return under("token_logprobs", err)
	}
	if out.Tokens, err = parseStrings(raw.Tokens); err != nil {
		return under("tokens", err)
	}
	if out.TopLogprobs, err = parseTopLogprobs(raw.TopLogprobs); err != nil {
		return under("top_logprobs", err)
	}
	*lp = out
	return nil
}

// MarshalJSON writes the shape the value was read from: the legacy list when
// Legacy is set, else the object.
func (lp *Logprobs) MarshalJSON() ([]byte, error) {
	if lp.Legacy {
		return json.Marshal(lp.TokenLogprobs)
	}
	return json.Marshal(logprobsPlain{TextOffset: lp.TextOffset, TokenLogprobs: lp.TokenLogprobs, Tokens: lp.Tokens, TopLogprobs: lp.TopLogprobs})
}

// ChatLogprobs is a chat choice's logprobs (OpenAI style).
type ChatLogprobs struct {
	Content []ChatTokenLogprob `json:"content"`
}

// ChatTokenLogprob is one generated token with its alternatives.
type ChatTokenLogprob struct {
	Token       string           `json:"token"`
	Logprob     float64          `json:"logprob"`
	Bytes       []int            `json:"bytes,omitempty"`
	TopLogprobs []ChatTopLogprob `json:"top_logprobs"`
}

// ChatTopLogprob is one alternative token.
type ChatTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes,omitempty"`
}

type chatLogprobsPlain struct {
	Content []ChatTokenLogprob `json:"content"`
}

// UnmarshalJSON decodes strictly: a null or non-number logprob, or a null
// token, is an error naming the position (bytes may be null).
func (lp *ChatLogprobs) UnmarshalJSON(b []byte) error {
	if err := lp.decode(b); err != nil {
		return under("logprobs", err)
	}
	return nil
}

func (lp *ChatLogprobs) decode(b []byte) error {
	b = trimWS(b)
	switch {
	case len(b) == 0:
		return shapef("", "empty value")
	case isNull(b):
		return nil
	case b[0] != '{':
		return shapef("", "got %s, want an object", kindOf(b))
	}
	if !bytes.Contains(b, nullLit) {
		var w chatLogprobsPlain
		if json.Unmarshal(b, &w) == nil {
			lp.Content = w.Content
			return nil
		}
	}
	return lp.decodeStrict(b)
}

type chatEntryRaw struct {
	Token       json.RawMessage `json:"token"`
	Logprob     json.RawMessage `json:"logprob"`
	Bytes       json.RawMessage `json:"bytes"`
	TopLogprobs json.RawMessage `json:"top_logprobs"`
}

func (lp *ChatLogprobs) decodeStrict(b []byte) error {
	var raw struct {
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return shapef("", "%v", err)
	}
	c := trimWS(raw.Content)
	if len(c) == 0 || isNull(c) {
		lp.Content = nil
		return nil
	}
	if c[0] != '[' {
		return shapef("content", "got %s, want a list", kindOf(c))
	}
	var items []chatEntryRaw
	if err := json.Unmarshal(c, &items); err != nil {
		return shapef("content", "%v", err)
	}
	out := make([]ChatTokenLogprob, len(items))
	for i, it := range items {
		p := "content" + index(i)
		tok, lpv, bs, err := chatEntry(it)
		if err != nil {
			return under(p, err)
		}
		out[i] = ChatTokenLogprob{Token: tok, Logprob: lpv, Bytes: bs}
		top := trimWS(it.TopLogprobs)
		if len(top) == 0 || isNull(top) {
			continue
		}
		if top[0] != '[' {
			return shapef(p+".top_logprobs", "got %s, want a list", kindOf(top))
		}
		var alts []chatEntryRaw
		if err := json.Unmarshal(top, &alts); err != nil {
			return shapef(p+".top_logprobs", "%v", err)
		}
		out[i].TopLogprobs = make([]ChatTopLogprob, len(alts))
		for j, a := range alts {
			tok, lpv, bs, err := chatEntry(a)
			if err != nil {
				return under(p+".top_logprobs"+index(j), err)
			}
			out[i].TopLogprobs[j] = ChatTopLogprob{Token: tok, Logprob: lpv, Bytes: bs}
		}
	}
	lp.Content = out
	return nil
}

func chatEntry(e chatEntryRaw) (string, float64, []int, error) {
	t := trimWS(e.Token)
	if len(t) == 0 || t[0] != '"' {
		return "", 0, nil, shapef("token", "got %s, want a string", kindOf(t))
	}
	var tok string
	if err := json.Unmarshal(t, &tok); err != nil {
		return "", 0, nil, shapef("token", "%v", err)
	}
	v, bad := parseFloatLit(trimWS(e.Logprob))
	if bad != "" {
		return "", 0, nil, shapef("logprob", "got %s, want a number", kindOf(e.Logprob))
	}
	bs, err := parseInts(e.Bytes)
	if err != nil {
		return "", 0, nil, under("bytes", err)
	}
	return tok, v, bs, nil
}
