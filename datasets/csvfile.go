package datasets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// csvSource reads CSV with encoding/csv, which handles quoted newlines, CRLF
// and a missing final newline; FieldPos gives each record's starting line.
// The bytes pass through quoteScanner first, which keeps CRLF inside quoted
// fields and catches a quote that is never closed.
//
// A file is headerless when it is in the original MMLU layout: six columns,
// the last an answer letter, and no header names.
type csvSource struct {
	name       string
	f          *os.File
	r          *csv.Reader
	header     []string
	headerLine int
	headerless bool
	row        int
	pending    []string // a first record read to sniff the header
	pendLine   int
}

// mmluHeaderless reports whether a first CSV record is an original MMLU row
// rather than a header.
func mmluHeaderless(rec []string) bool {
	if len(rec) != 6 {
		return false
	}
	last := strings.TrimSpace(rec[5])
	if len(last) != 1 || last[0] < 'A' || last[0] > 'D' {
		return false
	}
	for _, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "question", "answer", "label", "id":
			return false
		}
	}
	return true
}

// namesColumns reports whether a first CSV record is a header of the MMLU
// columns rather than a question.
func namesColumns(rec []string) bool {
	for _, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "question", "answer":
			return true
		}
	}
	return false
}

func openCSV(f *os.File, name string, layout Layout) (source, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	r := csv.NewReader(&quoteScanner{r: br, line: 1, fieldStart: true})
	r.FieldsPerRecord = -1
	// Python's csv module, which MMLU's own loaders use, takes a quote in
	// the middle of an unquoted field literally; the released MMLU val split
	// has one (college_medicine_val.csv:6).
	r.LazyQuotes = true
	s := &csvSource{name: name, f: f, r: r}
	first, err := r.Read()
	if err == io.EOF {
		return s, nil
	}
	if err != nil {
		return nil, csvErr(name, err, 0)
	}
	line, _ := r.FieldPos(0)
	// Under the mmlu-csv layout (forced, or detected from an earlier file)
	// a file is headerless unless its first row names columns: a
	// directory may mix the original files with headered copies.
	s.headerless = mmluHeaderless(first) || (layout == LayoutMMLUCSV && !namesColumns(first))
	if s.headerless {
		s.pending, s.pendLine = first, line
		return s, nil
	}
	seen := map[string]bool{}
	for i, h := range first {
		if !utf8.ValidString(h) {
			return nil, fileError(fmt.Sprintf("%s:%d", name, line), "header column %d: invalid UTF-8", i+1)
		}
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fileError(name, "line %d: header column %d is empty", line, i+1)
		}
		if seen[h] {
			return nil, fileError(name, "line %d: header column %q appears twice", line, h)
		}
		seen[h] = true
		first[i] = h
	}
	s.header, s.headerLine = first, line
	return s, nil
}

func csvErr(name string, err error, row int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RecordError{File: name, Line: pe.StartLine, Row: row, Err: fmt.Errorf("invalid CSV: %v", pe.Err)}
	}
	var uq *unclosedQuote
	if errors.As(err, &uq) {
		return fileError(fmt.Sprintf("%s:%d", name, uq.line), "a quoted field starts here and is never closed, so the rest of the file would be one field")
	}
	return fileError(name, "%v", err)
}

func (s *csvSource) next() (*raw, error) {
	var rec []string
	var line int
	if s.pending != nil {
		rec, line = s.pending, s.pendLine
		s.pending = nil
	} else {
		var err error
		rec, err = s.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			row := s.row
			s.row++
			return nil, csvErr(s.name, err, row)
		}
		line, _ = s.r.FieldPos(0)
	}
	loc := Location{File: s.name, Line: line, Row: s.row}
	s.row++
	if s.headerless {
		for i, v := range rec {
			if !utf8.ValidString(v) {
				return nil, recordErr(loc, mmluColumns[min(i, len(mmluColumns)-1)], "invalid UTF-8")
			}
		}
		return &raw{cols: rec, loc: loc}, nil
	}
	if len(rec) != len(s.header) {
		return nil, recordErr(loc, "", "%d fields, the header has %d", len(rec), len(s.header))
	}
	m := make(map[string]any, len(rec))
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return nil, recordErr(loc, s.header[i], "invalid UTF-8")
		}
		m[s.header[i]] = v
	}
	return &raw{fields: m, loc: loc}, nil
}

func (s *csvSource) emptyReason() string {
	if s.header != nil {
		return fmt.Sprintf("only a header line, at line %d", s.headerLine)
	}
	return "the file is empty"
}

func (s *csvSource) close() error { return s.f.Close() }

// mmluColumns names the columns of the original MMLU CSVs.
var mmluColumns = []string{"question", "A", "B", "C", "D", "answer"}

// quoteScanner sits between the file and encoding/csv and follows the
// quoting exactly as encoding/csv parses it with LazyQuotes (a field is
// quoted only if its first byte is a quote; inside, "" is a quote, and a
// quote ends the field only before a comma, a line end or the end of the
// file). It does two things encoding/csv cannot:
//
//   - It keeps CRLF inside a quoted field. encoding/csv turns every CRLF
//     into LF, inside quotes too, but Python's csv module keeps it, and
//     cais/mmlu (which lm-eval reads) was built with Python's csv from the
//     original MMLU files: four of their questions hold CRLF
//     (college_mathematics_dev.csv row 2, college_mathematics_val.csv row 3,
//     college_physics_val.csv rows 8 and 10). Prompts must be byte for byte
//     lm-eval's, so a CRLF inside quotes is passed on as CR CR LF, which
//     encoding/csv reads back as CRLF. Line numbers do not change.
//   - It reports a quote that is never closed, with the line it opens on.
//     With LazyQuotes, encoding/csv would read the rest of the file into
//     that one field and say nothing.
type quoteScanner struct {
	r          *bufio.Reader
	line       int
	quoted     bool
	fieldStart bool
	quoteLine  int
	pend       []byte // bytes produced but not yet returned
	err        error
}

type unclosedQuote struct{ line int }

func (e *unclosedQuote) Error() string {
	return fmt.Sprintf("line %d: quoted field never closed", e.line)
}

func (q *quoteScanner) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(q.pend) > 0 {
			c := copy(p[n:], q.pend)
			q.pend = q.pend[c:]
			n += c
			continue
		}
		if q.err != nil {
			break
		}
		b, err := q.r.ReadByte()
		if err != nil {
			q.err = err
			if err == io.EOF && q.quoted {
				q.err = &unclosedQuote{line: q.quoteLine}
			}
			break
		}
		p[n] = b
		n++
		q.step(b)
	}
	if n > 0 {
		return n, nil
	}
	return 0, q.err
}

// step advances the quoting state past byte b, which has been passed on;
// it may queue bytes in pend.
func (q *quoteScanner) step(b byte) {
	if b == '\n' {
		q.line++
	}
	if !q.quoted {
		switch b {
		case ',', '\n':
			q.fieldStart = true
		case '"':
			q.quoted = q.fieldStart
			q.quoteLine = q.line
			q.fieldStart = false
		default:
			q.fieldStart = false
		}
		return
	}
	switch b {
	case '\r':
		if next, _ := q.r.Peek(1); len(next) == 1 && next[0] == '\n' {
			q.pend = append(q.pend[:0], '\r')
		}
	case '"':
		next, _ := q.r.Peek(2)
		switch {
		case len(next) == 0, next[0] == ',', next[0] == '\n',
			next[0] == '\r' && (len(next) == 1 || next[1] == '\n'):
			q.quoted = false // the closing quote
		case next[0] == '"':
			q.r.ReadByte() // an escaped quote: pass both on
			q.pend = append(q.pend[:0], '"')
		}
		// Otherwise a bare quote inside the field, kept as LazyQuotes does.
	}
}
