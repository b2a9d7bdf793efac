package datasets

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAll reads every example, stopping at the first error.
func readAll(t *testing.T, paths []string, opts Options) ([]Example, *Reader, error) {
	t.Helper()
	r, err := Open(context.Background(), paths, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var out []Example
	for {
		ex, err := r.Next()
		if err == io.EOF {
			return out, r, nil
		}
		if err != nil {
			return out, r, err
		}
		out = append(out, ex)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodRow = `{"question":"q","choices":["a","b","c","d"],"answer":1,"subject":"s"}`

// TestRecordErrors covers every validation case with its exact message and
// place. {f} stands for the file's path.
func TestRecordErrors(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		data   string
		opts   Options
		want   string
		record bool // a *RecordError (skippable) rather than a file error
	}{
		{"invalid JSON", "a.jsonl", goodRow + "\n{\"question\": \"q\",\n", Options{},
			`datasets: {f}:2: invalid JSON: unexpected EOF`, true},
		{"not an object", "a.jsonl", goodRow + "\n[1,2]\n", Options{},
			`datasets: {f}:2: invalid JSON: a record must be a JSON object`, true},
		{"missing field", "a.jsonl", goodRow + "\n" + `{"question":"q","choices":["a","b"],"subject":"s","answer":null}` + "\n", Options{},
			`datasets: {f}:2: field "answer": missing`, true},
		{"wrong type", "a.jsonl", `{"question":"q","choices":"a,b","answer":0}`, Options{Layout: LayoutMMLUHF},
			`datasets: {f}:1: field "choices": want a list, got a string`, true},
		{"question wrong type", "a.jsonl", `{"question":["q"],"choices":["a","b"],"answer":0}`, Options{},
			`datasets: {f}:1: field "question": want a string, got a list`, true},
		{"empty choices", "a.jsonl", `{"question":"q","choices":[],"answer":0}`, Options{},
			`datasets: {f}:1: field "choices": no choices`, true},
		{"one choice", "a.jsonl", `{"question":"q","choices":["a"],"answer":0}`, Options{},
			`datasets: {f}:1: field "choices": only one choice`, true},
		{"answer out of range", "mmlu.jsonl", strings.Repeat(goodRow+"\n", 811) + `{"question":"q","choices":["a","b","c","d"],"answer":7}` + "\n", Options{},
			`datasets: {f}:812: field "answer": 7 out of range for 4 choices`, true},
		{"unknown answer letter", "x_test.csv", "q,a,b,c,d,A\nq2,a,b,c,d,E\n", Options{Layout: LayoutMMLUCSV},
			`datasets: {f}:2: field "answer": unknown answer letter "E" (want A, B, C or D)`, true},
		{"letter beyond choices", "a.jsonl", `{"question":"q","choices":["a","b"],"answer":"C"}`, Options{},
			`datasets: {f}:1: field "answer": letter "C" out of range for 2 choices`, true},
		{"answer text not a choice", "a.jsonl", `{"question":"q","choices":["a","b"],"answer":"zebra"}`, Options{},
			`datasets: {f}:1: field "answer": "zebra" is not an index, a label or the text of a choice`, true},
		{"duplicate id", "a.jsonl", `{"id":"x","question":"q","choices":["a","b"],"answer":0}` + "\n" + `{"id":"x","question":"q2","choices":["a","b"],"answer":1}`, Options{},
			`datasets: {f}:2: field "id": duplicate id "x" (first at {f}:1)`, true},
		{"invalid UTF-8 JSONL", "a.jsonl", "{\"question\":\"caf\xe9\",\"choices\":[\"a\",\"b\"],\"answer\":0}", Options{},
			`datasets: {f}:1: field "question": invalid UTF-8`, true},
		{"invalid UTF-8 CSV", "x_test.csv", "q,a,b\xff,c,d,A\n", Options{},
			`datasets: {f}:1: field "B": invalid UTF-8`, true},
		{"CSV field count", "h.csv", "question,choices,answer\nq,\"[\"\"a\"\",\"\"b\"\"]\",0\nq,x\n", Options{},
			`datasets: {f}:3: 2 fields, the header has 3`, true},
		{"CSV list cell not a list", "h.csv", "question,choices,answer\nq,[oops,0\n", Options{},
			`datasets: {f}:2: field "choices": not a JSON list: invalid JSON: invalid character 'o' looking for beginning of value (at byte 2)`, true},
		{"arc unknown key", "arc.jsonl", `{"id":"a1","question":"q","choices":{"text":["x","y"],"label":["1","2"]},"answerKey":"3"}`, Options{},
			`datasets: {f}:1: field "answerKey": unknown answer label "3" (labels are 1, 2)`, true},
		{"arc labels count", "arc.jsonl", `{"id":"a1","question":"q","choices":{"text":["x","y"],"label":["1"]},"answerKey":"1"}`, Options{},
			`datasets: {f}:1: field "choices.label": 1 labels for 2 choices`, true},
		{"hellaswag string label out of range", "hs.jsonl", `{"ctx":"c","endings":["a","b","c","d"],"label":"4","activity_label":"x"}`, Options{},
			`datasets: {f}:1: field "label": 4 out of range for 4 choices`, true},
		{"mmlu-pro answer disagrees", "p.jsonl", `{"question_id":1,"question":"q","options":["a","b","c"],"answer":"A","answer_index":2,"category":"math"}`, Options{},
			`datasets: {f}:1: field "answer": A disagrees with answer_index 2`, true},
		{"mmlu-pro gap", "p.jsonl", `{"question_id":1,"question":"q","option_0":"a","option_1":"","option_2":"c","answer":"A","category":"math"}`, Options{},
			`datasets: {f}:1: field "option_1": empty option before option 2`, true},
		{"parquet not parquet", "a.parquet", "question,choices\n", Options{},
			`datasets: {f}: not a Parquet file: no PAR1 magic`, false},
		{"jsonl that is parquet", "a.jsonl", "PAR1\x15\x00\x15", Options{},
			`datasets: {f}: not JSONL: it is a Parquet file`, false},
		{"csv that is gzip", "a.csv", "\x1f\x8b\x08\x00\x00\x00", Options{},
			`datasets: {f}: not CSV: it is gzip-compressed`, false},
		{"jsonl.gz not gzip", "a.jsonl.gz", goodRow, Options{},
			`datasets: {f}: not gzip-compressed, though the name ends in .gz`, false},
		{"json not array", "a.json", goodRow, Options{},
			`datasets: {f}: not a JSON array of records (a .json file must hold [ {...}, ... ]; use .jsonl for one object per line): it looks like JSON lines; name it .jsonl`, false},
		{"json over limit", "a.json", "[" + goodRow + "]", Options{MaxJSONBytes: 10},
			`datasets: {f}: 71 bytes is over the 10-byte limit for .json arrays; convert it to JSONL (one object per line), which streams`, false},
		{"invalid UTF-8 CSV with a header", "h.csv", "question,choices,answer\nq\xff,\"[\"\"a\"\",\"\"b\"\"]\",0\n", Options{},
			`datasets: {f}:2: field "question": invalid UTF-8`, true},
		{"invalid UTF-8 CSV header", "h.csv", "question,choi\xffces,answer\nq,x,0\n", Options{},
			`datasets: {f}:1: header column 2: invalid UTF-8`, false},
		{"invalid UTF-8 named by place, not by a real U+FFFD", "a.jsonl", "{\"a\":\"\ufffd\",\"question\":\"caf\xe9\",\"choices\":[\"a\",\"b\"],\"answer\":0}", Options{},
			`datasets: {f}:1: field "question": invalid UTF-8`, true},
		{"lone surrogate", "a.jsonl", `{"question":"a\ud800b","choices":["a","b"],"answer":0}`, Options{},
			`datasets: {f}:1: field "question": invalid UTF-16: lone surrogate \ud800`, true},
		{"lone low surrogate in a choice", "a.jsonl", `{"question":"q","choices":["a","\udc00"],"answer":0}`, Options{},
			`datasets: {f}:1: field "choices": invalid UTF-16: lone surrogate \udc00`, true},
		{"lone surrogate in a CSV list cell", "h.csv", "question,choices,answer\nq,\"[\"\"a\\ud800\"\",\"\"b\"\"]\",0\n", Options{},
			`datasets: {f}:2: field "choices": invalid UTF-16: lone surrogate \ud800`, true},
		{"list answer", "a.jsonl", `{"question":"q","choices":["a","b"],"answer":[1]}`, Options{},
			`datasets: {f}:1: field "answer": a list is not an answer`, true},
		{"object answer", "a.jsonl", `{"question":"q","choices":["a","b"],"answer":{"i":1}}`, Options{},
			`datasets: {f}:1: field "answer": an object is not an answer`, true},
		{"huge float answer", "a.jsonl", `{"question":"q","choices":["a","b"],"answer":1e300}`, Options{},
			`datasets: {f}:1: field "answer": 1e+300 out of range for 2 choices`, true},
		{"answer matching two choices", "a.jsonl", `{"question":"q","choices":["x","y","x"],"answer":"x"}`, Options{},
			`datasets: {f}:1: field "answer": "x" is the text of choices 0 and 2`, true},
		{"repeated label", "arc.jsonl", `{"id":"a1","question":"q","choices":{"text":["x","y"],"label":["A","A"]},"answerKey":"A"}`, Options{},
			`datasets: {f}:1: field "choices.label": label "A" appears twice`, true},
		{"json junk after the array", "a.json", "[\n" + goodRow + "\n]\n{\"x\":1}\n", Options{},
			`datasets: {f}:4: data after the closing ] of the array (at byte ` + fmt.Sprint(len(goodRow)+6) + `)`, false},
		{"json second array", "a.json", "[" + goodRow + "][" + goodRow + "]", Options{},
			`datasets: {f}:1: data after the closing ] of the array (at byte ` + fmt.Sprint(len(goodRow)+3) + `)`, false},
		{"csv quote never closed", "h.csv", "question,choices,answer\nq,\"[\"\"a\"\",\"\"b\"\"]\",0\n\"never closed,x,0\nq,x,0\nq,y,0\n", Options{},
			`datasets: {f}:3: a quoted field starts here and is never closed, so the rest of the file would be one field`, false},
		{"mmlu csv quote never closed", "x_test.csv", "q1,a,b,c,d,A\nq2,\"a,b,c,d,B\nq3,a,b,c,d,C\n", Options{},
			`datasets: {f}:2: a quoted field starts here and is never closed, so the rest of the file would be one field`, false},
		{"empty csv", "x.csv", "", Options{},
			`datasets: {f}: no records (the file is empty)`, false},
		{"header-only csv", "x.csv", "question,choices,answer\n", Options{},
			`datasets: {f}: no records (only a header line, at line 1)`, false},
		{"empty jsonl", "x.jsonl", "", Options{},
			`datasets: {f}: no records (the file is empty)`, false},
		{"blank jsonl", "x.jsonl", "\n \n\n", Options{},
			`datasets: {f}: no records (only blank lines)`, false},
		{"empty json array", "x.json", " [ ] ", Options{},
			`datasets: {f}: no records (the array is empty)`, false},
		{"json lines named csv", "x.csv", goodRow + "\n", Options{},
			`datasets: {f}: not CSV: looks like JSON lines (one object per line); name it .jsonl`, false},
		{"json array named csv", "x.csv", "\xEF\xBB\xBF [\n " + goodRow + "]", Options{},
			`datasets: {f}: not CSV: looks like a JSON array; name it .json`, false},
		{"json array named jsonl", "x.jsonl", "[" + goodRow + "]", Options{},
			`datasets: {f}: not JSONL: looks like a JSON array; name it .json`, false},
		{"csv named jsonl", "x.jsonl", "question,choices,answer\nq,\"[\"\"a\"\"]\",0\n", Options{},
			`datasets: {f}: not JSONL: looks like CSV (the first line is "question,choices,answer"); name it .csv`, false},
		{"csv named json", "x.json", "question,choices,answer\n", Options{},
			`datasets: {f}: not a JSON array of records (a .json file must hold [ {...}, ... ]; use .jsonl for one object per line): it looks like CSV; name it .csv`, false},
		{"unknown layout", "a.jsonl", `{"prompt":"q","options":["a","b"]}`, Options{},
			`datasets: {f}:1: cannot tell the layout from the columns [options, prompt]; use --layout (mmlu-hf, mmlu-csv, arc, hellaswag, piqa, mmlu-pro, generic) or map the fields with --field question=... --field choices=... --field answer=...`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tc.file, []byte(tc.data))
			_, _, err := readAll(t, []string{path}, tc.opts)
			if err == nil {
				t.Fatal("want an error")
			}
			want := strings.ReplaceAll(tc.want, "{f}", displayName(path))
			if err.Error() != want {
				t.Fatalf("got  %s\nwant %s", err, want)
			}
			var re *RecordError
			if isRec := asRecordError(err, &re); isRec != tc.record {
				t.Fatalf("record error = %v, want %v", isRec, tc.record)
			}
		})
	}
}

func asRecordError(err error, re **RecordError) bool {
	r, ok := err.(*RecordError)
	if ok {
		*re = r
	}
	return ok
}

func TestSkipPolicyCountsAndContinues(t *testing.T) {
	data := goodRow + "\n{broken\n" + `{"question":"q","choices":["a"],"answer":0}` + "\n" + goodRow + "\n"
	path := writeFile(t, t.TempDir(), "a.jsonl", []byte(data))
	exs, r, err := readAll(t, []string{path}, Options{OnInvalid: Skip})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || len(r.Skipped()) != 2 {
		t.Fatalf("%d examples, %d skipped", len(exs), len(r.Skipped()))
	}
	if r.Skipped()[0].Line != 2 || r.Skipped()[1].Field != "choices" {
		t.Fatalf("skipped: %v", r.Skipped())
	}
	// Row indexes count data rows, bad ones included, so IDs stay stable
	// when a bad row is fixed.
	if exs[1].ID != "a:3" {
		t.Fatalf("second ID %q, want a:3", exs[1].ID)
	}
}

func TestPIQALabelFileMismatch(t *testing.T) {
	dir := t.TempDir()
	row := `{"goal":"g","sol1":"a","sol2":"b"}` + "\n"
	p := writeFile(t, dir, "valid.jsonl", []byte(row+row+row))
	writeFile(t, dir, "valid-labels.lst", []byte("0\n1\n"))
	_, _, err := readAll(t, []string{p}, Options{})
	want := "datasets: " + displayName(p) + `:3: field "label": ` + displayName(filepath.Join(dir, "valid-labels.lst")) + " ends at line 2: fewer labels than rows"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	writeFile(t, dir, "valid-labels.lst", []byte("0\n1\n1\n0\n"))
	_, _, err = readAll(t, []string{p}, Options{})
	// The counts are the labels file's and the data file's, by display name.
	want = "datasets: " + displayName(filepath.Join(dir, "valid-labels.lst")) + " has 4 labels but " + displayName(p) + " has 3 rows"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		paths []string
		opts  Options
		want  string
	}{
		{[]string{filepath.Join(dir, "nope.jsonl")}, Options{}, "no such file"},
		{[]string{filepath.Join(dir, "*.csv")}, Options{}, "no .jsonl, .jsonl.gz, .json, .csv or .parquet file matches"},
		{[]string{t.TempDir()}, Options{}, "directory holds no"},
		{[]string{writeFile(t, dir, "x.txt", []byte("hi"))}, Options{}, "unsupported file type"},
		{[]string{writeFile(t, dir, "g.jsonl", []byte(goodRow))}, Options{Layout: "nope"}, `unknown layout "nope"`},
		{[]string{filepath.Join(dir, "g.jsonl")}, Options{Layout: LayoutGeneric}, "generic layout needs a field mapping"},
		{[]string{filepath.Join(dir, "g.jsonl")}, Options{Fields: map[string]string{"qestion": "x"}}, `field mapping "qestion": unknown field`},
		{nil, Options{}, "no dataset path given"},
	}
	for _, tc := range cases {
		_, err := Open(context.Background(), tc.paths, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%v) = %v, want %q", tc.paths, err, tc.want)
		}
	}
}
