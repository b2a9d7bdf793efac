package simulator

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The tokenizer as first written, by map lookups and the unicode
// predicates: the trie and the ASCII tables must split every text as it
// does.

func refAppendTokens(t *Tokenizer, dst []int, s string) []int {
	for len(s) > 0 {
		n := refPreToken(s)
		dst = refAppendPieces(t, dst, s[:n])
		s = s[n:]
	}
	return dst
}

func refAppendPieces(t *Tokenizer, dst []int, p string) []int {
	for len(p) > 0 {
		l := min(t.maxLen, len(p))
		for ; l > 1; l-- {
			if id, ok := t.ids[p[:l]]; ok {
				dst = append(dst, id)
				break
			}
		}
		if l <= 1 {
			dst = append(dst, firstByteID+int(p[0]))
			l = 1
		}
		p = p[l:]
	}
	return dst
}

func refPreToken(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	if r == ' ' && n < len(s) {
		if r2, n2 := utf8.DecodeRuneInString(s[n:]); !unicode.IsSpace(r2) {
			return n + refUnitLen(s[n:], r2, n2)
		}
	}
	if unicode.IsSpace(r) {
		end := n
		for end < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[end:])
			if !unicode.IsSpace(r2) {
				break
			}
			end += n2
		}
		if end < len(s) && end-1 > 0 && s[end-1] == ' ' {
			end--
		}
		return end
	}
	return refUnitLen(s, r, n)
}

func refUnitLen(s string, r rune, n int) int {
	if !refIsWordRune(r) {
		return n
	}
	end := n
	for end < len(s) {
		r2, n2 := utf8.DecodeRuneInString(s[end:])
		if !refIsWordRune(r2) {
			break
		}
		end += n2
	}
	return end
}

func refIsWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r))
}

func checkTokenizerMatches(t *testing.T, tk *Tokenizer, s string) {
	t.Helper()
	if got, want := tk.AppendTokens(nil, s), refAppendTokens(tk, nil, s); !slices.Equal(got, want) {
		t.Fatalf("tokens of %q:\n got %v\nwant %v", s, got, want)
	}
}

func TestTokenizerMatchesReference(t *testing.T) {
	tk := NewTokenizer()
	input, err := os.ReadFile("testdata/tokenize_input.txt")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{string(input), letterPrompt()}
	// Every token string alone, after a space, and run into the next one,
	// so each piece is matched whole and cut short.
	var all strings.Builder
	for id := range tk.VocabSize() {
		s := tk.TokenString(id)
		texts = append(texts, s, " "+s, s+s[:len(s)/2])
		all.WriteString(s)
	}
	texts = append(texts, all.String())
	// Random text over the bytes and runes the tokenizer treats apart.
	alphabet := []string{" ", "  ", "\t", "\n", "\r", "\v", "\u00a0", "\u0085", "\u2028", "\u3000", "a", "e", "q", "z", "T", "Q", "é", "ü", "\u0301", "日",
		"0", "7", ".", ",", "'", "\"", "(", "<", "-", "\x00", "\x7f", "\xff", "\xe2", "\xe2\x80", "—", "’", "\uFFFD", "the", "ing", "tion", "gener"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		checkTokenizerMatches(t, tk, s)
	}
}

func FuzzTokenizerMatchesReference(f *testing.F) {
	tk := NewTokenizer()
	for _, s := range []string{"", "hello world", "  x\n\n", "日本 👍", "a\xffb", letterPrompt(), " internationally\u00a0\u2028 mathematics"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkTokenizerMatches(t, tk, s)
	})
}
