package simulator

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenizerRoundTrip(t *testing.T) {
	tk := NewTokenizer()
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"plain", "What is generative AI?"},
		{"leading space", " Paris"},
		{"space runs", "a  b   c    d\t\te"},
		{"trailing spaces", "end   "},
		{"only spaces", "     "},
		{"newlines", "line one\nline two\n\n\nline five\n"},
		{"crlf", "windows\r\nline\r\n\r\nend"},
		{"digits", "In 2024, 3.14159 and -42 and 1,000,000."},
		{"punctuation", `"Quoted," (paren) [b] {c} <d> a/b\c | ~ ^ @#$%&*`},
		{"accents", "café naïve résumé Zürich"},
		{"cjk", "日本語のテキスト、中文"},
		{"emoji", "ok 👍🏽 and 👨‍👩‍👧 family 🇫🇷"},
		{"combining", "e\u0301 a\u0308"},
		{"replacement char", "bad \uFFFD char"},
		{"nul and controls", "a\x00b\x01c\x7f"},
		{"bom", "\uFEFFstart"},
		{"line separators", "a\u2028b\u2029c"},
		{"max rune", "\U0010FFFF"},
		{"mixed", "Answer: A\n\nQuestion: Which of the following is true?\nA. one\nB. two"},
		{"long word", strings.Repeat("x", 300)},
		{"special-looking", "<s></s><pad><0xE2>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !utf8.ValidString(c.in) {
				t.Fatalf("test input is not valid UTF-8")
			}
			ids := tk.Tokenize(c.in)
			if len(ids) == 0 || ids[0] != BOS {
				t.Fatalf("tokens %v do not start with BOS", ids)
			}
			if slices.Contains(ids[1:], BOS) || slices.Contains(ids, EOS) || slices.Contains(ids, PAD) {
				t.Fatalf("special token inside %v", ids)
			}
			got, err := tk.Detokenize(ids)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.in {
				t.Fatalf("round trip: got %q, want %q (tokens %v)", got, c.in, ids)
			}
		})
	}
}

func TestTokenizerPieces(t *testing.T) {
	tk := NewTokenizer()
	strs := func(s string) []string {
		var out []string
		for _, id := range tk.Tokenize(s)[1:] {
			out = append(out, tk.TokenString(id))
		}
		return out
	}
	cases := []struct {
		in   string
		want []string
	}{
		{"What is generative AI?", []string{"What", " is", " gener", "ative", " A", "I", "?"}},
		{" Paris", []string{" Paris"}},
		{"2024", []string{"2", "0", "2", "4"}},
		{"x 12", []string{"x", " 1", "2"}},
		{"a  b", []string{"a", " ", " b"}},
		{"\n\nThe", []string{"\n\n", "The"}},
		{"é", []string{"é"}},
		{"日", []string{"<0xE6>", "<0x97>", "<0xA5>"}},
		{"(x)", []string{"(", "x", ")"}},
		{"a (b", []string{"a", " (", "b"}},
	}
	for _, c := range cases {
		if got := strs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenStringsUnique(t *testing.T) {
	tk := NewTokenizer()
	seen := map[string]int{}
	for id := 0; id < tk.VocabSize(); id++ {
		s := tk.TokenString(id)
		if prev, dup := seen[s]; dup {
			t.Fatalf("tokens %d and %d share the string %q", prev, id, s)
		}
		seen[s] = id
		if back, ok := tk.ID(s); !ok || back != id {
			t.Fatalf("ID(%q) = %d, %v; want %d", s, back, ok, id)
		}
	}
	for b := 0x80; b <= 0xFF; b++ {
		want := fmt.Sprintf("<0x%02X>", b)
		if got := tk.TokenString(firstByteID + b); got != want {
			t.Fatalf("byte token %#x string %q, want %q", b, got, want)
		}
	}
	if n := tk.VocabSize(); n < 1000 || n > 3000 {
		t.Fatalf("vocabulary size %d", n)
	}
}

// Labels must be one token after "Answer:", and appending them must not
// change how the context tokenizes, so scoring by one forced token is exact.
func TestLabelsAreSingleTokens(t *testing.T) {
	tk := NewTokenizer()
	contexts := []string{"Question: 1+1?\nA. 2\nB. 3\nAnswer:", "Answer:", "x\n\nAnswer:"}
	for _, ctx := range contexts {
		base := tk.Tokenize(ctx)
		for c := 'A'; c <= 'Z'; c++ {
			label := " " + string(c)
			id, ok := tk.ID(label)
			if !ok {
				t.Fatalf("label %q has no token", label)
			}
			if got, want := tk.Tokenize(ctx+label), append(slices.Clone(base), id); !slices.Equal(got, want) {
				t.Fatalf("tokenize(%q + %q) = %v, want %v", ctx, label, got, want)
			}
		}
		for d := '0'; d <= '9'; d++ {
			if got := tk.Tokenize(ctx + " " + string(d)); len(got) != len(base)+1 {
				t.Fatalf("label %q is not one token after %q", " "+string(d), ctx)
			}
		}
	}
}

func TestDetokenizeOutOfRange(t *testing.T) {
	tk := NewTokenizer()
	for _, ids := range [][]int{{-1}, {tk.VocabSize()}, {1, 2, 1 << 40}} {
		if _, err := tk.Detokenize(ids); err == nil || !strings.HasPrefix(err.Error(), "simulator: ") {
			t.Errorf("Detokenize(%v) error = %v, want a simulator error", ids, err)
		}
	}
}

// The tokenization of a fixed text is pinned, so a vocabulary change is a
// deliberate act (-update).
func TestTokenizerGolden(t *testing.T) {
	tk := NewTokenizer()
	f, err := os.Open("testdata/tokenize_input.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ids := tk.Tokenize(sc.Text())
		fmt.Fprintf(&out, "%q\n", sc.Text())
		for _, id := range ids {
			fmt.Fprintf(&out, " %d:%q", id, tk.TokenString(id))
		}
		out.WriteString("\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	golden(t, "tokenize.golden", []byte(out.String()))
}

func FuzzTokenizerRoundTrip(f *testing.F) {
	tk := NewTokenizer()
	for _, s := range []string{"", "hello world", "  x\n\n", "日本 👍", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Tokenize(s)
		got, err := tk.Detokenize(ids)
		if err != nil || got != s {
			t.Fatalf("round trip of %q: %q, %v", s, got, err)
		}
	})
}
