package datasets

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// letters are the default choice labels.
func letters(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('A' + i))
	}
	return out
}

// parseAnswer resolves an answer against the choices and their labels.
//
// The rule, in order:
//   - A number (JSON, Parquet) is always a 0-based index.
//   - A string that equals a label is that choice: labels come first so that
//     ARC's "1".."4" and the letters A, B, ... mean what the data means.
//   - A string that equals the text of exactly one choice is that choice:
//     choices ["10", "20"] with answer "20" is the second choice, not index
//     20. Give an index as a JSON number when the choices are numbers too.
//   - A string of decimal digits is an index; a single letter A-Z is a
//     letter beyond the labels (and out of range).
//
// CSV cells are all strings, so there the same string rules apply.
// indexFirst reads a digit string as an index before anything else: it is
// set for evalbench's own files (a labels column beside an index answer),
// where the answer is an index by construction even if the labels or the
// choices are digits too.
func parseAnswer(v any, choices, labels []string, indexFirst bool) (int, error) {
	n := len(choices)
	check := func(i int) (int, error) {
		if i < 0 || i >= n {
			return 0, fmt.Errorf("%d out of range for %d choices", i, n)
		}
		return i, nil
	}
	switch x := v.(type) {
	case nil:
		return 0, fmt.Errorf("missing")
	case unsupported:
		return 0, fmt.Errorf("%s", string(x))
	case int64:
		if x < 0 || x >= int64(n) {
			return 0, fmt.Errorf("%d out of range for %d choices", x, n)
		}
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, fmt.Errorf("%v is not an integer index", x)
		}
		if x < 0 || x >= float64(n) {
			return 0, fmt.Errorf("%v out of range for %d choices", x, n)
		}
		return int(x), nil
	case bool:
		return 0, fmt.Errorf("a boolean is not an answer")
	case []any:
		return 0, fmt.Errorf("a list is not an answer")
	case map[string]any:
		return 0, fmt.Errorf("an object is not an answer")
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, fmt.Errorf("empty")
		}
		if indexFirst && isDigits(s) {
			i, err := strconv.Atoi(s)
			if err != nil {
				return 0, fmt.Errorf("%q is not an index", s)
			}
			return check(i)
		}
		for i, l := range labels {
			if s == l {
				return i, nil
			}
		}
		if i, err := textMatch(x, s, choices); i >= 0 || err != nil {
			return i, err
		}
		if i, err := strconv.Atoi(s); err == nil {
			return check(i)
		}
		if len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' {
			i := int(s[0] - 'A')
			if i >= n {
				return 0, fmt.Errorf("letter %q out of range for %d choices", s, n)
			}
			return i, nil
		}
		return 0, fmt.Errorf("%q is not an index, a label or the text of a choice", s)
	}
	return 0, fmt.Errorf("unsupported type %T", v)
}

// textMatch finds the one choice whose text is x (or, failing that, whose
// trimmed text is s). It returns -1 when none is; two equal choices make
// the answer ambiguous, which is an error rather than a guess.
func textMatch(x, s string, choices []string) (int, error) {
	for _, eq := range []func(c string) bool{
		func(c string) bool { return c == x },
		func(c string) bool { return strings.TrimSpace(c) == s },
	} {
		found := -1
		for i, c := range choices {
			if !eq(c) {
				continue
			}
			if found >= 0 {
				return -1, fmt.Errorf("%q is the text of choices %d and %d", s, found, i)
			}
			found = i
		}
		if found >= 0 {
			return found, nil
		}
	}
	return -1, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
