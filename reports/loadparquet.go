package reports

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/evalbench/evalbench/results"
)

// LoadRequestRow is one row of requests.parquet: one request of a load
// run. Times are milliseconds from the step's start (the monotonic clock);
// IntendedTime places the intended start on the wall clock. Optional
// columns are null when the request never got that far (no reply, no
// token) or, for Good, when the run had no SLO.
type LoadRequestRow struct {
	Step         int32     `parquet:"step"`
	StepLabel    string    `parquet:"step_label,dict"`
	Seq          int64     `parquet:"seq"`
	Phase        string    `parquet:"phase,dict"`
	Status       string    `parquet:"status,dict"`
	HTTPStatus   int32     `parquet:"http_status"`
	ErrorKind    *string   `parquet:"error_kind,optional,dict"`
	Error        *string   `parquet:"error,optional"`
	IntendedTime time.Time `parquet:"intended_time,timestamp(microsecond)"`

	IntendedMS   float64  `parquet:"intended_ms"`
	SentMS       *float64 `parquet:"sent_ms,optional"`
	FirstTokenMS *float64 `parquet:"first_token_ms,optional"`
	LastTokenMS  *float64 `parquet:"last_token_ms,optional"`
	EndMS        float64  `parquet:"end_ms"`
	QueueMS      float64  `parquet:"queue_ms"`

	TTFTMS         *float64 `parquet:"ttft_ms,optional"`
	TTFTIntendedMS *float64 `parquet:"ttft_intended_ms,optional"`
	E2EMS          *float64 `parquet:"e2e_ms,optional"`
	E2EIntendedMS  *float64 `parquet:"e2e_intended_ms,optional"`
	TPOTMS         *float64 `parquet:"tpot_ms,optional"`
	ITLMeanMS      *float64 `parquet:"itl_mean_ms,optional"`

	InputTokens  int32   `parquet:"input_tokens"`
	OutputTokens int32   `parquet:"output_tokens"`
	StreamTokens int32   `parquet:"stream_tokens"`
	Usage        bool    `parquet:"usage"`
	Chunks       int32   `parquet:"chunks"`
	FinishReason *string `parquet:"finish_reason,optional,dict"`
	Good         *bool   `parquet:"good,optional"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func loadRowOf(q *results.LoadRequest, steps map[int]*results.LoadStep) LoadRequestRow {
	row := LoadRequestRow{
		Step: int32(q.Step), Seq: q.Seq, Phase: q.Phase, Status: q.Status, HTTPStatus: int32(q.HTTPStatus),
		ErrorKind: optString(q.ErrorKind), Error: optString(q.Error),
		IntendedMS: q.IntendedMS, SentMS: q.SentMS, FirstTokenMS: q.FirstTokenMS, LastTokenMS: q.LastTokenMS,
		EndMS: q.EndMS, QueueMS: q.QueueMS,
		TTFTMS: q.TTFTMS, TTFTIntendedMS: q.TTFTIntendedMS, E2EMS: q.E2EMS, E2EIntendedMS: q.E2EIntendedMS,
		TPOTMS: q.TPOTMS, ITLMeanMS: q.ITLMeanMS,
		InputTokens: int32(q.InputTokens), OutputTokens: int32(q.OutputTokens), StreamTokens: int32(q.StreamTokens),
		Usage: q.Usage, Chunks: int32(q.Chunks), FinishReason: optString(q.FinishReason), Good: q.Good,
	}
	if s := steps[q.Step]; s != nil {
		row.StepLabel = s.Label
		row.IntendedTime = s.Started.Add(time.Duration(q.IntendedMS * float64(time.Millisecond))).UTC()
	}
	return row
}

// WriteLoadParquet writes requests.parquet from the requests.jsonl at
// path, streaming: row groups of parquetRowGroup rows, whatever the run's
// length. Rows are in the order requests ended.
func WriteLoadParquet(ctx context.Context, w io.Writer, r *results.LoadReport, path string) error {
	steps := map[int]*results.LoadStep{}
	for i := range r.Steps {
		steps[r.Steps[i].Index] = &r.Steps[i]
	}
	// The file says which run it is from and whether that run ended, as
	// load.json does, for whoever reads it alone.
	pw := parquet.NewGenericWriter[LoadRequestRow](w,
		parquet.Compression(&zstd.Codec{}),
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("evalbench", r.Version, ""),
		parquet.KeyValueMetadata("evalbench.schema", results.LoadSchema),
		parquet.KeyValueMetadata("evalbench.status", r.Status),
		parquet.KeyValueMetadata("evalbench.started", r.Started.UTC().Format(time.RFC3339Nano)),
	)
	buf := make([]LoadRequestRow, 0, 512)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := pw.Write(buf); err != nil {
			return fmt.Errorf("reports: write requests.parquet: %w", err)
		}
		clear(buf)
		buf = buf[:0]
		return nil
	}
	_, _, err := results.ReadLoadRequests(ctx, path, func(q *results.LoadRequest) error {
		buf = append(buf, loadRowOf(q, steps))
		if len(buf) == cap(buf) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("reports: write requests.parquet: %w", err)
	}
	return nil
}
