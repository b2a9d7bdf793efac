package datasets

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The duplicate-ID set stays near 14 bytes a row, whatever the row count.
func TestIDSetCompact(t *testing.T) {
	var s idSet
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < 400_000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if !s.insert(x, uint32(i), func(uint32) bool { t.Fatal("distinct hashes compared as equal"); return false }) {
			t.Fatal("a new hash was not added")
		}
		if n := i + 1; n >= 10_000 && n%50_000 == 0 {
			if per := float64(s.bytes()) / float64(n); per > 17 {
				t.Fatalf("%d rows: %.1f bytes a row", n, per)
			}
		}
	}
}

// A hash collision is never reported as a duplicate: with every ID hashed
// to the same value, distinct IDs read cleanly and a real duplicate is
// still found, with the place of its first occurrence.
func TestDuplicateIDsConfirmedNotHashed(t *testing.T) {
	gz := func(s string) []byte {
		var b strings.Builder
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return []byte(b.String())
	}
	row := func(id string) string {
		return `{"id":"` + id + `","question":"q","choices":["a","b"],"answer":0}` + "\n"
	}
	cases := []struct {
		name  string
		files map[string][]byte // in order of name
		want  string            // "" for no error; {d} is the directory
	}{
		{"distinct ids", map[string][]byte{"a.jsonl": []byte(row("x") + row("y") + row("z"))}, ""},
		{"real duplicate", map[string][]byte{"a.jsonl": []byte(row("x") + row("y") + row("x"))}, `datasets: {d}/a.jsonl:3: field "id": duplicate id "x" (first at {d}/a.jsonl:1)`},
		{"duplicate across files", map[string][]byte{"a.jsonl": []byte(row("x") + row("y")), "b.jsonl": []byte(row("z") + row("y"))}, `datasets: {d}/b.jsonl:2: field "id": duplicate id "y" (first at {d}/a.jsonl:2)`},
		{"gzip", map[string][]byte{"a.jsonl.gz": gz(row("x") + row("y") + row("y"))}, `datasets: {d}/a.jsonl.gz:3: field "id": duplicate id "y" (first at {d}/a.jsonl.gz:2)`},
		{"same stem in two directories", map[string][]byte{"t/x_test.csv": []byte("q,a,b,c,d,A\nq,a,b,c,d,B\n"), "u/x_test.csv": []byte("q,a,b,c,d,A\n")}, `datasets: {d}/u/x_test.csv:1: field "id": duplicate id "x_test:0" (first at {d}/t/x_test.csv:1)`},
		{"bad rows before", map[string][]byte{"a.jsonl": []byte("{bad\n" + row("x") + "{bad\n" + row("x"))}, `datasets: {d}/a.jsonl:4: field "id": duplicate id "x" (first at {d}/a.jsonl:2)`},
	}
	for _, tc := range cases {
		for _, hash := range []string{"real", "colliding"} {
			t.Run(tc.name+" "+hash, func(t *testing.T) {
				dir := t.TempDir()
				var paths []string
				for name, data := range tc.files {
					os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
					paths = append(paths, writeFile(t, dir, name, data))
				}
				slices.Sort(paths)
				r, err := Open(t.Context(), paths, Options{OnInvalid: Skip})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if hash == "colliding" {
					r.hashID = func(string) uint64 { return 42 }
				}
				var errs []string
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				for _, e := range r.Skipped() {
					if e.Field == "id" {
						errs = append(errs, e.Error())
					}
				}
				want := strings.ReplaceAll(tc.want, "{d}", displayName(dir))
				switch {
				case want == "" && len(errs) > 0:
					t.Fatalf("false duplicates: %v", errs)
				case want != "" && (len(errs) != 1 || errs[0] != want):
					t.Fatalf("got  %v\nwant %s", errs, want)
				}
			})
		}
	}
}

// A file concatenated to itself, read under Skip: every second-half row is
// a duplicate, and confirming them all costs one extra pass, not one per row.
func TestManyDuplicatesUnderSkip(t *testing.T) {
	var b strings.Builder
	const n = 3000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":"r%d","question":"q","choices":["a","b"],"answer":0}`+"\n", i)
	}
	p := writeFile(t, t.TempDir(), "a.jsonl", []byte(b.String()+b.String()))
	exs, r, err := readAll(t, []string{p}, Options{OnInvalid: Skip})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != n || len(r.Skipped()) != n {
		t.Fatalf("%d examples, %d skipped", len(exs), len(r.Skipped()))
	}
	if got, want := r.Skipped()[n-1].Error(), fmt.Sprintf(`datasets: %s:%d: field "id": duplicate id "r%d" (first at %s:%d)`, displayName(p), 2*n, n-1, displayName(p), n); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Streaming keeps only the duplicate-ID set per row: the heap a Reader
// holds after 100,000 rows is about 14 bytes a row (it was about 100 with a
// map of locations). The margin is wide; this measures the structure, not
// the allocator.
func TestReaderMemoryPerRow(t *testing.T) {
	const rows = 100_000
	path := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, `{"question":"question %d","subject":"s%d","choices":["alpha","beta","gamma","delta"],"answer":%d}`+"\n", i, i%57, i%4)
	}
	w.Flush()
	f.Close()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	r, err := Open(t.Context(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	runtime.KeepAlive(r)
	r.Close()
	per := (float64(after) - float64(before)) / rows
	t.Logf("%.1f bytes a row held after reading %d rows", per, rows)
	if per > 24 {
		t.Fatalf("the reader holds %.1f bytes a row after reading %d rows; want about 14", per, rows)
	}
}
