package endpoint

import (
	"bytes"
	"math/bits"
	"strconv"
	"unicode/utf8"
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
