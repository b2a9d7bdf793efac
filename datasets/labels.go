package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// labelFile streams PIQA's labels, kept in a sibling file: valid.jsonl's
// labels are in valid-labels.lst, line i+1 for row i. Labels are fetched by
// row number, not one per call, so a row that fails before its label is
// looked at (a missing goal, bad JSON) cannot shift every later label.
type labelFile struct {
	name string
	f    *os.File
	r    *bufio.Reader
	line int // lines read so far: the next line holds the label of row line
	eof  bool
	// short is set once a row has been told there is no label for it, so
	// the count at the end does not say so a second time.
	short bool
}

// siblingLabels returns the path of a data file's labels file, if present.
func siblingLabels(path string) string {
	p := filepath.Join(filepath.Dir(path), stem(path)+"-labels.lst")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	return ""
}

func openLabels(path string) (*labelFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return &labelFile{name: displayName(path), f: f, r: bufio.NewReader(f)}, nil
}

// readLine returns the next line, or ok false at the end of the file.
func (l *labelFile) readLine() (line []byte, ok bool, err error) {
	if l.eof {
		return nil, false, nil
	}
	b, err := l.r.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, false, fmt.Errorf("%s: %v", l.name, err)
	}
	if err == io.EOF {
		l.eof = true
		if len(b) == 0 {
			return nil, false, nil
		}
	}
	l.line++
	if l.line == 1 {
		b = bytes.TrimPrefix(b, utf8BOM)
	}
	return b, true, nil
}

// at returns the label of data row row. Rows must be asked for in
// increasing order; the lines of rows never asked for are passed over.
func (l *labelFile) at(row int) (any, error) {
	if row < l.line {
		return nil, fmt.Errorf("%s: label of row %d asked for after row %d", l.name, row, l.line-1)
	}
	for {
		b, ok, err := l.readLine()
		if err != nil {
			return nil, err
		}
		if !ok {
			l.short = true
			return nil, fmt.Errorf("%s ends at line %d: fewer labels than rows", l.name, l.line)
		}
		if l.line-1 < row { // line l.line holds the label of row l.line-1
			continue
		}
		s := strings.TrimSpace(string(b))
		i, perr := strconv.Atoi(s)
		if perr != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a label index", l.name, l.line, s)
		}
		return int64(i), nil
	}
}

// finish checks, once the data file's rows are done, that the labels file
// has exactly one label per row. Blank lines at the end do not count.
func (l *labelFile) finish(dataName string, rows int) error {
	n := l.line
	for {
		b, ok, err := l.readLine()
		if err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
		if !ok {
			break
		}
		if len(bytes.TrimSpace(b)) > 0 {
			n = l.line
		}
	}
	if n > rows || (n < rows && !l.short) {
		return fmt.Errorf("datasets: %s has %d labels but %s has %d rows", l.name, n, dataName, rows)
	}
	return nil
}

func (l *labelFile) close() error { return l.f.Close() }
