package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

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

// finalSamples replays the journal independently of the package: the last
// line per (model, id) among the first n lines, in the order of those last
// lines.
func finalSamples(t *testing.T, dir string, n int) []*results.Sample {
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
	var out []*results.Sample
	for _, s := range byLine {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// parquetReadRow is how a reader that knows only the documented column
// names sees samples.parquet. It is declared apart from SampleRow so that a
// renamed or re-typed column fails here instead of changing both sides.
type parquetReadRow struct {
	Model     string    `parquet:"model"`
	ID        string    `parquet:"id"`
	Subject   string    `parquet:"subject"`
	Seq       int64     `parquet:"seq"`
	Status    string    `parquet:"status"`
	Error     *string   `parquet:"error,optional"`
	NChoices  int32     `parquet:"n_choices"`
	Gold      int32     `parquet:"gold"`
	Pred      *int32    `parquet:"pred,optional"`
	PredNorm  *int32    `parquet:"pred_norm,optional"`
	Acc       *bool     `parquet:"acc,optional"`
	AccNorm   *bool     `parquet:"acc_norm,optional"`
	Method    *string   `parquet:"method,optional"`
	LogLik    []float64 `parquet:"loglik,optional,list"`
	CharLen   []int32   `parquet:"char_len,optional,list"`
	Greedy    []bool    `parquet:"greedy,optional,list"`
	NRequests int32     `parquet:"n_requests"`
	Attempts  int32     `parquet:"attempts"`
	LatencyMS float64   `parquet:"latency_ms"`
	Start     time.Time `parquet:"start,timestamp(microsecond)"`
	End       time.Time `parquet:"end,timestamp(microsecond)"`
}

// parquetColumns is every column of samples.parquet; a column added to the
// file without a check below fails TestParquetMatchesJournal.
var parquetColumns = []string{
	"model", "id", "subject", "seq", "status", "error", "n_choices", "gold", "pred", "pred_norm",
	"acc", "acc_norm", "method", "loglik", "char_len", "greedy", "n_requests", "attempts",
	"latency_ms", "start", "end",
}

// TestParquetMatchesJournal reads samples.parquet back and checks every
// column of every row against the journal sample it stands for, with
// expectations written from the journal's fields here, not by the code that
// writes the file.
func TestParquetMatchesJournal(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	if _, err := WriteAll(context.Background(), dir, Options{SkipPlots: true}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ParquetFile)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, field := range pf.Schema().Fields() {
		cols = append(cols, field.Name())
	}
	f.Close()
	if !slices.Equal(cols, parquetColumns) {
		t.Errorf("columns %v, want %v", cols, parquetColumns)
	}

	got, err := parquet.ReadFile[parquetReadRow](path)
	if err != nil {
		t.Fatal(err)
	}
	want := finalSamples(t, dir, 1<<30)
	if len(got) != 72 || len(want) != 72 {
		t.Fatalf("%d rows read, %d expected; the fixture has 72 samples (73 lines, one redone)", len(got), len(want))
	}
	var ok, failed, greedy, elapsedDiffers int
	for i, s := range want {
		g := got[i]
		where := fmt.Sprintf("row %d (%s %s)", i, s.Model, s.ID)
		check := func(col string, gotV, wantV any) {
			t.Helper()
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("%s: %s = %v, want %v", where, col, gotV, wantV)
			}
		}
		check("model", g.Model, s.Model)
		check("id", g.ID, s.ID)
		check("subject", g.Subject, s.Subject)
		check("seq", g.Seq, int64(s.Seq))
		check("status", g.Status, string(s.Status))
		check("n_choices", g.NChoices, int32(s.NumChoices))
		check("gold", g.Gold, int32(s.Gold))
		if s.Method == "" {
			check("method", g.Method, (*string)(nil))
		} else if g.Method == nil || *g.Method != s.Method {
			t.Errorf("%s: method = %v, want %q", where, g.Method, s.Method)
		}
		var attempts int32
		var latency, elapsed float64
		for _, q := range s.Requests {
			attempts += int32(q.Attempts)
			latency += q.LatencyMS
			elapsed += q.ElapsedMS
		}
		if latency != elapsed {
			elapsedDiffers++
		}
		check("n_requests", g.NRequests, int32(len(s.Requests)))
		check("attempts", g.Attempts, attempts)
		check("latency_ms", g.LatencyMS, latency)
		// Timestamps come back at microsecond precision, in UTC.
		check("start", g.Start.UTC(), s.Start.Truncate(time.Microsecond).UTC())
		check("end", g.End.UTC(), s.End.Truncate(time.Microsecond).UTC())

		switch s.Status {
		case results.StatusOK:
			ok++
			check("error", g.Error, (*string)(nil))
			if g.Pred == nil || g.PredNorm == nil || g.Acc == nil || g.AccNorm == nil {
				t.Errorf("%s: pred/pred_norm/acc/acc_norm null for a scored sample", where)
				continue
			}
			check("pred", *g.Pred, int32(s.Pred))
			check("pred_norm", *g.PredNorm, int32(s.PredNorm))
			check("acc", *g.Acc, s.Acc)
			check("acc_norm", *g.AccNorm, s.AccNorm)
			check("loglik", g.LogLik, s.LogLik)
			charLen := make([]int32, len(s.CharLen))
			for k, c := range s.CharLen {
				charLen[k] = int32(c)
			}
			check("char_len", g.CharLen, charLen)
			if s.Greedy != nil {
				greedy++
			}
			check("greedy", g.Greedy, s.Greedy)
		case results.StatusFailed:
			failed++
			if g.Error == nil || *g.Error != s.Error {
				t.Errorf("%s: error = %v, want %q", where, g.Error, s.Error)
			}
			if g.Pred != nil || g.PredNorm != nil || g.Acc != nil || g.AccNorm != nil || g.LogLik != nil || g.CharLen != nil || g.Greedy != nil {
				t.Errorf("%s: a failed sample has scores: %+v", where, g)
			}
		}
	}
	// The fixture must exercise what the checks tell apart.
	if ok == 0 || failed == 0 || greedy == 0 || greedy == ok || elapsedDiffers == 0 {
		t.Errorf("fixture: %d ok, %d failed, %d with greedy, %d with elapsed != latency", ok, failed, greedy, elapsedDiffers)
	}

	// The redone sample is the later, ok line.
	redone := slices.IndexFunc(got, func(r parquetReadRow) bool { return r.Model == "demo" && r.ID == "abstract_algebra_test:5" })
	if redone < 0 || got[redone].Status != "ok" || got[redone].Acc == nil {
		t.Errorf("redone sample demo/abstract_algebra_test:5 at row %d, want the later ok line", redone)
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
