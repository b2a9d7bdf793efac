package endpoint

import (
	"encoding/json"
	"strconv"
)

// CompletionResponse is a /v1/completions reply.
type CompletionResponse struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Model  string `json:"model"`
	// Created is absent from the completions schema; nil when not sent.
	Created *int64             `json:"created,omitempty"`
	Choices []CompletionChoice `json:"choices"`
	Usage   Usage              `json:"usage"`
}

// CompletionChoice is one generated result.
type CompletionChoice struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
	// Seed is the seed the server used. It is informational, so it is read
	// leniently: a number or numeric string; anything else (absent, null,
	// negative, a list) leaves it nil rather than failing the reply.
	Seed *uint64 `json:"seed,omitempty"`
	// FinishReason is "stop" or "length"; "" when not given.
	FinishReason string `json:"finish_reason"`
	// Tokens are the generated (or forced) token IDs.
	Tokens   []int     `json:"tokens,omitempty"`
	Logprobs *Logprobs `json:"logprobs,omitempty"`
}

// Usage counts tokens. CachedTokens comes from
// prompt_tokens_details.cached_tokens (0 when absent or null).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	CachedTokens     int `json:"-"`
}

type usageWire struct {
	PromptTokens        int                 `json:"prompt_tokens"`
	CompletionTokens    int                 `json:"completion_tokens"`
	TotalTokens         int                 `json:"total_tokens"`
	PromptTokensDetails *promptTokenDetails `json:"prompt_tokens_details,omitempty"`
}

type promptTokenDetails struct {
	CachedTokens *int `json:"cached_tokens"`
}

func (u *Usage) UnmarshalJSON(b []byte) error {
	if isNull(trimWS(b)) {
		return nil
	}
	var w usageWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = Usage{PromptTokens: w.PromptTokens, CompletionTokens: w.CompletionTokens, TotalTokens: w.TotalTokens}
	if w.PromptTokensDetails != nil && w.PromptTokensDetails.CachedTokens != nil {
		u.CachedTokens = *w.PromptTokensDetails.CachedTokens
	}
	return nil
}

// MarshalJSON writes the wire shape, so a Usage round-trips.
func (u Usage) MarshalJSON() ([]byte, error) {
	w := usageWire{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CachedTokens != 0 {
		w.PromptTokensDetails = &promptTokenDetails{CachedTokens: &u.CachedTokens}
	}
	return json.Marshal(w)
}

// ChatResponse is a /v1/chat/completions reply.
type ChatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Model   string       `json:"model"`
	Created int64        `json:"created"`
	Choices []ChatChoice `json:"choices"`
	Usage   Usage        `json:"usage"`
}

// ChatChoice is one generated message.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      Message       `json:"message"`
	FinishReason string        `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs,omitempty"`
}

// completionWire is CompletionResponse as read: token IDs strictly, the seed
// leniently.
type completionWire struct {
	ID      string                 `json:"id"`
	Object  string                 `json:"object"`
	Model   string                 `json:"model"`
	Created *int64                 `json:"created"`
	Choices []completionChoiceWire `json:"choices"`
	Usage   Usage                  `json:"usage"`
}

type completionChoiceWire struct {
	Index        int       `json:"index"`
	Text         string    `json:"text"`
	Seed         seedWire  `json:"seed"`
	FinishReason string    `json:"finish_reason"`
	Tokens       ints      `json:"tokens"`
	Logprobs     *Logprobs `json:"logprobs"`
}

var completionShape = obj(f("id", strNode), f("object", strNode), f("model", strNode), f("created", intNode),
	f("choices", list(obj(f("index", intNode), f("text", strNode), f("finish_reason", strNode),
		f("tokens", intsNode), f("logprobs", logprobsNode)))),
	f("usage", usageNode))

var chatShape = obj(f("id", strNode), f("object", strNode), f("model", strNode), f("created", intNode),
	f("choices", list(obj(f("index", intNode), f("finish_reason", strNode),
		f("message", obj(f("role", strNode), f("content", strNode), f("reasoning_content", strNode))),
		f("logprobs", chatLPNode)))),
	f("usage", usageNode))

// decodeCompletion decodes a completions reply: with fastjson (p) when it
// has the usual shape, else strictly.
func decodeCompletion(d *fastDecoder, data []byte) (*CompletionResponse, error) {
	var w completionWire
	if !d.fastCompletionReply(data, &w) {
		w = completionWire{}
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, explainDecode(completionShape, data, err)
		}
	}
	r := &CompletionResponse{ID: w.ID, Object: w.Object, Model: w.Model, Created: w.Created, Usage: w.Usage}
	if w.Choices != nil {
		r.Choices = make([]CompletionChoice, len(w.Choices))
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		r.Choices[i] = CompletionChoice{
			Index: c.Index, Text: c.Text, Seed: c.Seed.ptr(), FinishReason: finishReason(c.FinishReason),
			Tokens: c.Tokens, Logprobs: c.Logprobs,
		}
	}
	return r, nil
}

func decodeChat(data []byte) (*ChatResponse, error) {
	var r ChatResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, explainDecode(chatShape, data, err)
	}
	for i := range r.Choices {
		r.Choices[i].FinishReason = finishReason(r.Choices[i].FinishReason)
	}
	return &r, nil
}

// finishReason maps the string "null", which the API sends for "not
// finished" alongside JSON null, to "".
func finishReason(s string) string {
	if s == "null" {
		return ""
	}
	return s
}

// seedWire reads a seed leniently (see CompletionChoice.Seed).
type seedWire struct {
	v  uint64
	ok bool
}

func (s *seedWire) UnmarshalJSON(b []byte) error {
	b = trimWS(b)
	if len(b) > 1 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	if v, err := strconv.ParseUint(string(b), 10, 64); err == nil {
		*s = seedWire{v: v, ok: true}
	}
	return nil
}

func (s seedWire) ptr() *uint64 {
	if !s.ok {
		return nil
	}
	v := s.v
	return &v
}

// tokenIDs reads a stream chunk's "token": one ID, a list of them, or null.
type tokenIDs struct {
	one  int
	has  bool
	list []int
}

func (t *tokenIDs) UnmarshalJSON(b []byte) error {
	b = trimWS(b)
	switch {
	case len(b) == 0 || isNull(b):
		*t = tokenIDs{}
	case b[0] == '[':
		l, err := parseInts(b)
		if err != nil {
			return err
		}
		*t = tokenIDs{list: l}
	default:
		v, bad := parseIntLit(b)
		if bad != "" {
			return shapef("", "got %s, want a token ID or a list of them", kindOf(b))
		}
		*t = tokenIDs{one: v, has: true}
	}
	return nil
}

type tokenizeWire struct {
	Tokens *ints `json:"tokens"`
}

type detokenizeWire struct {
	Text *string `json:"text"`
}

var (
	tokenizeShape   = obj(f("tokens", intsNode))
	detokenizeShape = obj(f("text", strNode))
)
