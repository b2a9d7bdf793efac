package reports

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/evalbench/evalbench/results"
)

func readParquet(t *testing.T, path string) []SampleRow {
	t.Helper()
	rows, err := parquet.ReadFile[SampleRow](path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// expectedRows replays the journal independently of the package: the last
// line per (model, id) among the first n lines, in the order of those last
// lines.
func expectedRows(t *testing.T, dir string, n int) []SampleRow {
	t.Helper()
	type entry struct {
		line int
		s    *results.Sample
	}
	last := map[string]entry{}
	line := 0
	if _, err := results.ReadJournal(context.Background(), filepath.Join(dir, results.JournalFile), func(s *results.Sample) error {
		line++
		if line <= n {
			last[s.Key()] = entry{line, s}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byLine := make([]*results.Sample, line+1)
	for _, e := range last {
		byLine[e.line] = e.s
	}
	var out []SampleRow
	for _, s := range byLine {
		if s != nil {
			out = append(out, rowOf(s))
		}
	}
	return out
}

func TestParquetMatchesJournal(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	if _, err := WriteAll(context.Background(), dir, Options{SkipPlots: true}); err != nil {
		t.Fatal(err)
	}
	got := readParquet(t, filepath.Join(dir, ParquetFile))
	want := expectedRows(t, dir, 1<<30)
	if len(got) != 72 || len(want) != 72 {
		t.Fatalf("%d rows read, %d expected; the fixture has 72 samples (73 lines, one redone)", len(got), len(want))
	}
	for i := range want {
		// Timestamps come back at microsecond precision, in UTC.
		want[i].Start = want[i].Start.Truncate(1000).UTC()
		want[i].End = want[i].End.Truncate(1000).UTC()
		got[i].Start, got[i].End = got[i].Start.UTC(), got[i].End.UTC()
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// Spot-check the typed values against the journal text itself.
	var redone, failed *SampleRow
	for i := range got {
		r := &got[i]
		if r.Model == "demo" && r.ID == "abstract_algebra_test:5" {
			redone = r
		}
		if r.Model == "demo:lora-a" && r.ID == "formal_logic_test:3" {
			failed = r
		}
	}
	if redone == nil || redone.Status != "ok" || redone.Acc == nil || !*redone.Acc || len(redone.LogLik) != 4 {
		t.Errorf("redone sample: %+v, want the later ok line", redone)
	}
	if failed == nil || failed.Status != "failed" || failed.Error == nil || failed.Acc != nil || failed.LogLik != nil {
		t.Errorf("failed sample: %+v, want error set and scores null", failed)
	}
}

// The file must use the standard three-level LIST layout and zstd, so
// pandas (pyarrow) and DuckDB read loglik and char_len as lists.
func TestParquetSchema(t *testing.T) {
	dir := copyRun(t, "testdata/hand")
	if _, err := WriteAll(context.Background(), dir, Options{SkipPlots: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, ParquetFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"loglik", "char_len"} {
		if _, ok := pf.Schema().Lookup(col, "list", "element"); !ok {
			t.Errorf("column %s is not <name>.list.element", col)
			continue
		}
		node := findField(pf.Schema(), col)
		if lt := node.Type().LogicalType(); lt == nil || lt.String() != "LIST" {
			t.Errorf("column %s: logical type %v, want LIST", col, lt)
		}
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec.String() != "ZSTD" {
				t.Errorf("column %v: codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
	if pf.NumRows() != 7 {
		t.Errorf("%d rows, want 7", pf.NumRows())
	}
}

func findField(n parquet.Node, name string) parquet.Node {
	for _, f := range n.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}
