package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/evalbench/evalbench/results"
)

// SampleRow is one row of samples.parquet: one sample of one model, the
// final journal line for its (model, id). Scores are null for a failed
// sample. Lists use Parquet's standard three-level LIST encoding, which
// pandas (pyarrow), DuckDB and Spark read as lists.
type SampleRow struct {
	Model    string  `parquet:"model,dict"`
	ID       string  `parquet:"id"`
	Subject  string  `parquet:"subject,dict"`
	Seq      int64   `parquet:"seq"`
	Status   string  `parquet:"status,dict"`
	Error    *string `parquet:"error,optional"`
	NChoices int32   `parquet:"n_choices"`
	Gold     int32   `parquet:"gold"`
	Pred     *int32  `parquet:"pred,optional"`
	PredNorm *int32  `parquet:"pred_norm,optional"`
	Acc      *bool   `parquet:"acc,optional"`
	AccNorm  *bool   `parquet:"acc_norm,optional"`
	Method   *string `parquet:"method,optional,dict"`
	// LogLik and CharLen are per choice; null for a failed sample.
	LogLik  []float64 `parquet:"loglik,optional,list"`
	CharLen []int32   `parquet:"char_len,optional,list"`
	// Greedy is per choice whether every continuation token was the
	// model's argmax (lm-eval's is_greedy; exact_match is greedy[gold]).
	// Null when the replies did not tell, as in the journal.
	Greedy []bool `parquet:"greedy,optional,list"`
	// NRequests and Attempts count the sample's API calls and their
	// attempts; LatencyMS adds up the calls' latencies.
	NRequests int32     `parquet:"n_requests"`
	Attempts  int32     `parquet:"attempts"`
	LatencyMS float64   `parquet:"latency_ms"`
	Start     time.Time `parquet:"start,timestamp(microsecond)"`
	End       time.Time `parquet:"end,timestamp(microsecond)"`
}

// parquetRowGroup bounds the rows buffered before a row group is written,
// so memory stays flat however long the journal is.
const parquetRowGroup = 8192

// rowOf converts a journal sample to its row.
func rowOf(s *results.Sample) SampleRow {
	row := SampleRow{
		Model: s.Model, ID: s.ID, Subject: s.Subject, Seq: int64(s.Seq), Status: string(s.Status),
		NChoices: int32(s.NumChoices), Gold: int32(s.Gold),
		NRequests: int32(len(s.Requests)), Start: s.Start, End: s.End,
	}
	for _, q := range s.Requests {
		row.Attempts += int32(q.Attempts)
		row.LatencyMS += q.LatencyMS
	}
	if s.Method != "" {
		m := s.Method
		row.Method = &m
	}
	if s.Status != results.StatusOK {
		e := s.Error
		row.Error = &e
		return row
	}
	pred, predNorm := int32(s.Pred), int32(s.PredNorm)
	acc, accNorm := s.Acc, s.AccNorm
	row.Pred, row.PredNorm, row.Acc, row.AccNorm = &pred, &predNorm, &acc, &accNorm
	row.LogLik = s.LogLik
	row.Greedy = s.Greedy
	row.CharLen = make([]int32, len(s.CharLen))
	for i, c := range s.CharLen {
		row.CharLen[i] = int32(c)
	}
	return row
}

// errStop ends a journal pass early once the lines Build read are done.
var errStop = errors.New("stop")

// WriteParquet writes samples.parquet by streaming the journal again and
// keeping exactly the lines Build kept (the last line of each key, among
// the lines Build read: lines appended since are left out, so the file
// agrees with the rest of the report). Rows are in journal order. r must
// come from Build (a Report decoded from report.json has no journal).
func WriteParquet(ctx context.Context, w io.Writer, r *Report) error {
	if r.dir == "" || r.keep == nil {
		return errors.New("reports: samples.parquet is written from the journal: the Report must come from Build")
	}
	pw := parquet.NewGenericWriter[SampleRow](w,
		parquet.Compression(&zstd.Codec{}),
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("evalbench", r.Version, ""),
	)
	buf := make([]SampleRow, 0, 256)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := pw.Write(buf); err != nil {
			return fmt.Errorf("reports: write samples.parquet: %w", err)
		}
		clear(buf) // drop references to the samples' slices
		buf = buf[:0]
		return nil
	}
	line := 0
	_, err := results.ReadJournal(ctx, filepath.Join(r.dir, results.JournalFile), func(s *results.Sample) error {
		line++
		if line > r.lines {
			return errStop
		}
		if r.keep[line/64]&(1<<(line%64)) == 0 {
			return nil
		}
		buf = append(buf, rowOf(s))
		if len(buf) == cap(buf) {
			return flush()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if line < r.lines {
		return fmt.Errorf("reports: %s: shrank from %d to %d lines while the report was written", results.JournalFile, r.lines, line)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("reports: write samples.parquet: %w", err)
	}
	return nil
}
