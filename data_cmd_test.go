package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Tests of the inspect and convert commands. The summary's exact text is
// pinned by the datasets package's golden files; these run the commands.

const dataFixtures = "datasets/testdata/inspect"

// inspect prints every section: the golden file the datasets package keeps
// for the same fixture, with the fixture's path as seen from here.
func TestInspectPrintsEverySection(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join(dataFixtures, "mixed.txt.golden"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(string(golden), "testdata/inspect/", dataFixtures+"/")
	r := evalbench(t, nil, "inspect", filepath.Join(dataFixtures, "mixed.jsonl"))
	if r.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.code != 1 || !strings.Contains(r.stderr, "2 invalid records") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	// The sections, one by one, so a missing one is named.
	for _, line := range []string{
		"subjects (3)\n  astronomy  3\n  virology   2\n  (none)     1\n",
		"choices per question\n  2  2   33.3%",
		"answer distribution\n  A  1   16.7%",
		"  [a3] How many moons does Mars have?\n      0. 0\n      1. 1\n      2. 2\n      answer: C\n",
		`mixed.jsonl:5: field "answer": 5 out of range for 2 choices`,
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("no %q in the output", line)
		}
	}
}

type inspectDoc struct {
	Layout   string            `json:"layout"`
	Files    []string          `json:"files"`
	Rows     int               `json:"rows"`
	Valid    int               `json:"valid"`
	Invalid  int               `json:"invalid"`
	Errors   []string          `json:"errors"`
	Subjects []map[string]any  `json:"subjects"`
	Choices  []map[string]any  `json:"choices_per_question"`
	Answers  []map[string]any  `json:"answers"`
	Samples  []json.RawMessage `json:"samples"`
	Fatal    string            `json:"fatal"`
}

// --format json is always one whole document, with the error in it, and the
// exit code says it failed.
func TestInspectJSONIsAlwaysWhole(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.jsonl", `{"question":"q","subject":"s","choices":["a","b"],"answer":1}`+"\n")
	cases := []struct {
		name  string
		paths []string
		fatal string // part of the fatal message; "" for none
		valid int
		errs  int
	}{
		{"first file not what its name says", []string{write("bin.jsonl", "PAR1\x00\x01"), good}, "not JSONL: it is a Parquet file", 0, 0},
		{"first file missing", []string{filepath.Join(dir, "nope.jsonl"), good}, "no such file", 0, 0},
		{"no valid row", []string{write("bad.jsonl", `{"question":"q","choices":["a"],"answer":0}`+"\n{oops\n")}, "", 0, 2},
		{"empty file", []string{write("empty.csv", "")}, "empty.csv: no records (the file is empty)", 0, 0},
		{"second file fails", []string{good, write("hdr.csv", "question,choices,answer\n")}, "hdr.csv: no records (only a header line, at line 1)", 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := evalbench(t, nil, append([]string{"inspect", "--format", "json"}, tc.paths...)...)
			var doc inspectDoc
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
			}
			if !strings.Contains(r.stdout, `"samples": [`) || !strings.Contains(r.stdout, `"errors": [`) || !strings.Contains(r.stdout, `"files": [`) {
				t.Fatalf("a list is null or missing:\n%s", r.stdout)
			}
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if tc.fatal != "" && (!strings.Contains(doc.Fatal, tc.fatal) || !strings.Contains(r.stderr, tc.fatal)) {
				t.Fatalf("fatal %q, stderr %q; want %q in both", doc.Fatal, r.stderr, tc.fatal)
			}
			if tc.fatal == "" && doc.Fatal != "" {
				t.Fatalf("unexpected fatal %q", doc.Fatal)
			}
			if doc.Valid != tc.valid || len(doc.Errors) != tc.errs || len(doc.Samples) != tc.valid {
				t.Fatalf("valid %d, errors %v, samples %d", doc.Valid, doc.Errors, len(doc.Samples))
			}
		})
	}
}

// An input with no records is an error for every command that reads data,
// and so is JSON in a file named .csv (which would pass as a header).
func TestDataWithNoRecordsFails(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, data, want string }{
		{"empty.csv", "", "empty.csv: no records (the file is empty)"},
		{"header.csv", "question,choices,answer\r\n", "header.csv: no records (only a header line, at line 1)"},
		{"lines.csv", `{"question":"q","choices":["a","b"],"answer":0}` + "\n", "lines.csv: not CSV: looks like JSON lines"},
		{"empty.jsonl", "\n\n", "empty.jsonl: no records (only blank lines)"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"inspect", p},
			{"convert", p, filepath.Join(dir, "out.jsonl")},
			{"run", "--base-url", "sim", "--model", "demo", "--dataset", p, "--out", filepath.Join(dir, "run"), "--quiet"},
		} {
			r := evalbench(t, nil, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s %s: exit %d, stderr %q; want exit 1 and %q", args[0], tc.name, r.code, r.stderr, tc.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out.jsonl")); err == nil {
			t.Fatalf("convert of %s wrote a file", tc.name)
		}
	}
}

// convert --on-invalid skip says how many records it left out and where.
func TestConvertListsSkippedRecords(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"question":"q1","choices":["a","b"],"answer":0}
{"question":"q2","choices":["a","b"],"answer":9}
{oops
{"question":"q4","choices":["a","b"],"answer":1}
`), 0o644)
	out := filepath.Join(dir, "out.parquet")
	r := evalbench(t, nil, "convert", "--on-invalid", "skip", in, out)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote 2 examples to "+out+"; skipped 2 invalid records") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"skipped 2 invalid records:", `in.jsonl:2: field "answer": 9 out of range for 2 choices`, "in.jsonl:3: invalid JSON"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr has no %q:\n%s", want, r.stderr)
		}
	}
	// Even --quiet says what was dropped.
	q := evalbench(t, nil, "convert", "--quiet", "--on-invalid", "skip", in, out)
	if q.code != 0 || q.stdout != "" || !strings.Contains(q.stderr, "skipped 2 invalid records") {
		t.Fatalf("--quiet: exit %d\nstdout %q\nstderr %q", q.code, q.stdout, q.stderr)
	}
	// Every record bad: nothing written, and an error.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{oops\n{nope\n"), 0o644)
	none := filepath.Join(dir, "none.jsonl")
	b := evalbench(t, nil, "convert", "--on-invalid", "skip", bad, none)
	if b.code != 1 || !strings.Contains(b.stderr, "no valid records to write (2 invalid skipped)") || !strings.Contains(b.stderr, "bad.jsonl:1: invalid JSON") {
		t.Fatalf("all bad: exit %d\nstdout %q\nstderr %q", b.code, b.stdout, b.stderr)
	}
	if _, err := os.Stat(none); err == nil {
		t.Fatal("an empty output was written")
	}
}

// The Parquet convert writes has LIST columns for choices and labels, and
// every column chunk compressed with zstd, as its help says.
func TestConvertParquetHasListAndZstd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mmlu.parquet")
	r := evalbench(t, nil, "convert", "testdata/samples/mmlu_sample/test.jsonl", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]bool{}
	for _, fld := range pf.Schema().Fields() {
		if lt := fld.Type().LogicalType(); lt != nil {
			if _, ok := lt.Value.(*format.ListType); ok {
				lists[fld.Name()] = true
			}
		}
	}
	if !lists["choices"] || !lists["labels"] {
		t.Fatalf("LIST columns: %v; want choices and labels\n%s", lists, pf.Schema())
	}
	md := pf.Metadata()
	if len(md.RowGroups) == 0 || md.NumRows != 100 {
		t.Fatalf("%d row groups, %d rows", len(md.RowGroups), md.NumRows)
	}
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec != format.Zstd {
				t.Fatalf("column %v: codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
}
