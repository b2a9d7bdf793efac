package scorers

import (
	"strings"
	"unicode"
)

// lm-eval builds prompts and splits context from continuation with Python's
// str methods. Go's nearest equivalents differ at the edges, and a prompt
// one byte off is a different prompt, so the ones that matter are mirrored
// here.

// pyIsSpace is Python's str.isspace for one code point: Unicode White_Space
// (what unicode.IsSpace tests) plus the ASCII information separators
// U+001C..U+001F, which Python counts as whitespace (bidirectional class B
// or S) and Go does not. testdata/python_isspace.txt pins the set.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyRstrip is Python's str.rstrip() with no argument.
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }
