package endpoint

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// A load test decodes thousands of stream events a second, and
// encoding/json spends most of that time in reflection. The common event
// shapes are therefore parsed with fastjson and copied into the same wire
// structs the strict decoder fills, so the code that turns them into chunks
// cannot tell the two apart. Whatever is off the common path (a value of
// another type, logprobs, tool calls, an error field, a key that matches
// one of ours only without regard to case, a repeated key, invalid UTF-8,
// an escaped surrogate) makes the fast path decline, and the strict
// decoder decodes the event and gives its answer or its error. A fuzz test
// holds the two to the same chunks.

// fastEligible says the event is one the fast path can read exactly as
// encoding/json would: valid JSON, valid UTF-8 (encoding/json would replace
// bad bytes), and no \uD800-\uDFFF escapes (it would replace a lone
// surrogate; fastjson keeps it). fastjson's validator misses a raw control
// character that comes before an escape in the same string, so text with
// both is left to encoding/json too.
func fastEligible(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	if bytes.IndexByte(data, '\\') >= 0 && bytes.IndexFunc(data, func(r rune) bool { return r < 0x20 }) >= 0 {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(`\u`))
		if j < 0 {
			break
		}
		i += j + 2
		if i < len(data) && (data[i] == 'd' || data[i] == 'D') {
			return false
		}
	}
	return fastjson.ValidateBytes(data) == nil
}

// foldsTo says key equals one of names only without regard to case:
// encoding/json would match it, the fast path would not.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(n) == len(key) && string(key) != n && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// Setters: each copies one value as encoding/json would into a field that
// starts out zero, and reports false for a value it would not take quietly.

func fastString(v *fastjson.Value, dst *string) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		*dst = string(b)
		return true
	}
	return false
}

func fastInt(v *fastjson.Value, dst *int) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, err := v.Int()
		*dst = n
		return err == nil
	}
	return false
}

// fastInts reads a list of integers: null is nil, [] an empty list.
func fastInts(v *fastjson.Value) ([]int, bool) {
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, true
	case fastjson.TypeArray:
		a, _ := v.Array()
		out := make([]int, len(a))
		for i, x := range a {
			if x.Type() != fastjson.TypeNumber {
				return nil, false
			}
			n, err := x.Int()
			if err != nil {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	return nil, false
}

func fastTokenIDs(v *fastjson.Value, dst *tokenIDs) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, err := v.Int()
		*dst = tokenIDs{one: n, has: true}
		return err == nil
	case fastjson.TypeArray:
		l, ok := fastInts(v)
		*dst = tokenIDs{list: l}
		return ok
	}
	return false
}

func isNullValue(v *fastjson.Value) bool { return v.Type() == fastjson.TypeNull }

var usageKeys = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"}

// fastUsage reads a usage object; null leaves dst nil.
func fastUsage(v *fastjson.Value, dst **Usage) bool {
	if isNullValue(v) {
		return true
	}
	u := &Usage{}
	*dst = u
	return object(v, usageKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "prompt_tokens":
			return fastInt(x, &u.PromptTokens)
		case "completion_tokens":
			return fastInt(x, &u.CompletionTokens)
		case "total_tokens":
			return fastInt(x, &u.TotalTokens)
		}
		// prompt_tokens_details is rare, and nested: the strict decoder
		// reads it.
		return isNullValue(x)
	})
}

var (
	completionKeys       = []string{"event", "index", "text", "token", "choices", "usage", "error"}
	completionChoiceKeys = []string{"index", "text", "token", "tokens", "finish_reason", "logprobs"}
	chatKeys             = []string{"choices", "usage", "error"}
	chatChoiceKeys       = []string{"index", "delta", "finish_reason", "logprobs"}
	chatDeltaKeys        = []string{"content", "reasoning_content", "reasoning", "tool_calls"}
)

// object reads the object v member by member, as encoding/json would: a
// member named in known goes to field (which reports whether it took the
// value); any other is ignored, unless it matches a known name only
// without regard to case, which encoding/json would take. A known name
// given twice declines the object. v must be an object.
func object(v *fastjson.Value, known []string, field func(key string, x *fastjson.Value) bool) bool {
	o, err := v.Object()
	if err != nil {
		return false
	}
	var seen uint32
	ok := true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		for i, k := range known {
			if string(key) == k {
				if seen&(1<<i) != 0 {
					ok = false
					return
				}
				seen |= 1 << i
				ok = field(k, x)
				return
			}
		}
		ok = !foldsTo(key, known...)
	})
	return ok
}

// objects appends to dst one element per object of the list v (null is no
// list), each read by object with field.
func objects[T any](v *fastjson.Value, dst *[]T, known []string, field func(c *T, key string, x *fastjson.Value) bool) bool {
	if isNullValue(v) {
		return true
	}
	a, err := v.Array()
	if err != nil {
		return false
	}
	for _, x := range a {
		*dst = append(*dst, *new(T))
		c := &(*dst)[len(*dst)-1]
		if !object(x, known, func(key string, x *fastjson.Value) bool { return field(c, key, x) }) {
			return false
		}
	}
	return true
}

// parseEvent parses data as an object, if the fast path can take it.
func parseEvent(p *fastjson.Parser, data []byte) *fastjson.Value {
	if !fastEligible(data) {
		return nil
	}
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil
	}
	return v
}

// fastCompletion fills w (zero but for its choices' capacity) from a
// completions stream event, or reports false.
func fastCompletion(p *fastjson.Parser, data []byte, w *completionChunkWire) bool {
	v := parseEvent(p, data)
	return v != nil && object(v, completionKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "event":
			return fastString(x, &w.Event)
		case "index":
			return fastInt(x, &w.Index)
		case "text":
			return fastString(x, &w.Text)
		case "token":
			return fastTokenIDs(x, &w.Token)
		case "choices":
			return objects(x, &w.Choices, completionChoiceKeys, completionChoiceField)
		case "usage":
			return fastUsage(x, &w.Usage)
		}
		return isNullValue(x) // error: anything but null is for the strict decoder
	})
}

func completionChoiceField(c *completionStreamChoice, key string, x *fastjson.Value) bool {
	switch key {
	case "index":
		return fastInt(x, &c.Index)
	case "text":
		return fastString(x, &c.Text)
	case "token":
		return fastTokenIDs(x, &c.Token)
	case "tokens":
		l, ok := fastInts(x)
		c.Tokens = l
		return ok
	case "finish_reason":
		return fastString(x, &c.FinishReason)
	}
	return isNullValue(x) // logprobs: the strict decoder reads them
}

// fastChat fills w (zero but for its choices' capacity) from a chat stream
// event, or reports false.
func fastChat(p *fastjson.Parser, data []byte, w *chatChunkWire) bool {
	v := parseEvent(p, data)
	return v != nil && object(v, chatKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "choices":
			return objects(x, &w.Choices, chatChoiceKeys, chatChoiceField)
		case "usage":
			return fastUsage(x, &w.Usage)
		}
		return isNullValue(x) // error
	})
}

func chatChoiceField(c *chatStreamChoice, key string, x *fastjson.Value) bool {
	switch key {
	case "index":
		return fastInt(x, &c.Index)
	case "delta":
		return isNullValue(x) || object(x, chatDeltaKeys, func(key string, x *fastjson.Value) bool {
			return chatDeltaField(&c.Delta, key, x)
		})
	case "finish_reason":
		return fastString(x, &c.FinishReason)
	}
	return isNullValue(x) // logprobs: the strict decoder reads them
}

func chatDeltaField(d *chatDelta, key string, x *fastjson.Value) bool {
	switch key {
	case "content":
		return fastString(x, &d.Content)
	case "reasoning_content":
		return fastString(x, &d.ReasoningContent)
	case "reasoning":
		return fastString(x, &d.Reasoning)
	}
	// Tool-call deltas are nested and rare: the strict decoder reads them.
	return isNullValue(x)
}
