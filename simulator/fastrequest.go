package simulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// A letter-scoring run sends thousands of completions requests a second to
// a simulator that shares two cores with the client, and encoding/json
// spends most of its time on them in reflection and in scanning the prompt
// again for its RawMessage. So completions bodies are
// read with fastjson into the same completionsRequest the strict decoder
// fills, and a string prompt's text comes back from the same pass. Whatever
// is off the common path (a key that matches one of ours only without
// regard to case, a repeated key, a value encoding/json would refuse or
// convert, invalid UTF-8, an escaped surrogate, a field the fast path has no
// setter for) makes it decline, and decode reads the body and gives its
// answer or its error, so every 422 stays as it was. A fuzz test holds the
// two to the same request.

// maxFastBody bounds the bodies the fast path reads: a pooled parser keeps a
// copy of the largest body it parsed.
const maxFastBody = 1 << 20

// The JSON names of the request structs' fields are read from their tags,
// so that a field added to a struct is never silently ignored here: the
// fast path declines a known key it has no setter for.
var (
	completionsKeys     = jsonNames(reflect.TypeFor[completionsRequest]())
	completionsKeyIndex = func() map[string]int {
		if len(completionsKeys) > 64 {
			panic("simulator: the fast decoder tracks repeated keys in a uint64")
		}
		index := make(map[string]int, len(completionsKeys))
		for i, n := range completionsKeys {
			index[n] = i
		}
		return index
	}()
	streamOptionsKeys = jsonNames(reflect.TypeFor[streamOptions]())
)

// jsonNames lists the names encoding/json decodes t's fields from,
// embedded structs' fields included.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			names = append(names, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			panic("simulator: " + t.Name() + "." + f.Name + " needs a JSON name for the fast decoder")
		}
		names = append(names, name)
	}
	return names
}

type fastDecoder struct {
	p       fastjson.Parser
	scratch []byte
	// body is the body being read; whether it is compact (see raw) is
	// worked out when first needed.
	body                  []byte
	compact, compactKnown bool
}

var fastDecoders = sync.Pool{New: func() any { return new(fastDecoder) }}

// decodeCompletions reads a completions body into req (which must be zero).
// When the fast path read it and the prompt is a JSON string, it also
// returns the prompt's text (textOK); otherwise the caller gets it from
// req.Prompt with promptText.
func decodeCompletions(body []byte, req *completionsRequest) (text string, textOK bool, e *apiError) {
	if len(body) <= maxFastBody && fastEligible(body) {
		d := fastDecoders.Get().(*fastDecoder)
		text, textOK, ok := d.completions(body, req)
		fastDecoders.Put(d)
		if ok {
			return text, textOK, nil
		}
		*req = completionsRequest{} // the fast path may have filled part of it
	}
	return "", false, decode(body, req)
}

// fastEligible says body is one the fast path can read exactly as
// encoding/json would: valid JSON, valid UTF-8 (encoding/json would replace
// bad bytes), and no \uD800-\uDFFF escapes (it would replace a lone
// surrogate; fastjson keeps it). fastjson's validator misses a raw control
// character that comes before an escape in the same string, so a body with
// both is left to encoding/json too.
func fastEligible(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	if bytes.IndexByte(body, '\\') >= 0 && hasControlByte(body) {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u`))
		if j < 0 {
			break
		}
		i += j + 2
		if i < len(body) && (body[i] == 'd' || body[i] == 'D') {
			return false
		}
	}
	return fastjson.ValidateBytes(body) == nil
}

// hasControlByte reports a byte below 0x20, eight bytes at a time: a
// letter-scoring body is a few kilobytes of prompt, and a byte loop would
// cost as much as the parse.
func hasControlByte(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		// Subtracting 0x20 from every byte sets the high bit of each byte
		// below 0x20, which had it clear. Another byte ends up with it
		// only if it had it already (&^x drops those) or by a borrow,
		// which starts at a byte below 0x20. So the test is exact
		// (Hacker's Delight's "has less", for thresholds up to 0x80).
		x := binary.LittleEndian.Uint64(b)
		if (x-0x20*ones)&^x&highs != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// isJSONSpace is encoding/json's (and fastjson's) insignificant whitespace.
func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// completions parses an eligible body into req, or reports false.
func (d *fastDecoder) completions(body []byte, req *completionsRequest) (text string, textOK, ok bool) {
	v, err := d.p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return "", false, false
	}
	o, _ := v.Object()
	d.body, d.compactKnown = body, false
	defer func() { d.body = nil }() // a pooled decoder must not keep it alive
	var seen uint64
	ok = true
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		i, known := completionsKeyIndex[string(key)]
		if !known {
			ok = !foldsToAny(key, completionsKeys)
			return
		}
		if seen&(1<<i) != 0 {
			ok = false
			return
		}
		seen |= 1 << i
		if completionsKeys[i] == "prompt" {
			ok = d.raw(x, &req.Prompt)
			if ok && x.Type() == fastjson.TypeString {
				b, _ := x.StringBytes()
				text, textOK = string(b), true
			}
			return
		}
		ok = d.completionsField(req, completionsKeys[i], x)
	})
	if !ok {
		return "", false, false
	}
	return text, textOK, true
}

// completionsField sets the field named key (never "prompt") from x as
// encoding/json would, or reports false.
func (d *fastDecoder) completionsField(r *completionsRequest, key string, x *fastjson.Value) bool {
	switch key {
	case "model":
		return fastStringPtr(x, &r.Model)
	case "tokens":
		return d.ints(x, &r.Tokens)
	case "forced_output_tokens":
		return d.ints(x, &r.ForcedOutputTokens)
	case "eos_token":
		return d.ints(x, &r.EOSToken)
	case "max_tokens":
		return d.intPtr(x, &r.MaxTokens)
	case "max_total_tokens":
		return d.intPtr(x, &r.MaxTotalTokens)
	case "min_tokens":
		return d.intPtr(x, &r.MinTokens)
	case "min_total_tokens":
		return d.intPtr(x, &r.MinTotalTokens)
	case "logprobs":
		return d.intPtr(x, &r.Logprobs)
	case "n":
		return d.intPtr(x, &r.N)
	case "top_k":
		return d.intPtr(x, &r.TopK)
	case "no_repeat_ngram":
		return d.intPtr(x, &r.NoRepeatNgram)
	case "encoder_no_repeat_ngram":
		return d.intPtr(x, &r.EncoderNoRepeatNgram)
	case "include_output_logprobs":
		return fastBoolPtr(x, &r.IncludeOutputLogprobs)
	case "stream":
		return fastBoolPtr(x, &r.Stream)
	case "stream_options":
		return fastStreamOptions(x, &r.StreamOptions)
	case "seed":
		return d.raw(x, &r.Seed)
	case "stop":
		return d.raw(x, &r.Stop)
	case "response_format":
		return d.raw(x, &r.ResponseFormat)
	case "bad_word_tokens":
		return d.raw(x, &r.BadWordTokens)
	case "embedding_to_replace":
		return d.raw(x, &r.EmbeddingToReplace)
	case "token_index_to_replace":
		return d.raw(x, &r.TokenIndexToReplace)
	case "temperature":
		return d.floatPtr(x, &r.Temperature)
	case "top_p":
		return d.floatPtr(x, &r.TopP)
	case "min_p":
		return d.floatPtr(x, &r.MinP)
	case "repetition_penalty":
		return d.floatPtr(x, &r.RepetitionPenalty)
	case "frequency_penalty":
		return d.floatPtr(x, &r.FrequencyPenalty)
	case "presence_penalty":
		return d.floatPtr(x, &r.PresencePenalty)
	case "encoder_repetition_penalty":
		return d.floatPtr(x, &r.EncoderRepetitionPenalty)
	case "xtc_threshold":
		return d.floatPtr(x, &r.XTCThreshold)
	case "xtc_probability":
		return d.floatPtr(x, &r.XTCProbability)
	}
	// stop_tokens, bad_words, and any field added later: the strict
	// decoder reads them, unless null leaves them as they are.
	return x.Type() == fastjson.TypeNull
}

// foldsToAny says key equals one of names without regard to case (as
// bytes.EqualFold, which encoding/json's field matching follows: "ſtream"
// is "stream" to it, so lengths need not agree).
func foldsToAny(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// Setters: each sets a field that starts out zero as encoding/json would,
// and reports false for a value it would refuse or convert.

// raw keeps the value's bytes, as json.RawMessage does (null included). It
// must see x before anything reads x as a string: fastjson renders a string
// as sent only until it has been unescaped. It renders a list or an object
// without the whitespace inside it, so those are only taken from a body
// with no whitespace between tokens, where the rendering is the value as
// sent.
func (d *fastDecoder) raw(x *fastjson.Value, dst *json.RawMessage) bool {
	d.scratch = x.MarshalTo(d.scratch[:0])
	if c := d.scratch[0]; c == '[' || c == '{' {
		if !d.compactKnown {
			d.compact, d.compactKnown = isCompact(d.body), true
		}
		if !d.compact {
			return false
		}
	}
	*dst = bytes.Clone(d.scratch)
	return true
}

// isCompact reports that the valid JSON body has no whitespace between
// its tokens (around it is fine).
func isCompact(body []byte) bool {
	for len(body) > 0 && isJSONSpace(body[0]) {
		body = body[1:]
	}
	for len(body) > 0 && isJSONSpace(body[len(body)-1]) {
		body = body[:len(body)-1]
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			// Skip to the closing quote: the next one after an even run
			// of backslashes.
			for {
				j := bytes.IndexByte(body[i+1:], '"')
				if j < 0 {
					return false
				}
				i += 1 + j
				k := i - 1
				for body[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		}
	}
	return true
}

func fastStringPtr(x *fastjson.Value, dst **string) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		s := string(b)
		*dst = &s
		return true
	}
	return false
}

func fastBoolPtr(x *fastjson.Value, dst **bool) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeTrue, fastjson.TypeFalse:
		b := x.Type() == fastjson.TypeTrue
		*dst = &b
		return true
	}
	return false
}

// number parses x as encoding/json parses a number into an int: base-10
// digits with an optional sign, within int64 (int is 64 bits here), so
// 1.0, 1e3 and 2^63 are refused. x must be a number.
func (d *fastDecoder) number(x *fastjson.Value) (int, bool) {
	d.scratch = x.MarshalTo(d.scratch[:0])
	n, err := strconv.ParseInt(string(d.scratch), 10, 64)
	return int(n), err == nil
}

func (d *fastDecoder) intPtr(x *fastjson.Value, dst **int) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		n, ok := d.number(x)
		if ok {
			*dst = &n
		}
		return ok
	}
	return false
}

func (d *fastDecoder) floatPtr(x *fastjson.Value, dst **float64) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeNumber:
		// As encoding/json: strconv on the literal, refusing out-of-range
		// values.
		d.scratch = x.MarshalTo(d.scratch[:0])
		f, err := strconv.ParseFloat(string(d.scratch), 64)
		if err == nil {
			*dst = &f
		}
		return err == nil
	}
	return false
}

// ints reads a list of integers: null leaves it nil, [] is empty but not
// nil (completionsRequest tells the two apart).
func (d *fastDecoder) ints(x *fastjson.Value, dst *[]int) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeArray:
		a, _ := x.Array()
		out := make([]int, len(a))
		for i, e := range a {
			if e.Type() != fastjson.TypeNumber {
				return false
			}
			n, ok := d.number(e)
			if !ok {
				return false
			}
			out[i] = n
		}
		*dst = out
		return true
	}
	return false
}

func fastStreamOptions(x *fastjson.Value, dst **streamOptions) bool {
	switch x.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeObject:
		so := &streamOptions{}
		*dst = so
		o, _ := x.Object()
		seen, ok := false, true
		o.Visit(func(key []byte, v *fastjson.Value) {
			switch {
			case !ok:
			case string(key) == "include_usage":
				ok = !seen && fastBoolPtr(v, &so.IncludeUsage)
				seen = true
			default:
				// Also a field added to streamOptions: only
				// include_usage has a setter.
				ok = !foldsToAny(key, streamOptionsKeys)
			}
		})
		return ok
	}
	return false
}
