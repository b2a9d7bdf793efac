package datasets

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sharedData is the full benchmark data kept beside the checkout.
var sharedData = filepath.Join("..", "..", "shared", "data")

func needShared(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("full datasets not found at %s (they live beside the checkout in ../shared/data); skipping", sharedData)
	}
}

type tally struct {
	n        int
	subjects map[string]int
	answers  map[string]int
	layout   Layout
}

func countAll(t *testing.T, paths ...string) tally {
	t.Helper()
	r, err := Open(context.Background(), paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := tally{subjects: map[string]int{}, answers: map[string]int{}}
	for {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.n++
		c.subjects[ex.Subject]++
		c.answers[ex.Labels[ex.Answer]]++
	}
	c.layout = r.Layout()
	return c
}

func TestSharedMMLU(t *testing.T) {
	needShared(t)
	cases := []struct {
		split string
		rows  int
	}{{"test", 14042}, {"dev", 285}, {"val", 1531}}
	for _, tc := range cases {
		t.Run(tc.split, func(t *testing.T) {
			c := countAll(t, filepath.Join(sharedData, "mmlu", tc.split))
			if c.n != tc.rows || len(c.subjects) != 57 || c.layout != LayoutMMLUCSV {
				t.Fatalf("%s: %d rows, %d subjects, layout %s; want %d rows, 57 subjects", tc.split, c.n, len(c.subjects), c.layout, tc.rows)
			}
			if tc.split == "dev" {
				for s, n := range c.subjects {
					if n != 5 {
						t.Errorf("dev %s: %d rows, want 5", s, n)
					}
				}
			}
			if tc.split == "test" {
				want := map[string]int{"A": 3222, "B": 3462, "C": 3582, "D": 3776}
				for k, v := range want {
					if c.answers[k] != v {
						t.Errorf("test answers %s: %d, want %d", k, c.answers[k], v)
					}
				}
				if c.subjects["professional_law"] != 1534 || c.subjects["abstract_algebra"] != 100 {
					t.Errorf("per-subject counts: law %d, algebra %d", c.subjects["professional_law"], c.subjects["abstract_algebra"])
				}
			}
		})
	}
	t.Run("glob", func(t *testing.T) {
		c := countAll(t, filepath.Join(sharedData, "mmlu", "test", "high_school_*_test.csv"))
		if len(c.subjects) != 14 {
			t.Fatalf("glob matched %d subjects", len(c.subjects))
		}
	})
}

func TestSharedPIQA(t *testing.T) {
	needShared(t)
	c := countAll(t, filepath.Join(sharedData, "piqa", "valid.jsonl"))
	if c.n != 1838 || c.layout != LayoutPIQA {
		t.Fatalf("%d rows, layout %s", c.n, c.layout)
	}
	if c.answers["A"]+c.answers["B"] != 1838 || c.answers["A"] == 0 || c.answers["B"] == 0 {
		t.Fatalf("labels from the sibling file: %v", c.answers)
	}
}

func TestSharedPyarrowParquet(t *testing.T) {
	needShared(t)
	dir := filepath.Join(sharedData, "parquet", "mmlu_prox_lite_ko")
	for file, rows := range map[string]int{"test-00000-of-00001.parquet": 588, "validation-00000-of-00001.parquet": 70} {
		t.Run(file, func(t *testing.T) {
			r, err := Open(context.Background(), []string{filepath.Join(dir, file)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n := 0
			for {
				ex, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(ex.Choices) < 2 || len(ex.Choices) > 10 || ex.Subject == "" || ex.ID == "" {
					t.Fatalf("row %d: %+v", n, ex)
				}
				// answer (a letter) and answer_index agree, or Open fails.
				if ex.Fields["answer_index"].(int64) != int64(ex.Answer) {
					t.Fatalf("row %d: answer %d vs answer_index %v", n, ex.Answer, ex.Fields["answer_index"])
				}
				n++
			}
			if n != rows || r.Layout() != LayoutMMLUPro {
				t.Fatalf("%d rows, layout %s", n, r.Layout())
			}
		})
	}
}
