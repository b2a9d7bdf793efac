package results

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Every finished sample is encoded once, on the runner's hot path, and
// reflection made json.Marshal most of Journal.Append's CPU. AppendJSON
// writes the same bytes by hand; the tests hold it to json.Marshal byte for
// byte, including a test that fails when a field is added to Sample or
// Request and not here.

// AppendJSON appends s as json.Marshal(s) encodes it, byte for byte.
//
// json.Marshal fails for a NaN or infinite float and for a time it cannot
// write as RFC 3339 (a year outside 0-9999, a zone offset of 24 hours or
// more). For such a sample AppendJSON returns b unchanged, which is how a
// caller tells: any sample it can encode adds at least "{...}".
func (s *Sample) AppendJSON(b []byte) []byte {
	out, ok := s.appendJSON(b)
	if !ok {
		return b
	}
	return out
}

// appendJSON reports false, with b in an unspecified state, where
// json.Marshal would return an error: the caller asks json.Marshal for that
// error rather than this file making up its own wording.
func (s *Sample) appendJSON(b []byte) ([]byte, bool) {
	if s == nil {
		return append(b, "null"...), true
	}
	ok := true
	b = append(b, `{"model":`...)
	b = appendSampleString(b, s.Model)
	b = append(b, `,"id":`...)
	b = appendSampleString(b, s.ID)
	if s.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendSampleString(b, s.Subject)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(s.Seq), 10)
	b = append(b, `,"gold":`...)
	b = strconv.AppendInt(b, int64(s.Gold), 10)
	b = append(b, `,"n_choices":`...)
	b = strconv.AppendInt(b, int64(s.NumChoices), 10)
	b = append(b, `,"status":`...)
	b = appendSampleString(b, string(s.Status))
	if s.Error != "" {
		b = append(b, `,"error":`...)
		b = appendSampleString(b, s.Error)
	}
	if s.Method != "" {
		b = append(b, `,"method":`...)
		b = appendSampleString(b, s.Method)
	}
	if len(s.LogLik) != 0 {
		b = append(b, `,"loglik":[`...)
		for i, v := range s.LogLik {
			if i > 0 {
				b = append(b, ',')
			}
			b, ok = appendJSONFloat(b, v)
			if !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if len(s.CharLen) != 0 {
		b = append(b, `,"char_len":`...)
		b = appendJSONInts(b, s.CharLen)
	}
	if len(s.Greedy) != 0 {
		b = append(b, `,"greedy":[`...)
		for i, v := range s.Greedy {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendBool(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, `,"pred":`...)
	b = strconv.AppendInt(b, int64(s.Pred), 10)
	b = append(b, `,"pred_norm":`...)
	b = strconv.AppendInt(b, int64(s.PredNorm), 10)
	b = append(b, `,"acc":`...)
	b = strconv.AppendBool(b, s.Acc)
	b = append(b, `,"acc_norm":`...)
	b = strconv.AppendBool(b, s.AccNorm)
	if len(s.Requests) != 0 {
		b = append(b, `,"requests":[`...)
		for i := range s.Requests {
			if i > 0 {
				b = append(b, ',')
			}
			b, ok = s.Requests[i].appendJSON(b)
			if !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"start":`...)
	if b, ok = appendJSONTime(b, s.Start); !ok {
		return b, false
	}
	b = append(b, `,"end":`...)
	if b, ok = appendJSONTime(b, s.End); !ok {
		return b, false
	}
	return append(b, '}'), true
}

func (r *Request) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	b = append(b, `{"kind":`...)
	b = appendSampleString(b, r.Kind)
	b = append(b, `,"latency_ms":`...)
	if b, ok = appendJSONFloat(b, r.LatencyMS); !ok {
		return b, false
	}
	b = append(b, `,"elapsed_ms":`...)
	if b, ok = appendJSONFloat(b, r.ElapsedMS); !ok {
		return b, false
	}
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	if len(r.Errors) != 0 {
		b = append(b, `,"errors":`...)
		b = appendJSONInts(b, r.Errors)
	}
	if r.PromptTokens != 0 {
		b = append(b, `,"prompt_tokens":`...)
		b = strconv.AppendInt(b, int64(r.PromptTokens), 10)
	}
	if r.CompletionTokens != 0 {
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, int64(r.CompletionTokens), 10)
	}
	if r.CachedTokens != 0 {
		b = append(b, `,"cached_tokens":`...)
		b = strconv.AppendInt(b, int64(r.CachedTokens), 10)
	}
	return append(b, '}'), true
}

func appendJSONInts(b []byte, v []int) []byte {
	b = append(b, '[')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

// appendJSONFloat formats f as encoding/json formats a float64 (ES6 number
// formatting: exponent form only for very small or very large magnitudes,
// without zero-padding the exponent), and reports false for NaN and
// infinities, which JSON cannot carry.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONTime writes t as time.Time.MarshalJSON does: AppendText is the
// same strict RFC 3339 formatting with the same failures, without the
// allocation. Its output has nothing JSON would escape.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return b, false
	}
	return append(b, '"'), true
}

// jsonPlain marks the ASCII bytes encoding/json writes as they are: not a
// control character, quote, backslash or one of the HTML-unsafe <, > and &.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendSampleString quotes s as encoding/json does. Models, IDs and
// subjects almost never need escaping, so they are copied after one scan;
// anything encoding/json would rewrite (escapes, invalid UTF-8, U+2028 and
// U+2029) is left to encoding/json itself.
func appendSampleString(b []byte, s string) []byte {
	i := 0
	// Eight bytes at a time until a word holds anything but plain ASCII:
	// byte by byte, this scan was a seventh of AppendJSON. (w - n*ones) &^ w
	// has some high bit set exactly when a byte of w is below n (n <= 0x80);
	// a byte equal to c is a byte below 1 in w ^ c*ones; w&highs is a byte
	// of 0x80 or more. The loop below takes over from that word.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := func(w, n uint64) uint64 { return (w - n*ones) &^ w }
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (w|below(w, 0x20)|below(w^'"'*ones, 1)|below(w^'\\'*ones, 1)|
			below(w^'<'*ones, 1)|below(w^'>'*ones, 1)|below(w^'&'*ones, 1))&highs != 0 {
			break
		}
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !jsonPlain[c] {
				return appendJSONString(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendJSONString(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
