package datasets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// raw is one record as read from a file, before any layout is applied.
type raw struct {
	// fields holds named values: string, int64, float64, bool, nil, []any
	// or map[string]any.
	fields map[string]any
	// cols holds the columns of a headerless CSV row (original MMLU).
	cols []string
	loc  Location
}

// source yields the raw records of one file.
type source interface {
	// next returns the next record; io.EOF at the end; a *RecordError for a
	// bad record, after which reading may go on; any other error is fatal.
	next() (*raw, error)
	close() error
}

// decodeObject decodes one JSON object, turning numbers into int64 or
// float64. Invalid UTF-8 is an error naming the field it is in: the standard
// decoder would silently replace it with U+FFFD.
func decodeObject(b []byte, loc Location) (map[string]any, *RecordError) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, recordErr(loc, "", "invalid JSON: a record must be a JSON object")
	}
	valid := utf8.Valid(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, recordErr(loc, "", "invalid JSON: %s", jsonMessage(err))
	}
	if dec.More() {
		return nil, recordErr(loc, "", "invalid JSON: more than one value on the line")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, recordErr(loc, "", "invalid JSON: trailing data after the object")
	}
	normalize(m)
	if !valid {
		return nil, recordErr(loc, badUTF8Field(m), "invalid UTF-8")
	}
	return m, nil
}

func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// badUTF8Field finds the key whose value held the invalid bytes (they decode
// as U+FFFD).
func badUTF8Field(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.ContainsRune(k, utf8.RuneError) || hasRuneError(m[k]) {
			return k
		}
	}
	return ""
}

func hasRuneError(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, utf8.RuneError)
	case []any:
		for _, x := range v {
			if hasRuneError(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, utf8.RuneError) || hasRuneError(x) {
				return true
			}
		}
	}
	return false
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
