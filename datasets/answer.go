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

// parseAnswer resolves an answer given as an index, a letter, a label, a
// digit string or the text of a choice. zeroBased says how a bare number is
// read; labels are tried before letters so ARC's "1".."4" mean what the data
// means.
func parseAnswer(v any, choices, labels []string) (int, error) {
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
	case int64:
		return check(int(x))
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not an integer index", x)
		}
		return check(int(x))
	case bool:
		return 0, fmt.Errorf("a boolean is not an answer")
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, fmt.Errorf("empty")
		}
		for i, l := range labels {
			if s == l {
				return i, nil
			}
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
		for i, c := range choices {
			if x == c || s == strings.TrimSpace(c) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%q is not an index, a label or the text of a choice", s)
	}
	return 0, fmt.Errorf("unsupported type %T", v)
}
