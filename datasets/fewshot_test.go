package datasets

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The evaluated question is left out of its own shots only when it is one
// of them: same file, same row. test/x.csv and dev/x.csv have the same
// "<stem>:<row>" IDs, yet dev row 0 is a fine shot for test row 0.
func TestFewShotExcludesOnlyTheSameRecord(t *testing.T) {
	dir := t.TempDir()
	mk := func(split string) string {
		os.MkdirAll(filepath.Join(dir, split), 0o755)
		var rows []string
		for _, q := range []string{"q0", "q1", "q2", "q3"} {
			rows = append(rows, split+" "+q+",a,b,c,d,A")
		}
		return writeFile(t, filepath.Join(dir, split), "x.csv", []byte(strings.Join(rows, "\n")+"\n"))
	}
	test, dev := mk("test"), mk("dev")
	evalRow := func(path string, row int) Example {
		exs, _, err := readAll(t, []string{path}, Options{Layout: LayoutMMLUCSV})
		if err != nil {
			t.Fatal(err)
		}
		return exs[row]
	}
	questions := func(exs []Example) string {
		var s []string
		for _, e := range exs {
			s = append(s, e.Question)
		}
		return strings.Join(s, ",")
	}
	// Another path to the same file, through a symlinked directory.
	if err := os.Symlink(filepath.Join(dir, "test"), filepath.Join(dir, "alias")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	other := filepath.Join(dir, "alias", "x.csv")
	cases := []struct {
		name    string
		fewshot string
		eval    Example
		want    string
	}{
		{"other split, colliding id", dev, evalRow(test, 0), "dev q0,dev q1,dev q2"},
		{"other split, other row", dev, evalRow(test, 1), "dev q0,dev q1,dev q2"},
		{"same file", test, evalRow(test, 0), "test q1,test q2,test q3"},
		{"same file, middle row", test, evalRow(test, 1), "test q0,test q2,test q3"},
		{"same file by another path", other, evalRow(test, 1), "test q0,test q2,test q3"},
		{"evaluated from the other path", test, evalRow(other, 2), "test q0,test q1,test q3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.eval.ID != "x:0" && tc.eval.ID != "x:1" && tc.eval.ID != "x:2" {
				t.Fatalf("unexpected id %q", tc.eval.ID)
			}
			fs, err := LoadFewShot(t.Context(), []string{tc.fewshot}, Options{Layout: LayoutMMLUCSV})
			if err != nil {
				t.Fatal(err)
			}
			if got := questions(fs.ForExample(&tc.eval, 3)); got != tc.want {
				t.Fatalf("shots %s, want %s", got, tc.want)
			}
		})
	}
}

// A bad record in the few-shot source is an error even under Skip: leaving
// it out would shift every prompt of its subject.
func TestFewShotFailsOnBadRecords(t *testing.T) {
	p := writeFile(t, t.TempDir(), "dev.jsonl", []byte(goodRow+"\n{bad\n"+goodRow+"\n"))
	_, err := LoadFewShot(t.Context(), []string{p}, Options{OnInvalid: Skip})
	if err == nil || !strings.Contains(err.Error(), "dev.jsonl:2: invalid JSON") {
		t.Fatalf("got %v", err)
	}
}

// Reading stops promptly on cancel, even in a long run of bad records
// skipped after the last good one.
func TestCancelDuringSkippedRecords(t *testing.T) {
	p := writeFile(t, t.TempDir(), "a.jsonl", []byte(goodRow+"\n"+goodRow+"\n"+strings.Repeat("{bad\n", 5000)+goodRow+"\n"))
	ctx, cancel := context.WithCancel(t.Context())
	r, err := Open(ctx, []string{p}, Options{OnInvalid: Skip})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = r.Next()
	if err != ctx.Err() || len(r.Skipped()) >= 5000 {
		t.Fatalf("after cancel: %v with %d skipped", err, len(r.Skipped()))
	}
	if _, err := r.Next(); err == io.EOF {
		t.Fatal("reading went on after cancel")
	}
}
