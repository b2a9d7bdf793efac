package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/valyala/fastjson"
)

// jsonlSource reads one JSON object per line. Lines may be of any length
// (bufio.Reader.ReadBytes has no limit, unlike bufio.Scanner), may end in
// CRLF, and the last may lack its newline; blank lines are skipped.
type jsonlSource struct {
	name string
	f    *os.File
	gz   *gzip.Reader
	r    *bufio.Reader
	line int
	row  int
	json fastjson.Parser
}

func openJSONL(f *os.File, name string, gz bool) (source, error) {
	s := &jsonlSource{name: name, f: f}
	var rd io.Reader = f
	if gz {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return nil, fileError(name, "not valid gzip: %v", err)
		}
		s.gz = zr
		rd = zr
	}
	s.r = bufio.NewReaderSize(rd, 64<<10)
	return s, nil
}

func (s *jsonlSource) next() (*raw, error) {
	for {
		b, err := s.r.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, fileError(fmt.Sprintf("%s:%d", s.name, s.line+1), "%v", err)
		}
		s.line++
		if s.line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		loc := Location{File: s.name, Line: s.line, Row: s.row}
		s.row++
		m, rerr := decodeObject(&s.json, b, loc)
		if rerr != nil {
			return nil, rerr
		}
		return &raw{fields: m, loc: loc}, nil
	}
}

func (s *jsonlSource) emptyReason() string {
	if s.line == 0 {
		return "the file is empty"
	}
	return "only blank lines"
}

func (s *jsonlSource) close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

// jsonArraySource reads a .json file holding one array of objects. The file
// is read whole, so its size is bounded by Options.MaxJSONBytes.
type jsonArraySource struct {
	name  string
	data  []byte
	dec   *json.Decoder
	line  int // line of data[pos]
	pos   int
	row   int
	ended bool
}

func openJSONArray(f *os.File, name string, limit int64) (source, error) {
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileError(name, "%v", err)
	}
	if st.Size() > limit {
		return nil, fileError(name, "%d bytes is over the %d-byte limit for .json arrays; convert it to JSONL (one object per line), which streams", st.Size(), limit)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fileError(name, "%v", err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	s := &jsonArraySource{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data)), line: 1}
	tok, err := s.dec.Token()
	if err != nil || tok != json.Delim('[') {
		hint := ""
		switch looksLike(data) {
		case "JSON lines":
			hint = ": it looks like JSON lines; name it .jsonl"
		case "CSV":
			hint = ": it looks like CSV; name it .csv"
		}
		return nil, fileError(name, "not a JSON array of records (a .json file must hold [ {...}, ... ]; use .jsonl for one object per line)%s", hint)
	}
	return s, nil
}

// at names a line of the file in messages, as name:line.
func (s *jsonArraySource) at(line int) string { return fmt.Sprintf("%s:%d", s.name, line) }

func (s *jsonArraySource) emptyReason() string { return "the array is empty" }

// advance moves the line count up to byte offset off.
func (s *jsonArraySource) advance(off int) {
	if off > len(s.data) {
		off = len(s.data)
	}
	s.line += bytes.Count(s.data[s.pos:off], []byte{'\n'})
	s.pos = off
}

func (s *jsonArraySource) next() (*raw, error) {
	if s.ended {
		return nil, io.EOF
	}
	if !s.dec.More() {
		s.ended = true
		if _, err := s.dec.Token(); err != nil {
			s.advance(len(s.data))
			return nil, fileError(s.at(s.line), "unterminated array: %v", err)
		}
		// Anything but white space after the closing ] is a mistake, such
		// as two arrays pasted together or a stray record.
		if off := nextNonSpace(s.data, int(s.dec.InputOffset())); off < len(s.data) {
			s.advance(off)
			return nil, fileError(s.at(s.line), "data after the closing ] of the array (at byte %d)", off+1)
		}
		return nil, io.EOF
	}
	// Skip separators to find the line the element starts on.
	off := int(s.dec.InputOffset())
	for off < len(s.data) && (s.data[off] == ',' || s.data[off] == ' ' || s.data[off] == '\n' || s.data[off] == '\r' || s.data[off] == '\t') {
		off++
	}
	s.advance(off)
	loc := Location{File: s.name, Line: s.line, Row: s.row}
	s.row++
	var rawMsg json.RawMessage
	if err := s.dec.Decode(&rawMsg); err != nil {
		// The decoder cannot resynchronise inside a broken array.
		s.ended = true
		return nil, fileError(s.at(s.line), "invalid JSON: %s", jsonMessage(err))
	}
	m, rerr := decodeObject(nil, rawMsg, loc)
	if rerr != nil {
		return nil, rerr
	}
	return &raw{fields: m, loc: loc}, nil
}

func (s *jsonArraySource) close() error { return nil }
