package endpoint

import (
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// json.Marshal spends most of a scoring request's encoding in reflection:
// some 15 µs for 300 context tokens, per request. The request bodies are
// therefore written by hand, byte for byte as json.Marshal writes them
// (field order, omitempty, number and string formatting, HTML-safe
// escapes), so a server cannot tell the two apart; tests compare the two
// on fixed and fuzzed requests. What is rare or has its own rules (a
// response format, whose json.RawMessage json.Marshal compacts; a NaN or
// infinite float, which is json.Marshal's error) is left to json.Marshal.

// encodeCompletionRequest returns req's body as json.Marshal returns it.
func encodeCompletionRequest(req *CompletionRequest) ([]byte, error) {
	// Room for the usual request, so appends rarely grow the buffer: a
	// token ID takes up to 6 digits and a comma.
	size := 256 + len(req.Model) + len(req.Prompt) + 7*(len(req.Tokens)+len(req.ForcedOutputTokens))
	if b, ok := appendCompletionRequest(make([]byte, 0, size), req); ok {
		return b, nil
	}
	return json.Marshal(req)
}

// appendCompletionRequest appends req as json.Marshal encodes it, or
// reports false for a request it leaves to json.Marshal.
func appendCompletionRequest(b []byte, req *CompletionRequest) ([]byte, bool) {
	if req.ResponseFormat != nil {
		return b, false
	}
	o := objectWriter{b: append(b, '{')}
	if req.Model != "" {
		o.string("model", req.Model)
	}
	if req.Prompt != "" {
		o.string("prompt", req.Prompt)
	}
	if len(req.Tokens) > 0 {
		o.ints("tokens", req.Tokens)
	}
	if len(req.ForcedOutputTokens) > 0 {
		o.ints("forced_output_tokens", req.ForcedOutputTokens)
	}
	o.intPtr("logprobs", req.Logprobs)
	o.intPtr("max_tokens", req.MaxTokens)
	o.intPtr("max_total_tokens", req.MaxTotalTokens)
	o.intPtr("min_tokens", req.MinTokens)
	o.intPtr("min_total_tokens", req.MinTotalTokens)
	if !o.floatPtr("temperature", req.Temperature) {
		return b, false
	}
	o.intPtr("top_k", req.TopK)
	if !o.floatPtr("top_p", req.TopP) {
		return b, false
	}
	if req.Seed != nil {
		o.key("seed")
		o.b = strconv.AppendInt(o.b, *req.Seed, 10)
	}
	if len(req.Stop) > 0 {
		o.key("stop")
		o.b = append(o.b, '[')
		for i, s := range req.Stop {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendJSONString(o.b, s)
		}
		o.b = append(o.b, ']')
	}
	o.intPtr("n", req.N)
	if req.Stream {
		o.key("stream")
		o.b = append(o.b, "true"...)
	}
	if req.StreamOptions != nil {
		o.key("stream_options")
		if req.StreamOptions.IncludeUsage {
			o.b = append(o.b, `{"include_usage":true}`...)
		} else {
			o.b = append(o.b, `{"include_usage":false}`...)
		}
	}
	return append(o.b, '}'), true
}

// encodeTokenizeRequest returns the /v1/tokenize body, {"model","prompt"}
// with an empty model left out. A prompt can be a whole document, and
// json.Marshal copies its output once more at the end.
func encodeTokenizeRequest(model, prompt string) []byte {
	o := objectWriter{b: make([]byte, 0, 32+len(model)+len(prompt)+len(prompt)/8)}
	o.b = append(o.b, '{')
	if model != "" {
		o.string("model", model)
	}
	o.string("prompt", prompt)
	return append(o.b, '}')
}

// encodeDetokenizeRequest returns the /v1/detokenize body,
// {"model","tokens"} with an empty model left out (nil tokens are null,
// as json.Marshal writes a nil slice).
func encodeDetokenizeRequest(model string, tokens []int) []byte {
	o := objectWriter{b: make([]byte, 0, 32+len(model)+7*len(tokens))}
	o.b = append(o.b, '{')
	if model != "" {
		o.string("model", model)
	}
	if tokens == nil {
		o.key("tokens")
		o.b = append(o.b, "null"...)
	} else {
		o.ints("tokens", tokens)
	}
	return append(o.b, '}')
}

// objectWriter appends the members of a JSON object, commas between them.
// Keys are written as they are: ours need no escaping.
type objectWriter struct {
	b    []byte
	more bool
}

func (o *objectWriter) key(k string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *objectWriter) string(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *objectWriter) ints(k string, v []int) {
	o.key(k)
	b := append(o.b, '[')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, n)
	}
	o.b = append(b, ']')
}

// intPtr writes *v unless v is nil (omitempty).
func (o *objectWriter) intPtr(k string, v *int) {
	if v != nil {
		o.key(k)
		o.b = appendInt(o.b, *v)
	}
}

// appendInt is strconv.AppendInt(b, int64(n), 10) with the digits written
// in place, two at a time: a scoring request is hundreds of token IDs, and
// strconv formats each into a buffer of its own and copies it over.
func appendInt(b []byte, n int) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u
	}
	// The number of digits from the bit length (1233/4096 is log10 2),
	// less one where the bit length overestimates.
	t := bits.Len64(u|1) * 1233 >> 12
	digits := t + 1
	if u|1 < pow10[t] {
		digits = t
	}
	b = slices.Grow(b, digits)
	b = b[:len(b)+digits]
	i := len(b)
	for u >= 100 {
		q := u / 100
		r := u - q*100
		i -= 2
		b[i], b[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		u = q
	}
	if u >= 10 {
		b[i-2], b[i-1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		b[i-1] = byte('0' + u)
	}
	return b
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// floatPtr writes *v unless v is nil, and reports false, writing nothing,
// for a value json.Marshal refuses.
func (o *objectWriter) floatPtr(k string, v *float64) bool {
	if v == nil {
		return true
	}
	if math.IsInf(*v, 0) || math.IsNaN(*v) {
		return false
	}
	o.key(k)
	o.b = appendJSONFloat(o.b, *v)
	return true
}

// appendJSONFloat appends a finite f as encoding/json does: the shortest
// decimal that reads back as f, in exponent form only below 1e-6 or from
// 1e21 on, and with a one-digit negative exponent unpadded (1e-7, not
// 1e-07).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// htmlSafe holds the ASCII bytes json.Marshal writes in a string as they
// are: all but control characters, '"', '\' and, escaped so the JSON can
// sit in HTML, '<', '>' and '&'.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as json.Marshal quotes it: the short
// escapes \" \\ \b \f \n \r \t, \u00XX for the other control characters
// and for < > &, \u2028 and \u2029 escaped, and each byte of invalid UTF-8
// replaced by \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
