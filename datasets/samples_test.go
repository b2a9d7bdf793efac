package datasets

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and the shipped samples from ../shared/data")

// samplesDir holds the small real samples shipped for the demo and tests.
var samplesDir = filepath.Join("..", "testdata", "samples")

var sampleSubjects = []string{"abstract_algebra", "high_school_geography", "marketing", "philosophy"}

const (
	sampleTestRows = 25
	samplePIQARows = 200
)

// sampleMMLU reads the first n rows of each sample subject of a split.
func sampleMMLU(t *testing.T, split string, n int) []Example {
	t.Helper()
	var out []Example
	for _, s := range sampleSubjects {
		path := filepath.Join(sharedData, "mmlu", split, s+"_"+split+".csv")
		r, err := Open(context.Background(), []string{path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			ex, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ex)
		}
		r.Close()
	}
	return out
}

func firstLines(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	r := bufio.NewReader(f)
	for i := 0; i < n; i++ {
		line, err := r.ReadBytes('\n')
		buf.Write(line)
		if err != nil {
			break
		}
	}
	return buf.Bytes()
}

func writeExamples(t *testing.T, path string, exs []Example) {
	t.Helper()
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if err := w.Write(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func sameExamples(a, b []Example) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Subject != b[i].Subject || a[i].Question != b[i].Question ||
			a[i].Answer != b[i].Answer || !reflect.DeepEqual(a[i].Choices, b[i].Choices) {
			return false
		}
	}
	return true
}

// TestSamples checks that the shipped samples are exactly the real data they
// claim to be (and, with -update, writes them).
func TestSamples(t *testing.T) {
	mmlu := filepath.Join(samplesDir, "mmlu_sample")
	piqa := filepath.Join(samplesDir, "piqa_sample")
	files := map[string][]Example{}
	if _, err := os.Stat(sharedData); err == nil {
		files[filepath.Join(mmlu, "test.jsonl")] = sampleMMLU(t, "test", sampleTestRows)
		files[filepath.Join(mmlu, "test.parquet")] = files[filepath.Join(mmlu, "test.jsonl")]
		files[filepath.Join(mmlu, "dev.jsonl")] = sampleMMLU(t, "dev", 5)
	}
	if *update {
		needShared(t)
		for _, d := range []string{mmlu, piqa} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for path, exs := range files {
			writeExamples(t, path, exs)
		}
		for name, n := range map[string]int{"valid.jsonl": samplePIQARows, "valid-labels.lst": samplePIQARows} {
			if err := os.WriteFile(filepath.Join(piqa, name), firstLines(t, filepath.Join(sharedData, "piqa", name), n), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The samples must read cleanly, whether or not the full data is here.
	for _, c := range []struct {
		path   string
		rows   int
		layout Layout
	}{
		{filepath.Join(mmlu, "test.jsonl"), len(sampleSubjects) * sampleTestRows, LayoutMMLUHF},
		{filepath.Join(mmlu, "test.parquet"), len(sampleSubjects) * sampleTestRows, LayoutMMLUHF},
		{filepath.Join(mmlu, "dev.jsonl"), len(sampleSubjects) * 5, LayoutMMLUHF},
		{filepath.Join(piqa, "valid.jsonl"), samplePIQARows, LayoutPIQA},
	} {
		got, r, err := readAll(t, []string{c.path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.rows || r.Layout() != c.layout {
			t.Fatalf("%s: %d rows, layout %s", c.path, len(got), r.Layout())
		}
		if want, ok := files[c.path]; ok && !sameExamples(got, want) {
			t.Fatalf("%s differs from ../shared/data; run go test ./datasets -run TestSamples -update", c.path)
		}
	}
	if _, err := os.Stat(sharedData); err == nil {
		for _, name := range []string{"valid.jsonl", "valid-labels.lst"} {
			got, _ := os.ReadFile(filepath.Join(piqa, name))
			if !bytes.Equal(got, firstLines(t, filepath.Join(sharedData, "piqa", name), samplePIQARows)) {
				t.Fatalf("piqa_sample/%s differs from ../shared/data", name)
			}
		}
	}
}
