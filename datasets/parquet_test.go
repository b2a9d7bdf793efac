package datasets

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/compress/zstd"
)

type pqNested struct {
	Question string     `parquet:"question"`
	Choices  [][]string `parquet:"choices,list"`
	Answer   int64      `parquet:"answer"`
}

type pqNestedExtra struct {
	Question string     `parquet:"question"`
	Choices  []string   `parquet:"choices,list"`
	Answer   int64      `parquet:"answer"`
	Spans    [][]string `parquet:"spans,list"`
}

type pqText struct {
	Question string   `parquet:"question"`
	Choices  []string `parquet:"choices,list"`
	Answer   int64    `parquet:"answer"`
}

// TestParquetRecordErrors: the place and the reason, for what a Parquet
// file can hold that a layout cannot use.
func TestParquetRecordErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		write func(path string)
		want  string // {f} is the file
	}{
		{"nested list", func(p string) {
			writeParquet(t, p, []pqNested{{"q", [][]string{{"a"}, {"b"}}, 0}, {"q2", [][]string{{"a", "b"}}, 0}}, &zstd.Codec{})
		}, `datasets: {f}: row 0: field "choices": a list of lists (a nested LIST column) is not supported`},
		{"invalid UTF-8", func(p string) {
			writeParquet(t, p, []pqText{{"q", []string{"a", "b"}, 0}, {"caf\xe9", []string{"a", "b"}, 1}}, &zstd.Codec{})
		}, `datasets: {f}: row 1: field "question": invalid UTF-8`},
		{"invalid UTF-8 in a list", func(p string) {
			writeParquet(t, p, []pqText{{"q", []string{"a", "b\xff"}, 0}, {"q", []string{"a", "b"}, 1}}, &zstd.Codec{})
		}, `datasets: {f}: row 0: field "choices": invalid UTF-8`},
		{"no rows", func(p string) {
			writeParquet(t, p, []pqText{}, &zstd.Codec{})
		}, `datasets: {f}: no records (the file has no rows)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".parquet")
			tc.write(p)
			_, _, err := readAll(t, []string{p}, Options{})
			want := replaceF(tc.want, p)
			if err == nil || err.Error() != want {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
		})
	}
	// A nested list in a column the layout does not use is no obstacle.
	p := filepath.Join(dir, "extra.parquet")
	writeParquet(t, p, []pqNestedExtra{{"q", []string{"a", "b"}, 1, [][]string{{"x"}}}, {"q2", []string{"a", "b"}, 0, nil}}, &zstd.Codec{})
	exs, _, err := readAll(t, []string{p}, Options{})
	if err != nil || len(exs) != 2 || exs[0].Answer != 1 {
		t.Fatalf("%v %+v", err, exs)
	}
	if v, ok := exs[0].Fields["spans"]; !ok || v != nil {
		t.Fatalf("the unreadable column in Fields: %#v", v)
	}
}

func replaceF(s, path string) string { return strings.ReplaceAll(s, "{f}", displayName(path)) }
