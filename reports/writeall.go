package reports

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File names WriteAll writes in the run directory.
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	CSVFile      = "subjects.csv"
	ParquetFile  = "samples.parquet"
	PlotsDir     = "plots"
)

// WriteAll builds the report of the run in dir and writes every file:
// report.json, report.md, subjects.csv, samples.parquet, the lm-eval results
// file(s) (see Report.LMEvalFile), plots/*.svg and *.png, and report.html.
// Each file is written to a temporary file and renamed into place.
func WriteAll(ctx context.Context, dir string, opts Options) (*Report, error) {
	r, err := Build(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	write := func(name string, fn func(io.Writer) error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return writeAtomic(filepath.Join(dir, name), fn)
	}
	simple := []struct {
		name string
		fn   func(io.Writer, *Report) error
	}{
		{JSONFile, WriteJSON},
		{MarkdownFile, WriteMarkdown},
		{CSVFile, WriteSubjectsCSV},
	}
	for _, f := range simple {
		if err := write(f.name, func(w io.Writer) error { return f.fn(w, r) }); err != nil {
			return nil, err
		}
	}
	for _, run := range r.Runs {
		if err := write(r.LMEvalFile(run.Model), func(w io.Writer) error { return WriteLMEval(w, r, run.Model) }); err != nil {
			return nil, err
		}
	}
	if err := write(ParquetFile, func(w io.Writer) error { return WriteParquet(ctx, w, r) }); err != nil {
		return nil, err
	}
	if !r.opts.SkipPlots {
		if err := r.writePlots(ctx, filepath.Join(dir, PlotsDir)); err != nil {
			return nil, err
		}
	}
	if err := write(HTMLFile, func(w io.Writer) error { return WriteHTML(w, r) }); err != nil {
		return nil, err
	}
	return r, nil
}

// writePlots writes every figure as SVG and PNG into dir.
func (r *Report) writePlots(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	figs := r.Figures()
	for _, f := range figs {
		for _, format := range []string{"svg", "png"} {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := f.Render(format)
			if err != nil {
				return err
			}
			if err := writeAtomic(filepath.Join(dir, f.Name+"."+format), func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			}); err != nil {
				return err
			}
		}
	}
	return nil
}
