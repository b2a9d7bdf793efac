package endpoint

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads one JSON document in place, a value at a time, checking
// its grammar as it goes: the stream path reads the few members it needs
// and steps over the rest (id, object, model, created) without building
// anything. Every method reports false for input it cannot vouch for:
// anything encoding/json would refuse or read differently (invalid UTF-8,
// a lone surrogate, a control character in a string, a number outside
// JSON's grammar, nesting past maxScanDepth). The caller then leaves the
// event to the strict decoder, which gives the answer or the error.
//
// It is not safe for concurrent use; its unescaping buffer is reused.
type scanner struct {
	data []byte
	i    int
	esc  []byte // unescaped string or key, valid until the next string

	// What a full read notes for the template (template.go): the element
	// of the list being read, and where the values of the first choice
	// that vary between a stream's events sit.
	elem   int
	spans  [2]span
	nspans int
	tmpl   eventTemplate
}

// maxScanDepth bounds nesting in the values the scanner steps over; deeper
// documents (legal, but never an event) go to the strict decoder.
const maxScanDepth = 64

func (s *scanner) reset(data []byte) { s.data, s.i = data, 0 }

// peek skips whitespace and returns the next byte, 0 at the end. Events
// rarely hold whitespace, so the usual case is one look, inlined.
func (s *scanner) peek() byte {
	if i := s.i; i < len(s.data) && s.data[i] > ' ' {
		return s.data[i]
	}
	return s.peekSpace()
}

func (s *scanner) peekSpace() byte {
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// end reports whether the value just read ends the data, as the strict
// decoder requires of an event (the stream trims the space around it).
func (s *scanner) end() bool { return s.i == len(s.data) }

// take consumes c if it is the next byte.
func (s *scanner) take(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// null consumes a null if one is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && len(s.data)-s.i >= 4 && string(s.data[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// each reads the list or object that is next, or null (present false),
// calling elem for each element (of an object: after its key and ':' are
// read, by member or by elem itself) to read it.
func (s *scanner) each(open, closing byte, elem func() bool) (present, ok bool) {
	if s.null() {
		return false, true
	}
	if !s.take(open) {
		return false, false
	}
	if s.take(closing) {
		return true, true
	}
	for {
		if !elem() {
			return false, false
		}
		switch s.peek() {
		case closing:
			s.i++
			return true, true
		case ',':
			s.i++
		default:
			return false, false
		}
	}
}

// str reads the string that starts at the next byte and returns its
// contents, unescaped (into s.esc when it has escapes), and whether they
// are all ASCII.
func (s *scanner) str() (b []byte, ascii, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	i, escaped := start, false
	ascii = true
	for {
		i = stringStop(s.data, i)
		if i >= len(s.data) {
			return nil, false, false
		}
		switch c := s.data[i]; {
		case c == '"':
			s.i = i + 1
			if !escaped {
				return s.data[start:i], ascii, true
			}
			s.esc = unescape(s.esc[:0], s.data[start:i])
			for _, c := range s.esc {
				if c >= utf8.RuneSelf {
					return s.esc, false, true
				}
			}
			return s.esc, true, true
		case c == '\\':
			escaped = true
			if i = escapeEnd(s.data, i); i < 0 {
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			ascii = false
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, false
			}
			i += size
		}
	}
}

// number reads the literal of the number that starts at the next byte.
func (s *scanner) number() ([]byte, bool) {
	s.peek()
	n := numberEnd(s.data[s.i:])
	if n < 0 {
		return nil, false
	}
	lit := s.data[s.i : s.i+n]
	s.i += n
	return lit, true
}

// int reads a number as encoding/json reads one into an int.
func (s *scanner) int() (int, bool) {
	lit, ok := s.number()
	if !ok {
		return 0, false
	}
	n, ok := intLiteral(lit)
	return int(n), ok && int64(int(n)) == n
}

// skip steps over the next value, whatever it is.
func (s *scanner) skip(depth int) bool {
	switch c := s.peek(); {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '[':
		_, ok := s.each('[', ']', func() bool { return depth < maxScanDepth && s.skip(depth+1) })
		return ok
	case c == '{':
		_, ok := s.each('{', '}', func() bool {
			_, _, ok := s.str()
			return ok && s.take(':') && depth < maxScanDepth && s.skip(depth+1)
		})
		return ok
	case c == 'n':
		return s.null()
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	}
	_, ok := s.number()
	return ok
}

func (s *scanner) word(w string) bool {
	if len(s.data)-s.i >= len(w) && string(s.data[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// member reads the key of an object's next member and the ':' after it,
// and returns which of known it is, or -1 for a key of none of them. A key
// that matches one only without regard to case (which encoding/json would
// take) or one already seen makes it fail.
func (s *scanner) member(known *keySet, seen *uint32) (int, bool) {
	key, ascii, ok := s.str()
	if !ok || !s.take(':') {
		return 0, false
	}
	i := known.index(key)
	switch {
	case i < 0:
		return -1, !known.foldsTo(key, ascii)
	case *seen&(1<<i) != 0:
		return 0, false
	}
	*seen |= 1 << i
	return i, true
}

// object reads an object, or null (reported as present false), handing
// each member of known to field by its name and stepping over the others.
func (s *scanner) object(known *keySet, field func(key string) bool) (present, ok bool) {
	var seen uint32
	return s.each('{', '}', func() bool {
		i, ok := s.member(known, &seen)
		switch {
		case !ok:
			return false
		case i < 0:
			return s.skip(1)
		}
		return field(known.names[i])
	})
}

// unescape appends the unescaped contents of a string whose escapes
// escapeEnd accepted (so every \u surrogate is half of a pair).
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		c := raw[i+1]
		switch c {
		case 'u':
			r, _ := hex4(raw, i+2)
			i += 6
			if utf16.IsSurrogate(r) {
				lo, _ := hex4(raw, i+2)
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		}
		dst = append(dst, c)
		i += 2
	}
	return dst
}

// stringStop returns the index of the first byte from data[i] on that ends
// or interrupts a plain run of string bytes (a quote, a backslash, a
// control character, a byte past ASCII), or len(data).
func stringStop(data []byte, i int) int {
	rest := data[i:]
	for ; len(rest) >= 8; rest = rest[8:] {
		if m := stop8(binary.LittleEndian.Uint64(rest)); m != 0 {
			return len(data) - len(rest) + bits.TrailingZeros64(m)/8
		}
	}
	for j, c := range rest {
		if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return len(data) - len(rest) + j
		}
	}
	return len(data)
}

// stop8 is special8 with the quote marked too: the lowest mark of either
// is a byte looked for, so the lowest of both is.
func stop8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ ones*'"'
	return special8(x) | (q-ones)&^q&highs
}

// intLiteral reads a JSON number's literal as encoding/json reads one into
// an integer: no fraction or exponent, and in range.
func intLiteral(lit []byte) (int64, bool) {
	digits := lit
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) > 18 {
		// Past 18 digits it may not fit; strconv says.
		n, err := strconv.ParseInt(string(lit), 10, 64)
		return n, err == nil
	}
	if len(digits) < len(lit) {
		n = -n
	}
	return n, true
}
