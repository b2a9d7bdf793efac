package endpoint

import (
	"bytes"
	"math/bits"
	"strconv"
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
// an escaped surrogate outside a pair, a number encoding/json refuses)
// makes the fast path decline, and the strict decoder decodes the event
// and gives its answer or its error. A fuzz test holds the two to the same
// chunks.

// fastDecoder is the fast path's state: a fastjson parser, and room for
// number literals, which fastjson hands out only by appending them to a
// slice (one on the stack would escape to the heap at every number). It is
// not safe for concurrent use.
type fastDecoder struct {
	p     fastjson.Parser
	num   [32]byte
	ascii bool // the parsed value's keys are ASCII
}

// parse parses data as a value, if the fast path can take it.
func (d *fastDecoder) parse(data []byte) *fastjson.Value {
	var ok bool
	if ok, d.ascii = fastEligible(data); !ok {
		return nil
	}
	v, err := d.p.ParseBytes(data)
	if err != nil {
		return nil
	}
	return v
}

// Setters: each copies one value as encoding/json would into a field that
// starts out zero, and reports false for a value it would not take quietly
// (a number fastjson takes and encoding/json refuses among them).

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

// fastFinish is fastString for a finish reason. A handful of values recur
// in every stream (Friendli sends the string "null" with each token), so
// those are set from constants rather than copied each event.
func fastFinish(v *fastjson.Value, dst *string) bool {
	if v.Type() == fastjson.TypeString {
		b, _ := v.StringBytes()
		switch string(b) {
		case "null":
			*dst = "null"
			return true
		case "length":
			*dst = "length"
			return true
		case "stop":
			*dst = "stop"
			return true
		case "tool_calls":
			*dst = "tool_calls"
			return true
		}
	}
	return fastString(v, dst)
}

func (d *fastDecoder) fastInt(v *fastjson.Value, dst *int) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, ok := d.int(v)
		*dst = n
		return ok
	}
	return false
}

// fastInts reads a list of integers: null is nil, [] an empty list.
func (d *fastDecoder) fastInts(v *fastjson.Value) ([]int, bool) {
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
			n, ok := d.int(x)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	return nil, false
}

func (d *fastDecoder) fastTokenIDs(v *fastjson.Value, dst *tokenIDs) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, ok := d.int(v)
		*dst = tokenIDs{one: n, has: true}
		return ok
	case fastjson.TypeArray:
		l, ok := d.fastInts(v)
		*dst = tokenIDs{list: l}
		return ok
	}
	return false
}

func isNullValue(v *fastjson.Value) bool { return v.Type() == fastjson.TypeNull }

var usageKeys = keys("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details")

// fastUsage reads a usage object; null leaves dst nil.
func (d *fastDecoder) fastUsage(v *fastjson.Value, dst **Usage) bool {
	if isNullValue(v) {
		return true
	}
	u := &Usage{}
	*dst = u
	return d.object(v, usageKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "prompt_tokens":
			return d.fastInt(x, &u.PromptTokens)
		case "completion_tokens":
			return d.fastInt(x, &u.CompletionTokens)
		case "total_tokens":
			return d.fastInt(x, &u.TotalTokens)
		}
		// prompt_tokens_details is rare, and nested: the strict decoder
		// reads it.
		return isNullValue(x)
	})
}

var (
	completionKeys       = keys("event", "index", "text", "token", "choices", "usage", "error")
	completionChoiceKeys = keys("index", "text", "token", "tokens", "finish_reason", "logprobs")
	chatKeys             = keys("choices", "usage", "error")
	chatChoiceKeys       = keys("index", "delta", "finish_reason", "logprobs")
	chatDeltaKeys        = keys("content", "reasoning_content", "reasoning", "tool_calls")
)

// keySet is the member names an object's reader takes, indexed by length
// and first byte: most members of an event are ones the reader ignores
// (id, object, model, created), and those two looks settle nearly every
// key without comparing it to any name.
type keySet struct {
	names   []string
	byLen   [32]uint32 // bit i: names[i] has this length
	byFirst [32]uint32 // bit i: names[i] starts with a byte of these low five bits
}

func keys(names ...string) *keySet {
	s := &keySet{names: names}
	for i, n := range names {
		if i >= 32 || n == "" || len(n) >= len(s.byLen) {
			panic("endpoint: keySet cannot hold " + strconv.Quote(n))
		}
		s.byLen[len(n)] |= 1 << i
		s.byFirst[n[0]&31] |= 1 << i
	}
	return s
}

// foldsTo says key equals one of the names only without regard to case:
// encoding/json would match it, the fast path would not. The names are
// lower-case ASCII, so an ASCII key folds to one only if it has that one's
// length and an upper-case letter, which settles most keys at a look.
// Unicode folding can change a key's length ("tokenſ" is "tokens" to
// encoding/json), so for a key that may hold more than ASCII (ascii
// false) lengths say nothing.
func (s *keySet) foldsTo(key []byte, ascii bool) bool {
	return !(ascii && s.noneOfLength(len(key))) && s.foldsToSlow(key)
}

func (s *keySet) noneOfLength(n int) bool { return n >= len(s.byLen) || s.byLen[n] == 0 }

func (s *keySet) foldsToSlow(key []byte) bool {
	plain := true
	for _, c := range key {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			plain = false
			break
		}
	}
	if plain {
		return false
	}
	for _, n := range s.names {
		if string(key) != n && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// index returns which of the names key is, or -1.
func (s *keySet) index(key []byte) int {
	if len(key) == 0 || len(key) >= len(s.byLen) {
		return -1
	}
	for m := s.byLen[len(key)] & s.byFirst[key[0]&31]; m != 0; m &= m - 1 {
		if i := bits.TrailingZeros32(m); string(key) == s.names[i] {
			return i
		}
	}
	return -1
}

// object reads the object v member by member, as encoding/json would: a
// member named in known goes to field (which reports whether it took the
// value); any other is ignored, unless it matches a known name only
// without regard to case, which encoding/json would take. A known name
// given twice declines the object, and so does a bad number in an ignored
// member.
func (d *fastDecoder) object(v *fastjson.Value, known *keySet, field func(key string, x *fastjson.Value) bool) bool {
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
		i := known.index(key)
		switch {
		case i < 0:
			ok = !known.foldsTo(key, d.ascii) && d.validNumbers(x)
		case seen&(1<<i) != 0:
			ok = false
		default:
			seen |= 1 << i
			ok = field(known.names[i], x)
		}
	})
	return ok
}

// objects appends to dst one element per object of the list v (null is no
// list), each read by d.object with field.
func objects[T any](d *fastDecoder, v *fastjson.Value, dst *[]T, known *keySet, field func(d *fastDecoder, c *T, key string, x *fastjson.Value) bool) bool {
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
		if !d.object(x, known, func(key string, x *fastjson.Value) bool { return field(d, c, key, x) }) {
			return false
		}
	}
	return true
}

// fastCompletion fills w (zero but for its choices' capacity) from a
// completions stream event, or reports false.
func (d *fastDecoder) fastCompletion(data []byte, w *completionChunkWire) bool {
	v := d.parse(data)
	return v != nil && d.object(v, completionKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "event":
			return fastString(x, &w.Event)
		case "index":
			return d.fastInt(x, &w.Index)
		case "text":
			return fastString(x, &w.Text)
		case "token":
			return d.fastTokenIDs(x, &w.Token)
		case "choices":
			return objects(d, x, &w.Choices, completionChoiceKeys, completionChoiceField)
		case "usage":
			return d.fastUsage(x, &w.Usage)
		}
		return isNullValue(x) // error: anything but null is for the strict decoder
	})
}

func completionChoiceField(d *fastDecoder, c *completionStreamChoice, key string, x *fastjson.Value) bool {
	switch key {
	case "index":
		return d.fastInt(x, &c.Index)
	case "text":
		return fastString(x, &c.Text)
	case "token":
		return d.fastTokenIDs(x, &c.Token)
	case "tokens":
		l, ok := d.fastInts(x)
		c.Tokens = l
		return ok
	case "finish_reason":
		return fastFinish(x, &c.FinishReason)
	}
	return isNullValue(x) // logprobs: the strict decoder reads them
}

// fastChat fills w (zero but for its choices' capacity) from a chat stream
// event, or reports false.
func (d *fastDecoder) fastChat(data []byte, w *chatChunkWire) bool {
	v := d.parse(data)
	return v != nil && d.object(v, chatKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "choices":
			return objects(d, x, &w.Choices, chatChoiceKeys, chatChoiceField)
		case "usage":
			return d.fastUsage(x, &w.Usage)
		}
		return isNullValue(x) // error
	})
}

func chatChoiceField(d *fastDecoder, c *chatStreamChoice, key string, x *fastjson.Value) bool {
	switch key {
	case "index":
		return d.fastInt(x, &c.Index)
	case "delta":
		return isNullValue(x) || d.object(x, chatDeltaKeys, func(key string, x *fastjson.Value) bool {
			return chatDeltaField(&c.Delta, key, x)
		})
	case "finish_reason":
		return fastFinish(x, &c.FinishReason)
	}
	return isNullValue(x) // logprobs: the strict decoder reads them
}

func chatDeltaField(delta *chatDelta, key string, x *fastjson.Value) bool {
	switch key {
	case "content":
		return fastString(x, &delta.Content)
	case "reasoning_content":
		return fastString(x, &delta.ReasoningContent)
	case "reasoning":
		return fastString(x, &delta.Reasoning)
	}
	// Tool-call deltas are nested and rare: the strict decoder reads them.
	return isNullValue(x)
}
