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
// choices, answer (an index) and labels. Open reads them back as mmlu-hf.
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
		if err := cw.Write([]string{"id", "subject", "question", "choices", "answer", "labels"}); err != nil {
			f.Close()
			return nil, err
		}
		return &csvWriter{f: f, bw: bw, cw: cw}, nil
	}
	return newParquetWriter(f), nil
}

// record is the written shape of an Example.
type record struct {
	ID       string   `json:"id" parquet:"id"`
	Subject  string   `json:"subject" parquet:"subject"`
	Question string   `json:"question" parquet:"question"`
	Choices  []string `json:"choices" parquet:"choices,list"`
	Answer   int64    `json:"answer" parquet:"answer"`
	Labels   []string `json:"labels" parquet:"labels,list"`
}

func recordOf(ex Example) record {
	return record{ID: ex.ID, Subject: ex.Subject, Question: ex.Question, Choices: ex.Choices, Answer: int64(ex.Answer), Labels: ex.Labels}
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

func (w *jsonlWriter) Write(ex Example) error { return w.enc.Encode(recordOf(ex)) }

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
	ch, _ := json.Marshal(ex.Choices)
	lb, _ := json.Marshal(ex.Labels)
	return w.cw.Write([]string{ex.ID, ex.Subject, ex.Question, string(ch), strconv.Itoa(ex.Answer), string(lb)})
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
	w.buf = append(w.buf, recordOf(ex))
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

// Convert copies the examples of in to out, in the format of out's
// extension, and returns how many it wrote.
func Convert(ctx context.Context, in []string, out string, opts Options) (n int, err error) {
	r, err := Open(ctx, in, opts)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	// Write beside the target and rename at the end, so a failed conversion
	// never leaves a file that looks complete (or clobbers a good one).
	tmp := filepath.Join(filepath.Dir(out), ".partial-"+filepath.Base(out))
	if fm, ok := formatOf(out); !ok || fm == formatJSON {
		return 0, fmt.Errorf("datasets: %s: can write .jsonl, .jsonl.gz, .csv or .parquet", out)
	}
	w, err := Create(tmp)
	if err != nil {
		return 0, err
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
			return n, err
		}
		if err := w.Write(ex); err != nil {
			w.Close()
			return n, fmt.Errorf("datasets: write %s: %w", out, err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		return n, fmt.Errorf("datasets: write %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return n, fmt.Errorf("datasets: %w", err)
	}
	return n, nil
}
