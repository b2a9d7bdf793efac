package endpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// encoding/json turns a null inside []int, []float64 or a map of floats into
// a silent 0, and names no index when a value has the wrong type. Scores are
// sums of these numbers, so the lists that carry them are decoded here
// instead, strictly, with errors that say where.

// shapeError says which value of a reply had the wrong shape. path is
// relative to wherever decoding started ("token_logprobs[3]", "[2]").
type shapeError struct {
	path string
	msg  string
}

func (e *shapeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func shapef(path, format string, args ...any) *shapeError {
	return &shapeError{path: path, msg: fmt.Sprintf(format, args...)}
}

// under places err below parent: a shapeError's path is joined to parent;
// anything else is prefixed with it.
func under(parent string, err error) error {
	if se, ok := err.(*shapeError); ok {
		return &shapeError{path: joinPath(parent, se.path), msg: se.msg}
	}
	if parent == "" {
		return err
	}
	return &shapeError{path: parent, msg: err.Error()}
}

func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case child[0] == '[':
		return parent + child
	}
	return parent + "." + child
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

var nullLit = []byte("null")

func isNull(b []byte) bool { return bytes.Equal(b, nullLit) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimWS(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// kindOf names the JSON kind of a value for error messages.
func kindOf(b []byte) string {
	b = trimWS(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	if isJSONNumber(b) {
		return "the number " + truncate(string(b), 32)
	}
	return "invalid JSON"
}

// isJSONNumber reports whether b is exactly a JSON number literal. It keeps
// strconv from accepting what JSON does not ("inf", "0x1p3", "1_0").
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}

func parseIntLit(lit []byte) (int, string) {
	if !isJSONNumber(lit) {
		return 0, "not a number"
	}
	v, err := strconv.Atoi(string(lit))
	if err != nil {
		if bytes.ContainsAny(lit, ".eE") {
			return 0, "got " + string(lit) + ", want an integer"
		}
		return 0, string(lit) + " is out of range"
	}
	return v, ""
}

func parseFloatLit(lit []byte) (float64, string) {
	if !isJSONNumber(lit) {
		return 0, "not a number"
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return 0, truncate(string(lit), 32) + " is out of range"
	}
	return v, ""
}

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// parseList parses a JSON list of numbers. Absent (empty input) and null give
// nil; an empty list gives an empty, non-nil slice. want names an element
// ("an integer", "a number").
func parseList[T any](b []byte, want string, parse func([]byte) (T, string)) ([]T, error) {
	b = trimWS(b)
	if len(b) == 0 || isNull(b) {
		return nil, nil
	}
	if b[0] != '[' {
		return nil, shapef("", "got %s, want a list", kindOf(b))
	}
	out := make([]T, 0, bytes.Count(b, []byte{','})+1)
	i := skipWS(b, 1)
	if i < len(b) && b[i] == ']' {
		if skipWS(b, i+1) != len(b) {
			return nil, shapef("", "invalid JSON after the list")
		}
		return out, nil
	}
	for idx := 0; ; idx++ {
		i = skipWS(b, i)
		start := i
		for i < len(b) && isNumByte(b[i]) {
			i++
		}
		if start == i {
			if start >= len(b) {
				return nil, shapef("", "unterminated list")
			}
			return nil, shapef(index(idx), "got %s, want %s", kindOf(elementPrefix(b[start:])), want)
		}
		v, bad := parse(b[start:i])
		if bad != "" {
			if bad == "not a number" {
				bad = "got invalid JSON " + strconv.Quote(truncate(string(b[start:i]), 32)) + ", want " + want
			}
			return nil, shapef(index(idx), "%s", bad)
		}
		out = append(out, v)
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, shapef("", "unterminated list")
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != ']' {
			return nil, shapef(index(idx), "got invalid JSON, want %s", want)
		}
		if skipWS(b, i+1) != len(b) {
			return nil, shapef("", "invalid JSON after the list")
		}
		return out, nil
	}
}

// elementPrefix is enough of a list element to name its kind.
func elementPrefix(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, nullLit):
		return nullLit
	case len(b) > 0 && (b[0] == 't' || b[0] == 'f'):
		return b[:1]
	}
	return b[:min(len(b), 1)]
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func parseInts(b []byte) ([]int, error) { return parseList(b, "an integer", parseIntLit) }

func parseFloats(b []byte) ([]float64, error) { return parseList(b, "a number", parseFloatLit) }

// ints is a strictly decoded list of integers (token IDs, offsets).
type ints []int

func (x *ints) UnmarshalJSON(b []byte) error {
	v, err := parseInts(b)
	if err != nil {
		return err
	}
	*x = v
	return nil
}

// parseStrings decodes a list of strings, refusing nulls.
func parseStrings(b []byte) ([]string, error) {
	b = trimWS(b)
	if len(b) == 0 || isNull(b) {
		return nil, nil
	}
	if b[0] != '[' {
		return nil, shapef("", "got %s, want a list", kindOf(b))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, shapef("", "%v", err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		if len(it) == 0 || it[0] != '"' {
			return nil, shapef(index(i), "got %s, want a string", kindOf(it))
		}
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return nil, shapef(index(i), "%v", err)
		}
	}
	return out, nil
}

// parseTopLogprobs decodes a list of {token: logprob} dictionaries. A null
// dictionary stays nil (no alternatives known at that position); a null or
// non-number logprob is an error.
func parseTopLogprobs(b []byte) ([]map[string]float64, error) {
	b = trimWS(b)
	if len(b) == 0 || isNull(b) {
		return nil, nil
	}
	if b[0] != '[' {
		return nil, shapef("", "got %s, want a list", kindOf(b))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, shapef("", "%v", err)
	}
	out := make([]map[string]float64, len(items))
	for i, it := range items {
		it = trimWS(it)
		if isNull(it) {
			continue
		}
		if len(it) == 0 || it[0] != '{' {
			return nil, shapef(index(i), "got %s, want an object of token: logprob", kindOf(it))
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(it, &raw); err != nil {
			return nil, shapef(index(i), "%v", err)
		}
		m := make(map[string]float64, len(raw))
		for k, v := range raw {
			f, bad := parseFloatLit(trimWS(v))
			if bad != "" {
				return nil, shapef(index(i)+"["+strconv.Quote(k)+"]", "got %s, want a number", kindOf(v))
			}
			m[k] = f
		}
		out[i] = m
	}
	return out, nil
}

// node describes where a reply's values sit, so that a reply which failed to
// decode can be walked again, value by value, to say where it went wrong.
// Only the error path uses it.
type node struct {
	leaf   func(raw []byte) error
	fields []field
	elem   *node
}

type field struct {
	name string
	node *node
}

func obj(fs ...field) *node        { return &node{fields: fs} }
func list(elem *node) *node        { return &node{elem: elem} }
func f(name string, n *node) field { return field{name, n} }
func leaf(fn func([]byte) error) *node {
	return &node{leaf: fn}
}

var (
	strNode = leaf(func(b []byte) error {
		if b[0] != '"' {
			return shapef("", "got %s, want a string", kindOf(b))
		}
		return nil
	})
	intNode = leaf(func(b []byte) error {
		if _, bad := parseIntLit(b); bad != "" {
			return shapef("", "got %s, want an integer", kindOf(b))
		}
		return nil
	})
	intsNode     = leaf(func(b []byte) error { _, err := parseInts(b); return err })
	logprobsNode = leaf(func(b []byte) error { var lp Logprobs; return lp.decode(b) })
	chatLPNode   = leaf(func(b []byte) error { var lp ChatLogprobs; return lp.decode(b) })
	tokenIDNode  = leaf(func(b []byte) error { var t tokenIDs; return t.UnmarshalJSON(b) })
	usageNode    = obj(f("prompt_tokens", intNode), f("completion_tokens", intNode), f("total_tokens", intNode),
		f("prompt_tokens_details", obj(f("cached_tokens", intNode))))
)

// explain walks raw by n and returns the first misplaced value, or nil.
func (n *node) explain(path string, raw []byte) error {
	raw = trimWS(raw)
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	switch {
	case n.leaf != nil:
		if err := n.leaf(raw); err != nil {
			return under(path, err)
		}
	case n.elem != nil:
		if raw[0] != '[' {
			return shapef(path, "got %s, want a list", kindOf(raw))
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil // invalid JSON: the decoder's own error says where
		}
		for i, it := range items {
			if err := n.elem.explain(path+index(i), it); err != nil {
				return err
			}
		}
	default:
		if raw[0] != '{' {
			return shapef(path, "got %s, want an object", kindOf(raw))
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil // invalid JSON: the decoder's own error says where
		}
		for _, fl := range n.fields {
			if v, ok := m[fl.name]; ok {
				if err := fl.node.explain(joinPath(path, fl.name), v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// explainDecode turns a failed decode into the most precise error it can.
func explainDecode(shape *node, data []byte, err error) error {
	if shape != nil {
		if e := shape.explain("", data); e != nil {
			return e
		}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	return err
}
