package datasets

import (
	"fmt"
)

// RecordError is a bad record: where it is, which field, and what is wrong.
type RecordError struct {
	File  string
	Line  int // 0 when the format has no lines (Parquet)
	Row   int
	Field string // "" when the whole record is at fault (e.g. invalid JSON)
	Err   error
}

func (e *RecordError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	} else {
		where = fmt.Sprintf("%s: row %d", e.File, e.Row)
	}
	if e.Field == "" {
		return fmt.Sprintf("datasets: %s: %v", where, e.Err)
	}
	return fmt.Sprintf("datasets: %s: field %q: %v", where, e.Field, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

func recordErr(loc Location, field string, format string, args ...any) *RecordError {
	return &RecordError{File: loc.File, Line: loc.Line, Row: loc.Row, Field: field, Err: fmt.Errorf(format, args...)}
}

// fileError is a problem with a whole file (unreadable, not what its name
// says). It always stops reading, whatever the policy.
func fileError(name string, format string, args ...any) error {
	return fmt.Errorf("datasets: %s: %s", name, fmt.Sprintf(format, args...))
}
