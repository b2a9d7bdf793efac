package simulator

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Special token IDs. BOS starts every tokenization, as Llama-3's 128000 does
// in the API notes' tokenize example; EOS ends a generation and is never
// part of an output; PAD is never generated.
const (
	PAD = 0
	BOS = 1
	EOS = 2
	// firstByteID is the ID of the byte token for byte 0x00; byte b has ID
	// firstByteID+b.
	firstByteID = 3
)

// Tokenizer is the simulator's deterministic tokenizer: GPT-2 style
// pre-tokenization (a single leading space joins the following word, digit
// or punctuation mark; every digit, punctuation mark and symbol is its own
// pre-token; whitespace runs are pre-tokens, except that the last space
// before a word joins the word), then greedy longest match of vocabulary
// pieces inside each pre-token, with one token per byte as the fallback.
//
// Token strings are unique. A vocabulary piece's string is its text. Byte
// tokens for ASCII bytes (0x00-0x7F) are the one-character string of the
// byte; byte tokens for 0x80-0xFF are written "<0xNN>" (upper-case hex, as
// SentencePiece does), which no other piece can equal because "<" is always
// a pre-token of its own. The special tokens are "<pad>", "<s>" and "</s>".
//
// A Tokenizer is immutable and safe for concurrent use.
type Tokenizer struct {
	pieces [][]byte // ID -> bytes rendered by Decode (nil for specials)
	strs   []string // ID -> unique token string
	ids    map[string]int
	maxLen int // longest piece, in bytes
	trie   pieceTrie
}

// NewTokenizer builds the fixed vocabulary. Every call yields the same IDs.
func NewTokenizer() *Tokenizer {
	t := &Tokenizer{ids: map[string]int{}}
	add := func(str string, text []byte) {
		if _, dup := t.ids[str]; dup {
			return
		}
		t.ids[str] = len(t.strs)
		t.strs = append(t.strs, str)
		t.pieces = append(t.pieces, text)
		if len(text) > t.maxLen {
			t.maxLen = len(text)
		}
	}
	add("<pad>", nil)
	add("<s>", nil)
	add("</s>", nil)
	for b := 0; b < 256; b++ {
		str := string(rune(b))
		if b >= 0x80 {
			str = fmt.Sprintf("<0x%02X>", b)
		}
		add(str, []byte{byte(b)})
	}
	piece := func(s string) {
		if len(s) > 1 {
			add(s, []byte(s))
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		piece(" " + string(c))
		piece(" " + string(c+'a'-'A'))
	}
	for c := '0'; c <= '9'; c++ {
		piece(" " + string(c))
	}
	for _, s := range vocabSpacedPunct {
		piece(s)
	}
	for _, s := range vocabWhitespace {
		piece(s)
	}
	for _, s := range vocabMultibyte {
		piece(s)
	}
	for _, w := range strings.Fields(vocabWords) {
		capital := strings.ToUpper(w[:1]) + w[1:]
		piece(w)
		piece(" " + w)
		piece(capital)
		piece(" " + capital)
	}
	for _, w := range strings.Fields(vocabSubwords) {
		piece(w)
	}
	for _, w := range strings.Fields(vocabSpacedPieces) {
		piece(" " + w)
	}
	t.trie = newPieceTrie(t.strs, t.maxLen)
	return t
}

// VocabSize is the number of token IDs; valid IDs are 0..VocabSize()-1.
func (t *Tokenizer) VocabSize() int { return len(t.strs) }

// TokenString is the unique string of a token, as used in logprobs.tokens
// and as top_logprobs keys. It panics on an out-of-range ID (a programming
// error: IDs from requests are checked first).
func (t *Tokenizer) TokenString(id int) string { return t.strs[id] }

// TokenBytes is the text a token contributes to a detokenization (empty for
// the special tokens). The slice must not be modified. It panics on an
// out-of-range ID, as TokenString does.
func (t *Tokenizer) TokenBytes(id int) []byte { return t.pieces[id] }

// ID returns the ID of a token string.
func (t *Tokenizer) ID(tokenString string) (int, bool) {
	id, ok := t.ids[tokenString]
	return id, ok
}

// Tokenize is what /tokenize returns: BOS followed by the tokens of s.
func (t *Tokenizer) Tokenize(s string) []int {
	return t.AppendTokens(append(make([]int, 0, len(s)/3+2), BOS), s)
}

// AppendTokens appends the tokens of s, without BOS, to dst.
func (t *Tokenizer) AppendTokens(dst []int, s string) []int {
	for len(s) > 0 {
		n := preToken(s)
		dst = t.appendPieces(dst, s[:n])
		s = s[n:]
	}
	return dst
}

// appendPieces splits one pre-token by greedy longest match: the longest
// token string of two bytes or more (and at most maxLen) that starts p, or
// else the byte token of p's first byte.
func (t *Tokenizer) appendPieces(dst []int, p string) []int {
	for len(p) > 0 {
		n, id := t.trie.longest(p)
		if n == 0 {
			n, id = 1, firstByteID+int(p[0])
		}
		dst = append(dst, id)
		p = p[n:]
	}
	return dst
}

// preToken returns the byte length of the pre-token at the start of s.
func preToken(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	if r == ' ' && n < len(s) {
		if r2, n2 := utf8.DecodeRuneInString(s[n:]); !isSpace(r2) {
			return n + unitLen(s[n:], r2, n2)
		}
	}
	if isSpace(r) {
		end := n
		for end < len(s) {
			if c := s[end]; c < utf8.RuneSelf {
				if asciiClass[c]&asciiSpace == 0 {
					break
				}
				end++
				continue
			}
			r2, n2 := utf8.DecodeRuneInString(s[end:])
			if !isSpace(r2) {
				break
			}
			end += n2
		}
		// The run's last space joins the following word, as GPT-2's
		// `\s+(?!\S)` does.
		if end < len(s) && end-1 > 0 && s[end-1] == ' ' {
			end--
		}
		return end
	}
	return unitLen(s, r, n)
}

// unitLen is the length of a word (a run of letters and combining marks), or
// of a single digit or other character.
func unitLen(s string, r rune, n int) int {
	if !isWordRune(r) {
		return n
	}
	end := n
	for end < len(s) {
		if c := s[end]; c < utf8.RuneSelf {
			if asciiClass[c]&asciiWord == 0 {
				break
			}
			end++
			continue
		}
		r2, n2 := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(r2) {
			break
		}
		end += n2
	}
	return end
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r]&asciiWord != 0
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r))
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r]&asciiSpace != 0
	}
	return unicode.IsSpace(r)
}

// asciiClass caches the unicode predicates for ASCII, which is nearly all
// of a prompt: the pre-tokenizer asks them of every byte.
var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for r := range rune(utf8.RuneSelf) {
		if unicode.IsSpace(r) {
			c[r] |= asciiSpace
		}
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			c[r] |= asciiWord
		}
	}
	return c
}()

const (
	asciiSpace = 1 << iota
	asciiWord
)

// Detokenize renders token IDs as text; special tokens render as nothing.
// The result may hold invalid UTF-8 when the IDs split a character.
func (t *Tokenizer) Detokenize(ids []int) (string, error) {
	var b strings.Builder
	for i, id := range ids {
		if id < 0 || id >= len(t.pieces) {
			return "", fmt.Errorf("simulator: token %d (at index %d) is outside the vocabulary [0, %d)", id, i, len(t.pieces))
		}
		b.Write(t.pieces[id])
	}
	return b.String(), nil
}
