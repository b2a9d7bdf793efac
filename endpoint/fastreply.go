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
