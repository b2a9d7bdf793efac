package datasets

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Writer writes examples in evalbench's own columns: id, subject, question,
// choices, answer (an index), labels, and fields, the original record as a
// JSON object (its text in CSV and Parquet). Open reads them back as
// mmlu-hf into the same Examples, labels and original fields included.
type Writer interface {
	Write(Example) error
	Close() error
}

// Create makes a writer for path, choosing the format by its extension.
func Create(path string) (Writer, error) {
	fm, ok := formatOf(path)
	if !ok || fm == formatJSON {
		return nil, fmt.Errorf("datasets: %s: can write .jsonl, .jsonl.gz, .csv or .parquet", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	switch fm {
	case formatJSONL:
		bw := bufio.NewWriter(f)
		return &jsonlWriter{f: f, bw: bw, enc: newEncoder(bw)}, nil
	case formatJSONLGz:
		zw := gzip.NewWriter(f)
		bw := bufio.NewWriter(zw)
		return &jsonlWriter{f: f, zw: zw, bw: bw, enc: newEncoder(bw)}, nil
	case formatCSV:
		bw := bufio.NewWriter(f)
		cw := csv.NewWriter(bw)
		if err := cw.Write([]string{"id", "subject", "question", "choices", "answer", "labels", "fields"}); err != nil {
			f.Close()
			return nil, err
		}
		return &csvWriter{f: f, bw: bw, cw: cw}, nil
	}
	return newParquetWriter(f), nil
}

// record is the written shape of an Example, for Parquet.
type record struct {
	ID       string   `parquet:"id"`
	Subject  string   `parquet:"subject"`
	Question string   `parquet:"question"`
	Choices  []string `parquet:"choices,list"`
	Answer   int64    `parquet:"answer"`
	Labels   []string `parquet:"labels,list"`
	Fields   string   `parquet:"fields"` // JSON text; "" when the example has none
}

// jsonRecord is the written shape of an Example, for JSONL.
type jsonRecord struct {
	ID       string          `json:"id"`
	Subject  string          `json:"subject"`
	Question string          `json:"question"`
	Choices  []string        `json:"choices"`
	Answer   int64           `json:"answer"`
	Labels   []string        `json:"labels"`
	Fields   json.RawMessage `json:"fields,omitempty"`
}

func recordOf(ex Example) (record, error) {
	labels := ex.Labels
	if labels == nil {
		labels = letters(len(ex.Choices))
	}
	rec := record{ID: ex.ID, Subject: ex.Subject, Question: ex.Question, Choices: ex.Choices, Answer: int64(ex.Answer), Labels: labels}
	if ex.Fields != nil {
		b, err := appendFieldsJSON(nil, ex.Fields)
		if err != nil {
			return rec, fmt.Errorf("%s: %v", ex.Source, err)
		}
		rec.Fields = string(b)
	}
	return rec, nil
}

func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

type jsonlWriter struct {
	f   *os.File
	zw  *gzip.Writer
	bw  *bufio.Writer
	enc *json.Encoder
}

func (w *jsonlWriter) Write(ex Example) error {
	rec, err := recordOf(ex)
	if err != nil {
		return err
	}
	jr := jsonRecord{ID: rec.ID, Subject: rec.Subject, Question: rec.Question, Choices: rec.Choices, Answer: rec.Answer, Labels: rec.Labels}
	if rec.Fields != "" {
		jr.Fields = json.RawMessage(rec.Fields)
	}
	return w.enc.Encode(jr)
}

func (w *jsonlWriter) Close() error {
	err := w.bw.Flush()
	if w.zw != nil {
		if zerr := w.zw.Close(); err == nil {
			err = zerr
		}
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

type csvWriter struct {
	f  *os.File
	bw *bufio.Writer
	cw *csv.Writer
}

func (w *csvWriter) Write(ex Example) error {
	rec, err := recordOf(ex)
	if err != nil {
		return err
	}
	return w.cw.Write([]string{rec.ID, rec.Subject, rec.Question, jsonList(rec.Choices), strconv.FormatInt(rec.Answer, 10), jsonList(rec.Labels), rec.Fields})
}

// jsonList writes a list of strings as a JSON array for a CSV cell.
func jsonList(items []string) string {
	buf := []byte{'['}
	for i, s := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, s)
	}
	return string(append(buf, ']'))
}

func (w *csvWriter) Close() error {
	w.cw.Flush()
	err := w.cw.Error()
	if ferr := w.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// parquetRowGroup bounds rows per row group, so readers can stream.
const parquetRowGroup = 10000

type parquetWriter struct {
	f   *os.File
	pw  *parquet.GenericWriter[record]
	buf []record
}

func newParquetWriter(f *os.File) *parquetWriter {
	pw := parquet.NewGenericWriter[record](f, parquet.Compression(&zstd.Codec{}), parquet.CreatedBy("evalbench", "", ""))
	return &parquetWriter{f: f, pw: pw}
}

func (w *parquetWriter) Write(ex Example) error {
	rec, err := recordOf(ex)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, rec)
	if len(w.buf) >= parquetRowGroup {
		return w.flush()
	}
	return nil
}

func (w *parquetWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.pw.Write(w.buf); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return w.pw.Flush()
}

func (w *parquetWriter) Close() error {
	err := w.flush()
	if cerr := w.pw.Close(); err == nil {
		err = cerr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ConvertResult is what Convert did.
type ConvertResult struct {
	Written int
	// Skipped are the bad records left out under the Skip policy.
	Skipped []*RecordError
}

// Convert copies the examples of in to out, in the format of out's
// extension. Under Skip, bad records are left out and listed in the
// result; if every record is bad, nothing is written and it is an error.
func Convert(ctx context.Context, in []string, out string, opts Options) (res ConvertResult, err error) {
	if fm, ok := formatOf(out); !ok || fm == formatJSON {
		return res, fmt.Errorf("datasets: %s: can write .jsonl, .jsonl.gz, .csv or .parquet", out)
	}
	r, err := Open(ctx, in, opts)
	if err != nil {
		return res, err
	}
	defer r.Close()
	// Write beside the target and rename at the end, so a failed conversion
	// never leaves a file that looks complete (or clobbers a good one).
	tmp := filepath.Join(filepath.Dir(out), ".partial-"+filepath.Base(out))
	w, err := Create(tmp)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	for {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Close()
			res.Skipped = r.Skipped()
			return res, err
		}
		if err := w.Write(ex); err != nil {
			w.Close()
			return res, fmt.Errorf("datasets: write %s: %w", out, err)
		}
		res.Written++
	}
	res.Skipped = r.Skipped()
	if res.Written == 0 {
		w.Close()
		return res, fmt.Errorf("datasets: %s: no valid records to write (%d invalid skipped)", out, len(res.Skipped))
	}
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("datasets: write %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return res, fmt.Errorf("datasets: %w", err)
	}
	return res, nil
}
