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
//
// A file is headerless when it is in the original MMLU layout: six columns,
// the last an answer letter, and no header names.
type csvSource struct {
	name       string
	f          *os.File
	r          *csv.Reader
	header     []string
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

func openCSV(f *os.File, name string, layout Layout) (source, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
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
	switch {
	case layout == LayoutMMLUCSV:
		s.headerless = true
	case layout == "" && mmluHeaderless(first):
		s.headerless = true
	}
	if s.headerless {
		s.pending, s.pendLine = first, line
		return s, nil
	}
	seen := map[string]bool{}
	for i, h := range first {
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
	s.header = first
	return s, nil
}

func csvErr(name string, err error, row int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RecordError{File: name, Line: pe.StartLine, Row: row, Err: fmt.Errorf("invalid CSV: %v", pe.Err)}
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

func (s *csvSource) close() error { return s.f.Close() }

// mmluColumns names the columns of the original MMLU CSVs.
var mmluColumns = []string{"question", "A", "B", "C", "D", "answer"}
