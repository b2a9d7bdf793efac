package datasets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// raw is one record as read from a file, before any layout is applied.
type raw struct {
	// fields holds named values: string, int64, float64, bool, nil, []any,
	// map[string]any, or unsupported for a column that could not be read.
	fields map[string]any
	// cols holds the columns of a headerless CSV row (original MMLU).
	cols []string
	loc  Location
	// label is the row's label from a sibling *-labels.lst file (PIQA), or
	// labelErr why it could not be had; hasLabel says the file is in use.
	label     any
	labelErr  error
	labelFrom string // the labels file, for messages
	hasLabel  bool
}

// unsupported stands in for a value that could not be decoded, such as a
// Parquet list of lists. It says why, so the message names the real reason
// when a layout needs the field, instead of calling it missing.
type unsupported string

// source yields the raw records of one file.
type source interface {
	// next returns the next record; io.EOF at the end; a *RecordError for a
	// bad record, after which reading may go on; any other error is fatal.
	// Every record or *RecordError is one row: rows are counted the same
	// way by every source, so a row number addresses one record.
	next() (*raw, error)
	close() error
}

// decodeObject decodes one JSON object, turning numbers into int64 or
// float64. Text that the standard decoder would silently replace with U+FFFD
// (invalid UTF-8, or a \u escape of a lone UTF-16 surrogate) is an error
// naming the field it is in, so no record is scored on altered text.
//
// p, when not nil, reads a valid record with fastjson (several times
// faster; a file of records is read twice, to check it and to run it);
// the standard decoder still reads an invalid one, for its message.
func decodeObject(p *fastjson.Parser, b []byte, loc Location) (map[string]any, *RecordError) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, recordErr(loc, "", "invalid JSON: a record must be a JSON object")
	}
	v, ok := fastValue(p, b)
	if !ok {
		var err error
		if v, err = decodeValue(b); err != nil {
			return nil, recordErr(loc, "", "invalid JSON: %s", err)
		}
	}
	if bad := invalidUTF8At(b); bad >= 0 {
		return nil, recordErr(loc, fieldAt(b, bad), "invalid UTF-8")
	}
	if bad, esc := loneSurrogateAt(b); bad >= 0 {
		return nil, recordErr(loc, fieldAt(b, bad), "invalid UTF-16: lone surrogate %s", esc)
	}
	return v.(map[string]any), nil
}

// fastValue decodes b as decodeValue would, if it is valid JSON: the same
// values (numbers through strconv from their literal), the later of two
// equal keys. Text encoding/json would alter (bad UTF-8, lone surrogates)
// comes out differently, but decodeObject refuses such records anyway.
//
// fastjson's validator misses a raw control character that comes before an
// escape in the same string, so text with both goes to encoding/json.
func fastValue(p *fastjson.Parser, b []byte) (any, bool) {
	if p == nil || bytes.IndexByte(b, '\\') >= 0 && bytes.IndexFunc(b, func(r rune) bool { return r < 0x20 }) >= 0 ||
		fastjson.ValidateBytes(b) != nil {
		return nil, false
	}
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, false
	}
	return fastAny(v), true
}

func fastAny(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		o.Visit(func(k []byte, x *fastjson.Value) { m[string(k)] = fastAny(x) })
		return m
	case fastjson.TypeArray:
		a, _ := v.Array()
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = fastAny(x)
		}
		return out
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return string(s)
	case fastjson.TypeNumber:
		var buf [32]byte
		lit := string(v.MarshalTo(buf[:0]))
		if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(lit, 64) // as json.Number.Float64: ±Inf past the range
		return f
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

// decodeValue decodes exactly one JSON value and nothing after it.
func decodeValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New(jsonMessage(err))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the end of the value (at byte %d)", nextNonSpace(b, int(end))+1)
	}
	return normalize(v), nil
}

func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// nextNonSpace returns the offset of the first byte at or after i that is
// not JSON whitespace.
func nextNonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8, or -1.
func invalidUTF8At(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogateAt finds a \uD800-\uDFFF escape that is not half of a pair
// and returns its offset and text, or -1. Every backslash in valid JSON
// starts an escape, so stepping over escapes one by one never mistakes an
// escaped backslash followed by "ud800" for a surrogate.
func loneSurrogateAt(b []byte) (int, string) {
	for i := 0; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			break
		}
		i += j
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // a two-character escape
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return i, string(b[i : i+6])
		case r >= 0xDC00 && r <= 0xDFFF:
			return i, string(b[i : i+6])
		}
		i += 5
	}
	return -1, ""
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}

// fieldAt names the top-level key of the JSON object b whose key or value
// holds byte offset off, or "" if none does.
func fieldAt(b []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if off < int(dec.InputOffset()) {
			return key
		}
	}
	return ""
}

// normalize replaces json.Number with int64 (when integral) or float64.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// appendFieldsJSON writes a record's original fields as a JSON object that
// decodeObject turns back into the same values: keys sorted, and a float
// that happens to be whole keeps a ".0" so it does not come back as int64.
// Columns that could not be read are written as null.
func appendFieldsJSON(buf []byte, m map[string]any) ([]byte, error) {
	return appendJSON(buf, m, "")
}

func appendJSON(buf []byte, v any, field string) ([]byte, error) {
	switch x := v.(type) {
	case nil, unsupported:
		return append(buf, "null"...), nil
	case string:
		return appendJSONString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("field %q: %v cannot be written as JSON", field, x)
		}
		n := len(buf)
		buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		if !bytes.ContainsAny(buf[n:], ".eE") {
			buf = append(buf, ".0"...)
		}
		return buf, nil
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendJSON(buf, e, field); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			sub := k
			if field != "" {
				sub = field + "." + k
			}
			var err error
			if buf, err = appendJSON(buf, x[k], sub); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("field %q: %v", field, err)
	}
	return append(buf, b...), nil
}

// appendJSONString quotes s as JSON without HTML escaping, so the text
// stays readable in a CSV cell.
func appendJSONString(buf []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte{'\n'})...)
}
