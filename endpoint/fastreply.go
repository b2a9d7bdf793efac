package endpoint

import (
	"strconv"

	"github.com/valyala/fastjson"
)

// The completions reply of a scoring request carries logprobs with a top-k
// dictionary per position; encoding/json spends tens of microseconds on
// one, a good part of a scoring run's CPU. As for stream events
// (fastchunk.go), the usual shape is read with fastjson into the same wire
// struct, and anything else (a null inside logprobs, a seed as a string, a
// value of another type, ...) is left to the strict decoder, which gives
// the same result or its precise error. A fuzz test holds the two together.

var (
	completionReplyKeys  = keys("id", "object", "model", "created", "choices", "usage")
	completionChoiceWKey = keys("index", "text", "seed", "finish_reason", "tokens", "logprobs")
	logprobsKeys         = keys("text_offset", "token_logprobs", "tokens", "top_logprobs")
)

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

// fastFinish is fastString for a finish reason.
func fastFinish(v *fastjson.Value, dst *string) bool {
	if v.Type() == fastjson.TypeString {
		b, _ := v.StringBytes()
		*dst = finishString(b)
		return true
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

func isNullValue(v *fastjson.Value) bool { return v.Type() == fastjson.TypeNull }

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

// fastCompletionReply fills w (zero) from a completions reply, or reports
// false.
func (d *fastDecoder) fastCompletionReply(data []byte, w *completionWire) bool {
	v := d.parse(data)
	return v != nil && d.object(v, completionReplyKeys, func(key string, x *fastjson.Value) bool {
		switch key {
		case "id":
			return fastString(x, &w.ID)
		case "object":
			return fastString(x, &w.Object)
		case "model":
			return fastString(x, &w.Model)
		case "created":
			return d.fastInt64Ptr(x, &w.Created)
		case "choices":
			return objects(d, x, &w.Choices, completionChoiceWKey, completionReplyChoiceField)
		}
		// usage: a Usage value, which null leaves as it is.
		var u *Usage
		if !d.fastUsage(x, &u) {
			return false
		}
		if u != nil {
			w.Usage = *u
		}
		return true
	})
}

func completionReplyChoiceField(d *fastDecoder, c *completionChoiceWire, key string, x *fastjson.Value) bool {
	switch key {
	case "index":
		return d.fastInt(x, &c.Index)
	case "text":
		return fastString(x, &c.Text)
	case "seed":
		return d.fastSeed(x, &c.Seed)
	case "finish_reason":
		return fastFinish(x, &c.FinishReason)
	case "tokens":
		l, ok := d.fastInts(x)
		c.Tokens = l
		return ok
	}
	return d.fastLogprobs(x, &c.Logprobs)
}

func (d *fastDecoder) fastInt64Ptr(v *fastjson.Value, dst **int64) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, ok := d.int64(v)
		*dst = &n
		return ok
	}
	return false
}

// fastSeed reads a seed as seedWire does from a number: its literal as an
// unsigned integer, else no seed. A seed sent as a string goes to the
// strict decoder, which reads the string's raw bytes.
func (d *fastDecoder) fastSeed(v *fastjson.Value, dst *seedWire) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		lit, ok := d.number(v)
		if n, err := strconv.ParseUint(string(lit), 10, 64); ok && err == nil {
			*dst = seedWire{v: n, ok: true}
		}
		return ok
	case fastjson.TypeString:
		return false
	}
	// null, a list, an object: no seed, as seedWire reads them.
	return d.validNumbers(v)
}

// fastFloat reads a number as encoding/json does: strconv.ParseFloat of
// its literal (fastjson's own parser can round differently past 15
// digits, and log-likelihoods are compared exactly).
func (d *fastDecoder) fastFloat(v *fastjson.Value) (float64, bool) {
	if v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	lit, ok := d.number(v)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	return f, err == nil
}

// fastLogprobs reads the current logprobs object or the legacy list of
// floats; null leaves dst nil. Any null inside is for the strict decoder,
// which refuses some and allows others.
func (d *fastDecoder) fastLogprobs(v *fastjson.Value, dst **Logprobs) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeArray:
		a, _ := v.Array()
		lp := &Logprobs{TokenLogprobs: make([]float64, len(a)), Legacy: true}
		for i, x := range a {
			f, ok := d.fastFloat(x)
			if !ok {
				return false
			}
			lp.TokenLogprobs[i] = f
		}
		*dst = lp
		return true
	case fastjson.TypeObject:
	default:
		return false
	}
	lp := &Logprobs{}
	*dst = lp
	return d.object(v, logprobsKeys, func(key string, x *fastjson.Value) bool {
		if x.Type() != fastjson.TypeArray {
			return false
		}
		a, _ := x.Array()
		switch key {
		case "text_offset":
			l, ok := d.fastInts(x)
			lp.TextOffset = l
			return ok
		case "token_logprobs":
			lp.TokenLogprobs = make([]float64, len(a))
			for i, y := range a {
				f, ok := d.fastFloat(y)
				if !ok {
					return false
				}
				lp.TokenLogprobs[i] = f
			}
			return true
		case "tokens":
			lp.Tokens = make([]string, len(a))
			for i, y := range a {
				if y.Type() != fastjson.TypeString {
					return false
				}
				b, _ := y.StringBytes()
				lp.Tokens[i] = string(b)
			}
			return true
		}
		lp.TopLogprobs = make([]map[string]float64, len(a))
		for i, y := range a {
			o, err := y.Object()
			if err != nil {
				return false
			}
			m := make(map[string]float64, o.Len())
			ok := true
			o.Visit(func(k []byte, z *fastjson.Value) {
				if !ok {
					return
				}
				var f float64
				f, ok = d.fastFloat(z)
				m[string(k)] = f
			})
			if !ok {
				return false
			}
			lp.TopLogprobs[i] = m
		}
		return true
	})
}
