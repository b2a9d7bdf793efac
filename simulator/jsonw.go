package simulator

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Replies are written by hand-rolled appenders rather than encoding/json:
// a stream writes tens of thousands of chunks a second and these allocate
// nothing, the top_logprobs dictionaries keep rank order, and the NaN
// misbehaviour needs a literal encoding/json refuses to write. Tests decode
// every shape with encoding/json.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// one per bad byte, as encoding/json does.
func appendString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
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
		var r rune
		var n int
		switch v := any(s).(type) {
		case string:
			r, n = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, n = utf8.DecodeRune(v[i:])
		}
		if (r == utf8.RuneError && n == 1) || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case '\u2028':
				b = append(b, `\u2028`...)
			case '\u2029':
				b = append(b, `\u2029`...)
			default:
				b = append(b, `\ufffd`...)
			}
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat writes the shortest representation that parses back to the
// same float64, so a value written twice compares bit-equal after decoding.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// floatText holds the appendFloat text of a fixed set of values, keyed by
// their bits. Shortest formatting costs about as much as the rest of a
// top-20 logprobs reply, and the values such replies write are the first
// ranks of a few fixed profiles.
type floatText map[uint64][]byte

func (t floatText) add(vs ...float64) {
	for _, v := range vs {
		t[math.Float64bits(v)] = appendFloat(nil, v)
	}
}

// append writes v as appendFloat would.
func (t floatText) append(b []byte, v float64) []byte {
	if text, ok := t[math.Float64bits(v)]; ok {
		return append(b, text...)
	}
	return appendFloat(b, v)
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

func appendInts(b []byte, vs []int) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, v)
	}
	return append(b, ']')
}
