package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenOpts are the options every golden file is made with.
var goldenOpts = Options{Version: "test", SkipPlots: true}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./reports -update and review the diff\n%s", name, firstDiff(got, want))
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + string(gl) + "\nwant: " + string(wl)
		}
	}
	return ""
}

func TestGolden(t *testing.T) {
	r, err := Build(context.Background(), "testdata/run2", goldenOpts)
	if err != nil {
		t.Fatal(err)
	}
	render := func(fn func(io.Writer) error) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	checkGolden(t, "report.json", render(func(w io.Writer) error { return WriteJSON(w, r) }))
	checkGolden(t, "report.md", render(func(w io.Writer) error { return WriteMarkdown(w, r) }))
	checkGolden(t, "headline.txt", render(r.WriteHeadline))
	checkGolden(t, "subjects.csv", render(func(w io.Writer) error { return WriteSubjectsCSV(w, r) }))
	checkGolden(t, "results_lmeval_demo.json", render(func(w io.Writer) error { return WriteLMEval(w, r, "demo") }))
}

// The same input must give the same bytes: map order, bootstrap seeding and
// float summation order must not leak into the report.
func TestDeterministic(t *testing.T) {
	var first []byte
	for i := range 3 {
		r, err := Build(context.Background(), "testdata/run2", goldenOpts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("build %d differs:\n%s", i, firstDiff(b, first))
		}
	}
}

// report.json is the contract: a Report decoded from it must render the
// same Markdown, CSV and lm-eval file, and encode to the same bytes.
func TestJSONRoundTrip(t *testing.T) {
	r, err := Build(context.Background(), "testdata/run2", goldenOpts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := back.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("JSON → Report → JSON changed the bytes:\n%s", firstDiff(b2, b))
	}
	for _, w := range []struct {
		name string
		fn   func(io.Writer, *Report) error
	}{
		{"markdown", WriteMarkdown},
		{"csv", WriteSubjectsCSV},
		{"lm-eval", func(w io.Writer, r *Report) error { return WriteLMEval(w, r, "demo:lora-a") }},
	} {
		var a, c bytes.Buffer
		if err := w.fn(&a, r); err != nil {
			t.Fatal(err)
		}
		back.opts = r.opts // options are not part of report.json
		if err := w.fn(&c, &back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Errorf("%s from the decoded report differs:\n%s", w.name, firstDiff(c.Bytes(), a.Bytes()))
		}
	}
	if err := WriteParquet(context.Background(), io.Discard, &back); err == nil {
		t.Error("WriteParquet accepted a Report without a journal")
	}
}
