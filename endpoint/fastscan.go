package endpoint

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// fastjson's parser checks a document's structure (braces, brackets,
// commas, colons, what follows the value) as strictly as encoding/json, and
// true, false and null letter for letter. It is lax in two places only:
//
//   - in strings it keeps an invalid escape, a raw control character or
//     invalid UTF-8 as it is, and an escaped lone surrogate as its escape,
//     where encoding/json refuses the first two and writes U+FFFD;
//   - as a number it takes any run of number characters ("01", "1.2.3",
//     "-", "1e") and NaN or Inf.
//
// fastEligible covers the strings, in one pass over the event that needs
// no idea of where strings begin and end; numbers are checked against
// JSON's grammar where the fast path meets them (number, validNumbers).
// Together with the parser that is encoding/json's validation (but for
// nesting past fastjson's 300 levels, which the parser refuses), for a
// fraction of the cost of fastjson.ValidateBytes, which walked the
// structure a second time.

// fastEligible says the strings of data are ones fastjson reads exactly
// as encoding/json does: valid UTF-8, valid escapes, surrogates only in
// well-formed escaped pairs, and no control character. A backslash or a
// control character outside strings is for the parser to refuse. ascii
// says no string holds anything but ASCII, escaped or not.
func fastEligible(data []byte) (ok, ascii bool) {
	control := false
	ascii = true
	for i := specialEnd(data, 0); i < len(data); i = specialEnd(data, i) {
		switch c := data[i]; {
		case c == '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				ascii = false
			}
			if i = escapeEnd(data, i); i < 0 {
				return false, false
			}
		case c < 0x20:
			control = true
			i++
		default:
			ascii = false
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return false, false
			}
			i += size
		}
	}
	return !control || controlOutsideStrings(data), ascii
}

// specialEnd returns the index of the first byte from data[i] on that is a
// backslash, a control character or not ASCII, or len(data).
func specialEnd(data []byte, i int) int {
	rest := data[i:]
	for ; len(rest) >= 16; rest = rest[16:] {
		m0 := special8(binary.LittleEndian.Uint64(rest))
		m1 := special8(binary.LittleEndian.Uint64(rest[8:]))
		if m0|m1 != 0 {
			if m0 == 0 {
				return len(data) - len(rest) + 8 + bits.TrailingZeros64(m1)/8
			}
			return len(data) - len(rest) + bits.TrailingZeros64(m0)/8
		}
	}
	for i, c := range rest {
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return len(data) - len(rest) + i
		}
	}
	return len(data)
}

// special8 marks, in the high bit of each of the eight bytes of x (read
// little-endian), the bytes specialEnd looks for: an event is mostly plain
// ASCII, and a word at a time takes it in an eighth of the steps. x-0x20
// in every byte sets the high bit of a byte below 0x20, x itself that of a
// byte from 0x80 on, and b-1 that of a zero byte of b, a backslash of x.
// A borrow can mark a byte after a marked one, never before one, so the
// lowest mark is always the first byte looked for.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	b := x ^ ones*'\\'
	return ((x - ones*0x20) | x | (b-ones)&^b) & highs
}

// escapeEnd returns the index after the escape that starts at data[i], or
// -1 if it is not one both decoders read alike.
func escapeEnd(data []byte, i int) int {
	if i+1 >= len(data) {
		return -1
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
	default:
		return -1
	}
	r, ok := hex4(data, i+2)
	if !ok {
		return -1
	}
	if i += 6; !utf16.IsSurrogate(r) {
		return i
	}
	// Only a well-formed pair: fastjson keeps a lone surrogate's escape
	// and, after a high surrogate, swallows the next escape even if it is
	// not a low one, where encoding/json writes U+FFFD and keeps it.
	if r >= 0xDC00 || i+1 >= len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return -1
	}
	if r2, ok := hex4(data, i+2); !ok || r2 < 0xDC00 || r2 > 0xDFFF {
		return -1
	}
	return i + 6
}

// hex4 reads the four hex digits of a \u escape at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// controlOutsideStrings says every control character in data lies between
// tokens, where the parser takes the whitespace JSON allows and refuses
// the rest; in a string encoding/json refuses them all. The escapes are
// valid (fastEligible checked them), so the byte after a backslash is
// never a string's end.
func controlOutsideStrings(data []byte) bool {
	in := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			in = !in
		case c == '\\' && in:
			i++
		case c < 0x20 && in:
			return false
		}
	}
	return true
}

// number returns the literal of v, a number to fastjson, if it is a
// number to encoding/json too. The literal is valid until the next call.
func (d *fastDecoder) number(v *fastjson.Value) ([]byte, bool) {
	lit := v.MarshalTo(d.num[:0])
	return lit, numberEnd(lit) == len(lit)
}

// int64 reads v, a number to fastjson, as encoding/json reads a number
// into an integer.
func (d *fastDecoder) int64(v *fastjson.Value) (int64, bool) {
	return intLiteral(v.MarshalTo(d.num[:0]))
}

func (d *fastDecoder) int(v *fastjson.Value) (int, bool) {
	n, ok := d.int64(v)
	return int(n), ok && int64(int(n)) == n
}

// validNumbers says every number in v is one to encoding/json too: the
// fast path skips the values it does not read, but encoding/json refuses
// an event over any bad number in it.
func (d *fastDecoder) validNumbers(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		_, ok := d.number(v)
		return ok
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if !d.validNumbers(x) {
				return false
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		ok := true
		o.Visit(func(_ []byte, x *fastjson.Value) { ok = ok && d.validNumbers(x) })
		return ok
	}
	return true
}

// numberEnd returns the length of the JSON number that lit starts with,
// -1 if it starts with none.
func numberEnd(lit []byte) int {
	n, i := len(lit), 0
	if i < n && lit[i] == '-' {
		i++
	}
	switch {
	case i < n && lit[i] == '0':
		i++
	case i < n && '1' <= lit[i] && lit[i] <= '9':
		i = digitsEnd(lit, i+1)
	default:
		return -1
	}
	if i < n && lit[i] == '.' {
		j := digitsEnd(lit, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < n && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		if i < n && (lit[i] == '+' || lit[i] == '-') {
			i++
		}
		j := digitsEnd(lit, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digitsEnd(lit []byte, i int) int {
	for i < len(lit) && '0' <= lit[i] && lit[i] <= '9' {
		i++
	}
	return i
}
