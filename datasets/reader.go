package datasets

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// Reader streams the examples of one or more files.
type Reader struct {
	ctx    context.Context
	opts   Options
	files  []string
	fi     int
	src    source
	conv   *converter
	layout Layout
	// ids remembers a 64-bit hash of every ID seen, with where it was first
	// seen, to catch duplicates without keeping the strings.
	ids     map[uint64]Location
	skipped []*RecordError
	err     error // sticky fatal error
	count   int
}

// Open resolves paths and prepares to read them in order.
func Open(ctx context.Context, paths []string, opts Options) (*Reader, error) {
	if opts.Layout != "" && !validLayout(opts.Layout) {
		return nil, fmt.Errorf("datasets: unknown layout %q (want one of %s)", opts.Layout, layoutNames())
	}
	if opts.Layout == LayoutGeneric && len(opts.Fields) == 0 {
		return nil, fmt.Errorf("datasets: the generic layout needs a field mapping, e.g. --field question=prompt --field choices=options --field answer=label")
	}
	for k := range opts.Fields {
		switch k {
		case "id", "subject", "question", "choices", "answer", "labels":
		default:
			return nil, fmt.Errorf("datasets: field mapping %q: unknown field (want id, subject, question, choices, answer or labels)", k)
		}
	}
	files, err := resolve(paths)
	if err != nil {
		return nil, err
	}
	r := &Reader{ctx: ctx, opts: opts, files: files, layout: opts.Layout, ids: map[uint64]Location{}}
	// Open the first file now, so a wrong path or type fails at Open and
	// the layout is known before the first Next.
	if err := r.openNext(); err != nil {
		return nil, err
	}
	return r, nil
}

func validLayout(l Layout) bool {
	for _, x := range Layouts {
		if x == l {
			return true
		}
	}
	return false
}

// Layout returns the layout in use (detected from the first record when not
// forced). It is "" only for a dataset with no records.
func (r *Reader) Layout() Layout { return r.layout }

// Skipped returns the records skipped under the Skip policy.
func (r *Reader) Skipped() []*RecordError { return r.skipped }

// openNext opens files until one has a first record, detecting the layout
// from it.
func (r *Reader) openNext() error {
	for r.fi < len(r.files) {
		path := r.files[r.fi]
		r.fi++
		name := displayName(path)
		fm, _ := formatOf(path)
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
		if err := sniff(f, name, fm); err != nil {
			f.Close()
			return err
		}
		var src source
		switch fm {
		case formatJSONL:
			src, err = openJSONL(f, name, false)
		case formatJSONLGz:
			src, err = openJSONL(f, name, true)
		case formatJSON:
			src, err = openJSONArray(f, name, r.opts.maxJSON())
		case formatCSV:
			src, err = openCSV(f, name, r.layout)
		case formatParquet:
			src, err = openParquet(f, name)
		}
		if err != nil {
			f.Close()
			return err
		}
		r.src = src
		r.conv = &converter{layout: r.layout, opts: r.opts, file: path}
		if lp := siblingLabels(path); lp != "" {
			lf, err := openLabels(lp)
			if err != nil {
				r.closeSrc()
				return err
			}
			r.conv.labels = lf
		}
		return nil
	}
	return io.EOF
}

func (r *Reader) closeSrc() {
	if r.src != nil {
		r.src.close()
		r.src = nil
	}
	if r.conv != nil && r.conv.labels != nil {
		r.conv.labels.close()
		r.conv.labels = nil
	}
}

// Next returns the next example, or io.EOF after the last. Under Fail a bad
// record returns a *RecordError; under Skip it is recorded and skipped.
// Errors about whole files (unreadable, not what the name says) always stop
// reading.
func (r *Reader) Next() (Example, error) {
	for {
		if r.err != nil {
			return Example{}, r.err
		}
		if r.count%256 == 0 {
			if err := r.ctx.Err(); err != nil {
				return Example{}, err
			}
		}
		if r.src == nil {
			if err := r.openNext(); err != nil {
				r.err = err
				return Example{}, err
			}
		}
		rec, err := r.src.next()
		if err == io.EOF {
			if lf := r.conv.labels; lf != nil {
				if ferr := lf.finish(r.conv.file, lf.line); ferr != nil {
					r.err = ferr
					r.closeSrc()
					return Example{}, ferr
				}
			}
			r.closeSrc()
			continue
		}
		var rerr *RecordError
		if err != nil {
			if !errors.As(err, &rerr) {
				r.err = err
				r.closeSrc()
				return Example{}, err
			}
			if r.conv.labels != nil {
				// Keep the labels aligned with the rows.
				r.conv.labels.next()
			}
		} else {
			if r.layout == "" {
				l, derr := detect(rec, r.opts)
				if derr != nil {
					r.err = fmt.Errorf("datasets: %s: %w", rec.loc, derr)
					return Example{}, r.err
				}
				r.layout = l
				r.conv.layout = l
			}
			var ex Example
			ex, rerr = r.conv.example(rec)
			if rerr == nil {
				rerr = r.checkID(&ex)
			}
			if rerr == nil {
				r.count++
				return ex, nil
			}
		}
		if r.opts.OnInvalid == Skip {
			r.skipped = append(r.skipped, rerr)
			continue
		}
		r.err = rerr
		return Example{}, rerr
	}
}

func (r *Reader) checkID(ex *Example) *RecordError {
	h := fnv.New64a()
	h.Write([]byte(ex.ID))
	k := h.Sum64()
	if first, dup := r.ids[k]; dup {
		return recordErr(ex.Source, "id", "duplicate id %q (first at %s)", ex.ID, first)
	}
	r.ids[k] = ex.Source
	return nil
}

// Close releases the open file.
func (r *Reader) Close() error {
	r.closeSrc()
	return nil
}
