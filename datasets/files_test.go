package datasets

import "testing"

// A directory's hidden files are not data: macOS leaves "._x.csv" resource
// forks in copied folders, and Convert writes ".partial-" files as it works.
func TestDirectorySkipsHiddenFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.jsonl", []byte(goodRow+"\n"))
	writeFile(t, dir, "._a.jsonl", []byte("\x00\x05\x16\x07binary"))
	writeFile(t, dir, ".partial-b.jsonl", []byte("{half"))
	exs, _, err := readAll(t, []string{dir}, Options{})
	if err != nil || len(exs) != 1 {
		t.Fatalf("%v, %d examples", err, len(exs))
	}
}

// The mmlu-csv layout, once detected from the first file, does not make a
// later file's header row a question: a directory may hold headered copies
// beside the original headerless files.
func TestMMLUCSVFilesWithAndWithoutHeader(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a_test.csv", []byte("question,A,B,C,D,answer\nq1,w,x,y,z,B\n"))
	writeFile(t, dir, "b_test.csv", []byte("question,A,B,C,D,answer\nq2,w,x,y,z,C\n"))
	writeFile(t, dir, "c_test.csv", []byte("q3,w,x,y,z,D\n"))
	exs, r, err := readAll(t, []string{dir}, Options{})
	if err != nil || r.Layout() != LayoutMMLUCSV || len(exs) != 3 {
		t.Fatalf("%v, layout %s, %d examples", err, r.Layout(), len(exs))
	}
	for i, want := range []string{"a_test:0 q1 1", "b_test:0 q2 2", "c_test:0 q3 3"} {
		if got := exs[i].ID + " " + exs[i].Question + " " + string(rune('0'+exs[i].Answer)); got != want {
			t.Errorf("example %d: %s, want %s", i, got, want)
		}
	}
}

// A file whose name looks like a pattern is still that file.
func TestBracketsInAFileName(t *testing.T) {
	p := writeFile(t, t.TempDir(), "data[1].jsonl", []byte(goodRow+"\n"))
	exs, _, err := readAll(t, []string{p}, Options{})
	if err != nil || len(exs) != 1 {
		t.Fatalf("%v, %d examples", err, len(exs))
	}
}
