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
// surrogate; fastjson keeps it).
func fastEligible(data []byte) bool {
	if !utf8.Valid(data) {
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

// keySet notes the keys an object has given, to refuse repeats.
type keySet uint16

func (k *keySet) first(bit int) bool {
	if *k&(1<<bit) != 0 {
		return false
	}
	*k |= 1 << bit
	return true
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
	o, err := v.Object()
	if err != nil {
		return false
	}
	u := &Usage{}
	var seen keySet
	ok := true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		switch string(key) {
		case "prompt_tokens":
			ok = seen.first(0) && fastInt(x, &u.PromptTokens)
		case "completion_tokens":
			ok = seen.first(1) && fastInt(x, &u.CompletionTokens)
		case "total_tokens":
			ok = seen.first(2) && fastInt(x, &u.TotalTokens)
		case "prompt_tokens_details":
			// Rare, and nested: the strict decoder reads it.
			ok = isNullValue(x)
		default:
			ok = !foldsTo(key, usageKeys...)
		}
	})
	*dst = u
	return ok
}

var (
	completionKeys       = []string{"event", "index", "text", "token", "choices", "usage", "error"}
	completionChoiceKeys = []string{"index", "text", "token", "tokens", "finish_reason", "logprobs"}
	chatKeys             = []string{"choices", "usage", "error"}
	chatChoiceKeys       = []string{"index", "delta", "finish_reason", "logprobs"}
	chatDeltaKeys        = []string{"content", "reasoning_content", "reasoning", "tool_calls"}
)

// fastCompletion fills w (zero but for its choices' capacity) from a
// completions stream event, or reports false.
func fastCompletion(p *fastjson.Parser, data []byte, w *completionChunkWire) bool {
	if !fastEligible(data) {
		return false
	}
	v, err := p.ParseBytes(data)
	if err != nil {
		return false
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	var seen keySet
	ok := true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		switch string(key) {
		case "event":
			ok = seen.first(0) && fastString(x, &w.Event)
		case "index":
			ok = seen.first(1) && fastInt(x, &w.Index)
		case "text":
			ok = seen.first(2) && fastString(x, &w.Text)
		case "token":
			ok = seen.first(3) && fastTokenIDs(x, &w.Token)
		case "choices":
			ok = seen.first(4) && fastCompletionChoices(x, w)
		case "usage":
			ok = seen.first(5) && fastUsage(x, &w.Usage)
		case "error":
			ok = isNullValue(x)
		default:
			ok = !foldsTo(key, completionKeys...)
		}
	})
	return ok
}

func fastCompletionChoices(v *fastjson.Value, w *completionChunkWire) bool {
	if isNullValue(v) {
		return true
	}
	a, err := v.Array()
	if err != nil {
		return false
	}
	for _, x := range a {
		o, err := x.Object()
		if err != nil {
			return false
		}
		w.Choices = append(w.Choices, completionStreamChoice{})
		c := &w.Choices[len(w.Choices)-1]
		var seen keySet
		ok := true
		o.Visit(func(key []byte, x *fastjson.Value) {
			if !ok {
				return
			}
			switch string(key) {
			case "index":
				ok = seen.first(0) && fastInt(x, &c.Index)
			case "text":
				ok = seen.first(1) && fastString(x, &c.Text)
			case "token":
				ok = seen.first(2) && fastTokenIDs(x, &c.Token)
			case "tokens":
				var l []int
				l, ok = fastInts(x)
				ok = ok && seen.first(3)
				c.Tokens = l
			case "finish_reason":
				ok = seen.first(4) && fastString(x, &c.FinishReason)
			case "logprobs":
				ok = isNullValue(x)
			default:
				ok = !foldsTo(key, completionChoiceKeys...)
			}
		})
		if !ok {
			return false
		}
	}
	return true
}

// fastChat fills w (zero but for its choices' capacity) from a chat stream
// event, or reports false.
func fastChat(p *fastjson.Parser, data []byte, w *chatChunkWire) bool {
	if !fastEligible(data) {
		return false
	}
	v, err := p.ParseBytes(data)
	if err != nil {
		return false
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	var seen keySet
	ok := true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		switch string(key) {
		case "choices":
			ok = seen.first(0) && fastChatChoices(x, w)
		case "usage":
			ok = seen.first(1) && fastUsage(x, &w.Usage)
		case "error":
			ok = isNullValue(x)
		default:
			ok = !foldsTo(key, chatKeys...)
		}
	})
	return ok
}

func fastChatChoices(v *fastjson.Value, w *chatChunkWire) bool {
	if isNullValue(v) {
		return true
	}
	a, err := v.Array()
	if err != nil {
		return false
	}
	for _, x := range a {
		o, err := x.Object()
		if err != nil {
			return false
		}
		w.Choices = append(w.Choices, chatStreamChoice{})
		c := &w.Choices[len(w.Choices)-1]
		var seen keySet
		ok := true
		o.Visit(func(key []byte, x *fastjson.Value) {
			if !ok {
				return
			}
			switch string(key) {
			case "index":
				ok = seen.first(0) && fastInt(x, &c.Index)
			case "delta":
				ok = seen.first(1) && fastChatDelta(x, &c.Delta)
			case "finish_reason":
				ok = seen.first(2) && fastString(x, &c.FinishReason)
			case "logprobs":
				ok = isNullValue(x)
			default:
				ok = !foldsTo(key, chatChoiceKeys...)
			}
		})
		if !ok {
			return false
		}
	}
	return true
}

func fastChatDelta(v *fastjson.Value, d *chatDelta) bool {
	if isNullValue(v) {
		return true
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	var seen keySet
	ok := true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		switch string(key) {
		case "content":
			ok = seen.first(0) && fastString(x, &d.Content)
		case "reasoning_content":
			ok = seen.first(1) && fastString(x, &d.ReasoningContent)
		case "reasoning":
			ok = seen.first(2) && fastString(x, &d.Reasoning)
		case "tool_calls":
			// Tool-call deltas are nested and rare: the strict decoder reads them.
			ok = isNullValue(x)
		default:
			ok = !foldsTo(key, chatDeltaKeys...)
		}
	})
	return ok
}
