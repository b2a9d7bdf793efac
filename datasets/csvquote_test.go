package datasets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseCSV reads all records as encoding/csv does with our settings,
// through the quoteScanner or not.
func parseCSV(data []byte, scan bool) ([][]string, error) {
	var rd io.Reader = bytes.NewReader(data)
	if scan {
		rd = &quoteScanner{r: bufio.NewReader(rd), line: 1, fieldStart: true}
	}
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	return r.ReadAll()
}

// FuzzQuoteScanner holds the scanner to encoding/csv: reading through it
// gives the same records as reading without it, except that CRLF inside
// quotes survives and an unclosed quote is an error. If the scanner ever
// disagreed with encoding/csv about where a quoted field starts or ends,
// fields would differ here.
func FuzzQuoteScanner(f *testing.F) {
	for _, s := range []string{
		"a,b\r\nc,d\r\n",
		"\"x\r\ny\",z\r\n",
		"\"x\"\"y\",\"\"\r\n\"\"\"\r\n\",q",
		"\"a\"b,c\nd,\"e\r\n\"",
		"a\"b,\"c\"\r\r\n",
		"\"never closed\r\nx,y\n",
		"\"q\"\r",
		"\r\n\r\n\"\r\n\"\r\n",
		" \"a\",b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, perr := parseCSV(data, false)
		kept, kerr := parseCSV(data, true)
		var uq *unclosedQuote
		if errors.As(kerr, &uq) {
			return // encoding/csv would have read the rest of the file as one field
		}
		if (perr == nil) != (kerr == nil) {
			t.Fatalf("errors differ: %v vs %v", perr, kerr)
		}
		for _, rec := range kept {
			for i, f := range rec {
				rec[i] = strings.ReplaceAll(f, "\r\n", "\n")
			}
		}
		if !reflect.DeepEqual(plain, kept) {
			t.Fatalf("records differ:\n%q\n%q", plain, kept)
		}
	})
}

func TestQuoteScannerKeepsCRLFOnlyInQuotes(t *testing.T) {
	cases := []struct {
		in   string
		want [][]string
	}{
		{"a,\"b\r\nc\"\r\nd,e\r\n", [][]string{{"a", "b\r\nc"}, {"d", "e"}}},
		{"a,\"b\nc\"\nd,e", [][]string{{"a", "b\nc"}, {"d", "e"}}},
		{"x\"y,\"z\"\r\nw,v\r\n", [][]string{{"x\"y", "z"}, {"w", "v"}}},
		{"\"a\"\"\r\n\"\"b\",c\r\n", [][]string{{"a\"\r\n\"b", "c"}}},
	}
	for _, tc := range cases {
		got, err := parseCSV([]byte(tc.in), true)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// The four MMLU questions with CRLF inside their quotes keep it, as
// cais/mmlu (built with Python's csv) and so lm-eval's prompts have it.
func TestSharedMMLUKeepsCRLF(t *testing.T) {
	needShared(t)
	cases := []struct {
		file string
		row  int
	}{
		{"dev/college_mathematics_dev.csv", 2},
		{"val/college_mathematics_val.csv", 3},
		{"val/college_physics_val.csv", 8},
		{"val/college_physics_val.csv", 10},
	}
	for _, tc := range cases {
		path := filepath.Join(sharedData, "mmlu", filepath.FromSlash(tc.file))
		exs, _, err := readAll(t, []string{path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		q := exs[tc.row].Question
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(q, "\r\n") || !bytes.Contains(raw, []byte(q)) {
			t.Errorf("%s row %d: %q is not the file's bytes with its CRLF", tc.file, tc.row, q)
		}
	}
}
