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
// labels are in valid-labels.lst, line i for row i.
type labelFile struct {
	name string
	f    *os.File
	r    *bufio.Reader
	line int
}

// siblingLabels returns the path of a data file's labels file, if present.
func siblingLabels(path string) string {
	p := filepath.Join(filepath.Dir(path), stem(path)+"-labels.lst")
	if _, err := os.Stat(p); err == nil {
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

func (l *labelFile) next() (any, error) {
	b, err := l.r.ReadBytes('\n')
	if len(b) == 0 && err == io.EOF {
		return nil, fmt.Errorf("%s ends at line %d: fewer labels than rows", l.name, l.line)
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %v", l.name, err)
	}
	l.line++
	s := strings.TrimSpace(string(bytes.TrimPrefix(b, utf8BOM)))
	i, perr := strconv.Atoi(s)
	if perr != nil {
		return nil, fmt.Errorf("%s:%d: %q is not a label index", l.name, l.line, s)
	}
	return int64(i), nil
}

// finish checks that no labels are left over once the rows are done.
func (l *labelFile) finish(dataName string, rows int) error {
	for {
		b, err := l.r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			return fmt.Errorf("datasets: %s has more labels than %s has rows (%d)", l.name, dataName, rows)
		}
		if err != nil {
			return nil
		}
	}
}

func (l *labelFile) close() error { return l.f.Close() }
