package datasets

import (
	"path/filepath"
	"strings"
	"testing"
)

// A row that fails before its label is looked at (a missing sol2, bad JSON)
// must not shift the labels of the rows after it.
func TestPIQALabelsStayAlignedUnderSkip(t *testing.T) {
	cases := []struct {
		name string
		rows []string
	}{
		{"missing field", []string{`{"goal":"g0","sol1":"a","sol2":"b"}`, `{"goal":"g1","sol1":"a"}`, `{"goal":"g2","sol1":"a","sol2":"b"}`, `{"goal":"g3","sol1":"a","sol2":"b"}`}},
		{"bad JSON", []string{`{"goal":"g0","sol1":"a","sol2":"b"}`, `{"goal":`, `{"goal":"g2","sol1":"a","sol2":"b"}`, `{"goal":"g3","sol1":"a","sol2":"b"}`}},
		{"bad first row", []string{`{"goal":`, `{"goal":"g1","sol1":"a","sol2":"b"}`, `{"goal":"g2","sol1":"a","sol2":"b"}`, `{"goal":"g3","sol1":"a","sol2":"b"}`}},
		{"bad last row", []string{`{"goal":"g0","sol1":"a","sol2":"b"}`, `{"goal":"g1","sol1":"a","sol2":"b"}`, `{"goal":"g2","sol1":"a","sol2":"b"}`, `{"goal":"g3"}`}},
	}
	labels := []int{0, 1, 1, 0}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeFile(t, dir, "valid.jsonl", []byte(strings.Join(tc.rows, "\n")+"\n"))
			writeFile(t, dir, "valid-labels.lst", []byte("0\n1\n1\n0\n"))
			exs, r, err := readAll(t, []string{p}, Options{OnInvalid: Skip})
			if err != nil {
				t.Fatal(err)
			}
			if len(exs) != 3 || len(r.Skipped()) != 1 {
				t.Fatalf("%d examples, %d skipped", len(exs), len(r.Skipped()))
			}
			for _, ex := range exs {
				if want := labels[ex.Source.Row]; ex.Answer != want {
					t.Errorf("row %d (%s): answer %d, want %d from line %d of the labels file", ex.Source.Row, ex.Question, ex.Answer, want, ex.Source.Row+1)
				}
			}
		})
	}
}

// A *-labels.lst beside a file of another layout is not PIQA's and is left
// alone: the answers come from the rows, and the label count is not checked.
func TestLabelsFileOnlyForPIQA(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "m.jsonl", []byte(goodRow+"\n"+strings.Replace(goodRow, `"answer":1`, `"answer":3`, 1)+"\n"))
	writeFile(t, dir, "m-labels.lst", []byte("0\n0\n0\n"))
	for _, opts := range []Options{{}, {Layout: LayoutMMLUHF}} {
		exs, _, err := readAll(t, []string{p}, opts)
		if err != nil {
			t.Fatalf("layout %q: %v", opts.Layout, err)
		}
		if len(exs) != 2 || exs[0].Answer != 1 || exs[1].Answer != 3 {
			t.Fatalf("layout %q: %+v", opts.Layout, exs)
		}
	}
	// The same file read as PIQA does use it, and counts its labels.
	q := writeFile(t, dir, "p.jsonl", []byte(`{"goal":"g","sol1":"a","sol2":"b"}`+"\n"))
	writeFile(t, dir, "p-labels.lst", []byte("1\n0\n"))
	_, _, err := readAll(t, []string{q}, Options{})
	want := "datasets: " + displayName(filepath.Join(dir, "p-labels.lst")) + " has 2 labels but " + displayName(q) + " has 1 rows"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}
