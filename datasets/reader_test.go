package datasets

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	pqgzip "github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// TestParsingQuirks: the file-level oddities real datasets have.
func TestParsingQuirks(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	cases := []struct {
		name, file, data string
		wantQ            []string
		wantLines        []int
	}{
		{"long line", "a.jsonl", `{"question":"` + long + `","choices":["a","b"],"answer":0}` + "\n" + goodRow, []string{long, "q"}, []int{1, 2}},
		{"BOM jsonl", "a.jsonl", "\xEF\xBB\xBF" + goodRow, []string{"q"}, []int{1}},
		{"CRLF jsonl", "a.jsonl", goodRow + "\r\n" + goodRow + "\r\n", []string{"q", "q"}, []int{1, 2}},
		{"blank lines", "a.jsonl", goodRow + "\n\n  \n" + goodRow, []string{"q", "q"}, []int{1, 4}},
		{"no final newline csv", "s_test.csv", "q1,a,b,c,d,A\nq2,a,b,c,d,B", []string{"q1", "q2"}, []int{1, 2}},
		{"BOM csv", "s_test.csv", "\xEF\xBB\xBFq1,a,b,c,d,A\n", []string{"q1"}, []int{1}},
		{"CRLF csv", "s_test.csv", "q1,a,b,c,d,A\r\nq2,a,b,c,d,B\r\n", []string{"q1", "q2"}, []int{1, 2}},
		{"quoted newline csv", "s_test.csv", "\"q1\nline2\",a,b,c,d,A\nq2,a,b,c,d,B\n", []string{"q1\nline2", "q2"}, []int{1, 3}},
		{"CRLF in quoted field kept", "s_test.csv", "\"q1\r\nline2\",a,b,c,d,A\r\nq2,a,b,c,d,B\r\n", []string{"q1\r\nline2", "q2"}, []int{1, 3}},
		{"CRLF in quoted field with a header", "h.csv", "question,choices,answer\r\n\"x\r\ny \"\"z\"\"\r\n\",\"[\"\"a\"\",\"\"b\"\"]\",0\r\n", []string{"x\r\ny \"z\"\r\n"}, []int{2}},
		{"CRLF right after a closing quote ends the record", "s_test.csv", "\"q1\",a,b,c,d,\"A\"\r\nq2,a,b,c,d,B", []string{"q1", "q2"}, []int{1, 2}},
		{"lone CR in quoted field", "s_test.csv", "\"q1\rx\",a,b,c,d,A\nq2,a,b,c,d,B\n", []string{"q1\rx", "q2"}, []int{1, 2}},
		{"bare quote like MMLU val", "s_test.csv", "Nietzsche’s Will?\",a,b,c,d,A\n", []string{"Nietzsche’s Will?\""}, []int{1}},
		{"surrogate pair and an escaped backslash", "a.jsonl", `{"question":"\ud83d\ude00 \\ud800","choices":["a","b"],"answer":0}`, []string{"\U0001F600 \\ud800"}, []int{1}},
		{"a real U+FFFD is text", "a.jsonl", `{"question":"\ufffd","choices":["a","b"],"answer":0}`, []string{"\uFFFD"}, []int{1}},
		{"json array", "a.json", "[\n" + goodRow + ",\n\n" + goodRow + "\n]", []string{"q", "q"}, []int{2, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tc.file, []byte(tc.data))
			exs, _, err := readAll(t, []string{p}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(exs) != len(tc.wantQ) {
				t.Fatalf("%d examples, want %d", len(exs), len(tc.wantQ))
			}
			for i, ex := range exs {
				if ex.Question != tc.wantQ[i] || ex.Source.Line != tc.wantLines[i] {
					t.Errorf("example %d: line %d question %.20q, want line %d %.20q", i, ex.Source.Line, ex.Question, tc.wantLines[i], tc.wantQ[i])
				}
			}
		})
	}
}

func TestJSONLGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(goodRow + "\n" + goodRow))
	zw.Close()
	p := writeFile(t, t.TempDir(), "a.jsonl.gz", buf.Bytes())
	exs, _, err := readAll(t, []string{p}, Options{})
	if err != nil || len(exs) != 2 || exs[1].ID != "a:1" {
		t.Fatalf("%v %d", err, len(exs))
	}
}

// TestLayouts reads one record of every layout and checks the Example.
func TestLayouts(t *testing.T) {
	cases := []struct {
		name, file, data string
		opts             Options
		layout           Layout
		want             Example
	}{
		{"mmlu-hf", "t.jsonl", `{"question":"What?","subject":"anatomy","choices":["a","b","c","d"],"answer":2}`, Options{}, LayoutMMLUHF,
			Example{ID: "t:0", Subject: "anatomy", Question: "What?", Choices: []string{"a", "b", "c", "d"}, Answer: 2, Labels: []string{"A", "B", "C", "D"}}},
		{"mmlu-csv", "high_school_physics_dev.csv", "Why?,w,x,y,z,D\n", Options{}, LayoutMMLUCSV,
			Example{ID: "high_school_physics_dev:0", Subject: "high_school_physics", Question: "Why?", Choices: []string{"w", "x", "y", "z"}, Answer: 3, Labels: []string{"A", "B", "C", "D"}}},
		{"mmlu-csv with header", "anatomy_test.csv", "question,A,B,C,D,answer\nWhy?,w,x,y,z,B\n", Options{}, LayoutMMLUCSV,
			Example{ID: "anatomy_test:0", Subject: "anatomy", Question: "Why?", Choices: []string{"w", "x", "y", "z"}, Answer: 1, Labels: []string{"A", "B", "C", "D"}}},
		{"arc digits", "arc.jsonl", `{"id":"Mercury_1","question":"Q","choices":{"text":["p","q","r","s"],"label":["1","2","3","4"]},"answerKey":"3"}`, Options{}, LayoutARC,
			Example{ID: "Mercury_1", Question: "Q", Choices: []string{"p", "q", "r", "s"}, Answer: 2, Labels: []string{"1", "2", "3", "4"}}},
		{"hellaswag split ctx", "hs.jsonl", `{"ind":24,"activity_label":"Roof shingle removal","ctx_a":"A man is sitting on a roof.","ctx_b":"he","endings":["e0","e1","e2","e3"],"label":"3"}`, Options{}, LayoutHellaSwag,
			Example{ID: "24", Subject: "Roof shingle removal", Question: "A man is sitting on a roof. he", Choices: []string{"e0", "e1", "e2", "e3"}, Answer: 3, Labels: []string{"A", "B", "C", "D"}}},
		{"piqa label in row", "p.jsonl", `{"goal":"G","sol1":"one","sol2":"two","label":1}`, Options{}, LayoutPIQA,
			Example{ID: "p:0", Question: "G", Choices: []string{"one", "two"}, Answer: 1, Labels: []string{"A", "B"}}},
		{"mmlu-pro options list", "pro.jsonl", `{"question_id":70,"question":"Q","options":["a","b","c","N/A",""],"answer":"B","answer_index":1,"category":"law"}`, Options{}, LayoutMMLUPro,
			Example{ID: "70", Subject: "law", Question: "Q", Choices: []string{"a", "b", "c"}, Answer: 1, Labels: []string{"A", "B", "C"}}},
		{"generic", "g.jsonl", `{"prompt":"P","opts":["x","y","z"],"label":"y","topic":"t","uid":"u1"}`,
			Options{Fields: map[string]string{"question": "prompt", "choices": "opts", "answer": "label", "subject": "topic", "id": "uid"}}, LayoutGeneric,
			Example{ID: "u1", Subject: "t", Question: "P", Choices: []string{"x", "y", "z"}, Answer: 1, Labels: []string{"A", "B", "C"}}},
		{"generic columns", "g.csv", "text,c1,c2,gold\nP,x,y,B\n",
			Options{Fields: map[string]string{"question": "text", "choices": "c1,c2", "answer": "gold"}}, LayoutGeneric,
			Example{ID: "g:0", Question: "P", Choices: []string{"x", "y"}, Answer: 1, Labels: []string{"A", "B"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tc.file, []byte(tc.data))
			exs, r, err := readAll(t, []string{p}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Layout() != tc.layout {
				t.Fatalf("layout %s, want %s", r.Layout(), tc.layout)
			}
			got := exs[0]
			got.Fields, got.Source = nil, Location{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			if exs[0].Fields == nil {
				t.Fatal("original fields not kept")
			}
		})
	}
}

// pqRow mimics what pyarrow and DuckDB write: a LIST column of strings, a
// dictionary-encoded subject, nullable answers.
type pqRow struct {
	Question string   `parquet:"question"`
	Subject  string   `parquet:"subject,dict"`
	Choices  []string `parquet:"choices,list"`
	Answer   *int64   `parquet:"answer,optional"`
}

type pqStringAnswer struct {
	Question string   `parquet:"question"`
	Choices  []string `parquet:"choices,list"`
	Answer   string   `parquet:"answer,dict"`
}

type pqARC struct {
	ID       string `parquet:"id"`
	Question string `parquet:"question"`
	Choices  struct {
		Text  []string `parquet:"text,list"`
		Label []string `parquet:"label,list"`
	} `parquet:"choices"`
	AnswerKey string `parquet:"answerKey"`
}

func writeParquet[T any](t *testing.T, path string, rows []T, codec compress.Codec) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.Compression(codec))
	// Two row groups, so reading crosses a group boundary.
	half := len(rows) / 2
	if _, err := w.Write(rows[:half]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(rows[half:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestParquetShapes(t *testing.T) {
	dir := t.TempDir()
	one, two := int64(1), int64(3)
	for name, codec := range map[string]compress.Codec{"snappy": &snappy.Codec{}, "zstd": &zstd.Codec{}, "gzip": &pqgzip.Codec{}} {
		t.Run("int answers "+name, func(t *testing.T) {
			p := filepath.Join(dir, name+".parquet")
			writeParquet(t, p, []pqRow{
				{"q0", "anatomy", []string{"a", "b", "c", "d"}, &one},
				{"q1", "anatomy", []string{"a", "b", "c", "d"}, &two},
				{"q2", "virology", []string{"a", "b"}, &one},
				{"q3", "virology", []string{"a", "b", "c"}, &one},
			}, codec)
			exs, r, err := readAll(t, []string{p}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Layout() != LayoutMMLUHF || len(exs) != 4 || exs[1].Answer != 3 || exs[2].Subject != "virology" || len(exs[3].Choices) != 3 {
				t.Fatalf("layout %s %+v", r.Layout(), exs)
			}
			if exs[3].ID != name+":3" || exs[3].Source.Row != 3 {
				t.Fatalf("id %s row %d", exs[3].ID, exs[3].Source.Row)
			}
		})
	}
	t.Run("null answer", func(t *testing.T) {
		p := filepath.Join(dir, "null.parquet")
		writeParquet(t, p, []pqRow{{"q0", "s", []string{"a", "b"}, &one}, {"q1", "s", []string{"a", "b"}, nil}}, &zstd.Codec{})
		_, _, err := readAll(t, []string{p}, Options{})
		want := "datasets: " + displayName(p) + `: row 1: field "answer": missing`
		if err == nil || err.Error() != want {
			t.Fatalf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("string answers and empty list", func(t *testing.T) {
		p := filepath.Join(dir, "str.parquet")
		writeParquet(t, p, []pqStringAnswer{{"q0", []string{"x", "y"}, "B"}, {"q1", []string{}, "A"}}, &zstd.Codec{})
		exs, _, err := readAll(t, []string{p}, Options{})
		if len(exs) != 1 || exs[0].Answer != 1 {
			t.Fatalf("%+v", exs)
		}
		want := "datasets: " + displayName(p) + `: row 1: field "choices": no choices`
		if err == nil || err.Error() != want {
			t.Fatalf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("nested struct (ARC)", func(t *testing.T) {
		p := filepath.Join(dir, "arc.parquet")
		var a, b pqARC
		a.ID, a.Question, a.AnswerKey = "x1", "Q", "B"
		a.Choices.Text, a.Choices.Label = []string{"t1", "t2"}, []string{"A", "B"}
		b = a
		b.ID = "x2"
		writeParquet(t, p, []pqARC{a, b}, &snappy.Codec{})
		exs, r, err := readAll(t, []string{p}, Options{})
		if err != nil || r.Layout() != LayoutARC || exs[1].Answer != 1 || exs[1].Choices[1] != "t2" {
			t.Fatalf("%v %s %+v", err, r.Layout(), exs)
		}
	})
}

// TestRoundTripJSONLParquetJSONL converts each source to Parquet and back to
// every writable format, and wants the very same Examples: labels (ARC's
// 1..4) and the original record in Fields included.
func TestRoundTripJSONLParquetJSONL(t *testing.T) {
	dir := t.TempDir()
	type source struct {
		name  string
		paths []string
	}
	sources := []source{
		{"mmlu-hf", []string{writeFile(t, dir, "src.jsonl", []byte(strings.Join([]string{
			`{"question":"Multi\nline \"quoted\" ünïcode <b>&amp;</b>\r\nwith CRLF and a lone \r","subject":"s1","choices":["a","b","c","d"],"answer":3,"extra":{"n":1.0,"f":2.5,"big":12345678901234,"ok":true,"none":null,"list":[1,"x",[2.0]]}}`,
			`{"id":"own","question":"q","subject":"s2","choices":["1","2"],"answer":0}`,
			`{"question":"","subject":"","choices":["x","y","z"],"answer":"y"}`,
			`{"question":"digits","choices":["1","2"],"answer":1}`,
		}, "\n")))}},
		{"arc", []string{writeFile(t, dir, "arc.jsonl", []byte(strings.Join([]string{
			`{"id":"Mercury_1","question":"Q","choices":{"text":["p","q","r","s"],"label":["1","2","3","4"]},"answerKey":"3"}`,
			`{"id":"Mercury_2","question":"Q2","choices":{"text":["p","q","r"],"label":["A","B","C"]},"answerKey":"A"}`,
		}, "\n")))}},
	}
	if _, err := os.Stat(sharedData); err == nil {
		sources = append(sources,
			source{"shared mmlu val (CRLF in quotes)", []string{filepath.Join(sharedData, "mmlu", "val")}},
			source{"shared piqa", []string{filepath.Join(sharedData, "piqa", "valid.jsonl")}},
			source{"shared pyarrow parquet", []string{filepath.Join(sharedData, "parquet", "mmlu_prox_lite_ko", "validation-00000-of-00001.parquet")}},
		)
	} else {
		t.Logf("full datasets not found at %s; the round trip of real files is skipped", sharedData)
	}
	for si, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			want, _, err := readAll(t, src.paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			pq := filepath.Join(dir, fmt.Sprintf("mid%d.parquet", si))
			if res, err := Convert(t.Context(), src.paths, pq, Options{}); err != nil || res.Written != len(want) {
				t.Fatalf("to parquet: %+v %v", res, err)
			}
			for _, out := range []string{"back.jsonl", "back.csv", "back.jsonl.gz", "back.parquet"} {
				back := filepath.Join(dir, fmt.Sprint(si, out))
				if _, err := Convert(t.Context(), []string{pq}, back, Options{}); err != nil {
					t.Fatal(err)
				}
				got, r, err := readAll(t, []string{back}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if r.Layout() != LayoutMMLUHF || len(got) != len(want) {
					t.Fatalf("%s: layout %s, %d examples, want %d", out, r.Layout(), len(got), len(want))
				}
				for i := range want {
					g, w := got[i], want[i]
					g.Source, w.Source = Location{}, Location{}
					if !reflect.DeepEqual(g, w) {
						t.Fatalf("%s example %d:\n got  %#v\n want %#v", out, i, g, w)
					}
				}
			}
		})
	}
}

func TestFewShot(t *testing.T) {
	rows := []string{}
	for i, s := range []string{"a", "b", "a", "a", "b", "a"} {
		rows = append(rows, `{"id":"`+s+string(rune('0'+i))+`","question":"q","subject":"`+s+`","choices":["x","y"],"answer":0}`)
	}
	p := writeFile(t, t.TempDir(), "dev.jsonl", []byte(strings.Join(rows, "\n")))
	fs, err := LoadFewShot(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(exs []Example) string {
		var s []string
		for _, e := range exs {
			s = append(s, e.ID)
		}
		return strings.Join(s, ",")
	}
	// Examples of another file: nothing is left out.
	if got := ids(fs.ForExample(&Example{Subject: "a"}, 3)); got != "a0,a2,a3" {
		t.Fatalf("first_n: %s", got)
	}
	if got := ids(fs.ForExample(&Example{Subject: "b"}, 5)); got != "b1,b4" {
		t.Fatalf("short: %s", got)
	}
}

func TestFingerprintStableAcrossDirs(t *testing.T) {
	a := writeFile(t, t.TempDir(), "d.jsonl", []byte(goodRow))
	b := writeFile(t, t.TempDir(), "d.jsonl", []byte(goodRow))
	c := writeFile(t, t.TempDir(), "d.jsonl", []byte(goodRow+"\n"))
	fa, _ := Fingerprint(t.Context(), []string{a}, Options{})
	fb, _ := Fingerprint(t.Context(), []string{b}, Options{})
	fc, _ := Fingerprint(t.Context(), []string{c}, Options{})
	fl, _ := Fingerprint(t.Context(), []string{a}, Options{Layout: LayoutMMLUHF})
	if fa != fb || fa == fc || fa == fl || len(fa) != 64 {
		t.Fatalf("fingerprints: %s %s %s %s", fa, fb, fc, fl)
	}
}

// A conversion that fails part-way leaves no output file behind, and never
// clobbers an existing one.
func TestConvertFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"question":"q","choices":["a","b"],"answer":0}
{"question":"q","choices":["a","b"],"answer":5}
`), 0o644)
	out := filepath.Join(dir, "out.parquet")
	os.WriteFile(out, []byte("keep me"), 0o644)
	if _, err := Convert(context.Background(), []string{in}, out, Options{}); err == nil || !strings.Contains(err.Error(), "in.jsonl:2") {
		t.Fatalf("want the bad record named, got %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("a failed conversion overwrote the existing output")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("a partial file was left behind: %v", entries)
	}
	if _, err := Convert(context.Background(), []string{in}, filepath.Join(dir, "x.txt"), Options{}); err == nil || !strings.Contains(err.Error(), "x.txt: can write") {
		t.Fatalf("unsupported output: %v", err)
	}
}
