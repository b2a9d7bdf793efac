package datasets

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestInspectGolden pins every section of the summary, in text and JSON:
// layout, rows, subjects, choices per question, the answer distribution,
// the sample rows and the invalid records. Refresh with
// go test ./datasets -run TestInspectGolden -update (not a bare -update,
// which also rewrites the shipped samples).
func TestInspectGolden(t *testing.T) {
	dir := filepath.Join("testdata", "inspect")
	cases := []struct {
		name  string
		paths []string
	}{
		{"mixed", []string{filepath.Join(dir, "mixed.jsonl")}},
		{"allbad", []string{filepath.Join(dir, "allbad.jsonl")}},
		{"empty", []string{filepath.Join(dir, "empty.csv")}},
		{"fatal after some rows", []string{filepath.Join(dir, "mixed.jsonl"), filepath.Join(dir, "empty.csv")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := Inspect(t.Context(), tc.paths, Options{OnInvalid: Skip})
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := sum.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := sum.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			// The JSON is always a whole document with every list present.
			var doc map[string]any
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, js.Bytes())
			}
			for _, k := range []string{"files", "errors", "subjects", "choices_per_question", "answers", "samples"} {
				if _, ok := doc[k].([]any); !ok {
					t.Errorf("%q is %#v, want a list", k, doc[k])
				}
			}
			base := filepath.Join(dir, sanitize(tc.name))
			golden(t, base+".txt.golden", text.Bytes())
			golden(t, base+".json.golden", js.Bytes())
		})
	}
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == ' ' {
			b[i] = '_'
		}
	}
	return string(b)
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs; run go test ./datasets -run TestInspectGolden -update and review the diff\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
