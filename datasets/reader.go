package datasets

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"os"
)

// Reader streams the examples of one or more files.
type Reader struct {
	ctx    context.Context
	opts   Options
	files  []string
	fi     int // index of the next file to open
	src    source
	conv   *converter
	layout Layout
	// The open file: its name, the rows read from it so far (bad ones
	// included), and its PIQA-style labels file, opened once the layout
	// is known to want it.
	name       string
	fileRows   int
	labelsPath string
	labels     *labelFile

	// ids catches duplicate IDs in about 14 bytes a row: 64-bit hashes
	// and row ordinals, never the strings. A hash match is confirmed by
	// reading the earlier row's ID back from its file (fetch), so a hash
	// collision can never be reported as a duplicate.
	ids        idSet
	seed       maphash.Seed
	hashID     func(string) uint64 // replaced in tests to force collisions
	fileStarts []uint64            // ordinal of each opened file's first row
	fileLayout []Layout            // the layout each file was opened with
	ordinal    uint64              // ordinal of the next row
	fetch      *rowFetcher

	skipped []*RecordError
	err     error // sticky fatal error
	count   int   // examples returned
	steps   int   // records looked at, for the cancellation check
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
	r := &Reader{ctx: ctx, opts: opts, files: files, layout: opts.Layout, seed: maphash.MakeSeed()}
	r.hashID = func(id string) uint64 { return maphash.String(r.seed, id) }
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
// forced).
func (r *Reader) Layout() Layout { return r.layout }

// Skipped returns the records skipped under the Skip policy.
func (r *Reader) Skipped() []*RecordError { return r.skipped }

// openSource opens one data file as a source of raw records.
func openSource(path string, layout Layout, opts Options) (source, error) {
	name := displayName(path)
	fm, _ := formatOf(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if err := sniff(f, name, fm); err != nil {
		f.Close()
		return nil, err
	}
	var src source
	switch fm {
	case formatJSONL:
		src, err = openJSONL(f, name, false)
	case formatJSONLGz:
		src, err = openJSONL(f, name, true)
	case formatJSON:
		src, err = openJSONArray(f, name, opts.maxJSON())
	case formatCSV:
		src, err = openCSV(f, name, layout)
	case formatParquet:
		src, err = openParquet(f, name)
	default:
		err = fileError(name, "unsupported file type")
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// openNext opens the next file.
func (r *Reader) openNext() error {
	if r.fi >= len(r.files) {
		return io.EOF
	}
	path := r.files[r.fi]
	src, err := openSource(path, r.layout, r.opts)
	if err != nil {
		return err
	}
	r.fi++
	r.src = src
	r.name = displayName(path)
	r.fileRows = 0
	r.fileStarts = append(r.fileStarts, r.ordinal)
	r.fileLayout = append(r.fileLayout, r.layout)
	r.conv = &converter{layout: r.layout, opts: r.opts, file: path}
	// Only PIQA keeps its labels beside the data; a file of another
	// layout that happens to sit beside a *-labels.lst ignores it.
	r.labelsPath = siblingLabels(path)
	return nil
}

// labelsFor attaches the sibling labels file to rec when the layout wants
// one. Labels are taken by row number, whatever happened to earlier rows.
func (r *Reader) labelsFor(rec *raw) error {
	if r.layout != LayoutPIQA || r.labelsPath == "" {
		return nil
	}
	if r.labels == nil {
		lf, err := openLabels(r.labelsPath)
		if err != nil {
			return err
		}
		r.labels = lf
	}
	rec.hasLabel = true
	rec.labelFrom = r.labels.name
	rec.label, rec.labelErr = r.labels.at(rec.loc.Row)
	return nil
}

// endFile checks what can only be checked once a file is done, and closes it.
func (r *Reader) endFile() error {
	defer r.closeSrc()
	if r.fileRows == 0 {
		why := "no records"
		if e, ok := r.src.(interface{ emptyReason() string }); ok {
			if s := e.emptyReason(); s != "" {
				why += " (" + s + ")"
			}
		}
		return fileError(r.name, "%s", why)
	}
	if r.layout == LayoutPIQA && r.labelsPath != "" {
		if r.labels == nil {
			lf, err := openLabels(r.labelsPath)
			if err != nil {
				return err
			}
			r.labels = lf
		}
		return r.labels.finish(r.name, r.fileRows)
	}
	return nil
}

func (r *Reader) closeSrc() {
	if r.src != nil {
		r.src.close()
		r.src = nil
	}
	if r.labels != nil {
		r.labels.close()
		r.labels = nil
	}
}

// Next returns the next example, or io.EOF after the last. Under Fail a bad
// record returns a *RecordError; under Skip it is recorded and skipped.
// Errors about whole files (unreadable, not what the name says, no records)
// always stop reading.
func (r *Reader) Next() (Example, error) {
	for {
		if r.err != nil {
			return Example{}, r.err
		}
		r.steps++
		if r.steps%256 == 1 {
			if err := r.ctx.Err(); err != nil {
				r.err = err
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
			if err := r.endFile(); err != nil {
				r.err = err
				return Example{}, err
			}
			continue
		}
		var rerr *RecordError
		if err != nil && !errors.As(err, &rerr) {
			r.err = err
			r.closeSrc()
			return Example{}, err
		}
		ord := r.ordinal
		r.ordinal++
		r.fileRows++
		if rerr == nil {
			if r.layout == "" {
				l, derr := detect(rec, r.opts)
				if derr != nil {
					r.err = fmt.Errorf("datasets: %s: %w", rec.loc, derr)
					return Example{}, r.err
				}
				r.layout = l
				r.conv.layout = l
			}
			if err := r.labelsFor(rec); err != nil {
				r.err = err
				return Example{}, err
			}
			var ex Example
			ex, rerr = r.conv.example(rec)
			if rerr == nil {
				if rerr, err = r.checkID(&ex, ord); err != nil {
					r.err = err
					return Example{}, err
				}
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

// checkID records ex's ID, or reports it as a duplicate once the earlier
// row's ID has been read back and found equal.
func (r *Reader) checkID(ex *Example, ord uint64) (*RecordError, error) {
	if ord > math.MaxUint32 {
		return nil, fileError(r.name, "more than %d rows: too many to check the IDs for duplicates", uint64(math.MaxUint32))
	}
	var dup *RecordError
	var ferr error
	r.ids.insert(r.hashID(ex.ID), uint32(ord), func(first uint32) bool {
		if ferr != nil {
			return false
		}
		id, loc, err := r.idAt(uint64(first))
		if err != nil {
			ferr = err
			return false
		}
		if id != ex.ID {
			return false // a hash collision, not a duplicate
		}
		dup = recordErr(ex.Source, "id", "duplicate id %q (first at %s)", ex.ID, loc)
		return true
	})
	return dup, ferr
}

// idAt reads back the ID and place of the row with ordinal ord.
func (r *Reader) idAt(ord uint64) (string, Location, error) {
	fi := len(r.fileStarts) - 1
	for fi > 0 && r.fileStarts[fi] > ord {
		fi--
	}
	if r.fetch == nil {
		r.fetch = &rowFetcher{fi: -1}
	}
	return r.fetch.id(r, fi, int(ord-r.fileStarts[fi]))
}

// Close releases the open files.
func (r *Reader) Close() error {
	r.closeSrc()
	if r.fetch != nil {
		r.fetch.close()
	}
	return nil
}

// rowFetcher reads rows back from a file, moving forward through it and
// reopening it only to go back, so duplicates that come in file order (a
// file listed twice, a file concatenated to itself) cost one extra pass.
type rowFetcher struct {
	fi   int
	src  source
	conv *converter
	next int // row the source yields next
}

func (f *rowFetcher) id(r *Reader, fi, row int) (string, Location, error) {
	if f.src == nil || f.fi != fi || row < f.next {
		f.close()
		// Open it as the reader first did, so the rows are the same rows.
		src, err := openSource(r.files[fi], r.fileLayout[fi], r.opts)
		if err != nil {
			return "", Location{}, err
		}
		f.src, f.fi, f.next = src, fi, 0
		f.conv = &converter{layout: r.layout, opts: r.opts, file: r.files[fi]}
	}
	name := displayName(r.files[fi])
	for {
		rec, err := f.src.next()
		var rerr *RecordError
		if err == io.EOF || (err != nil && !errors.As(err, &rerr)) {
			f.close()
			return "", Location{}, fileError(name, "row %d cannot be read again to check a duplicate id (did the file change?): %v", row, err)
		}
		f.next++
		if f.next-1 < row {
			continue
		}
		if rerr != nil {
			return "", Location{}, fileError(name, "row %d cannot be read again to check a duplicate id (did the file change?): %v", row, rerr)
		}
		id, rerr := f.conv.id(rec)
		if rerr != nil {
			return "", Location{}, rerr
		}
		return id, rec.loc, nil
	}
}

func (f *rowFetcher) close() {
	if f.src != nil {
		f.src.close()
		f.src = nil
	}
}

// idSet is a hash set of 64-bit ID hashes, each with the ordinal of the row
// it came from: 12 bytes a slot, kept between 72% and 90% full, so 13 to 17
// bytes a row (a Go map of the same takes 20 to 40, and a map keyed by the
// strings several times that). It is split by the hash's top bits into
// shards that grow one at a time, so growing never holds two copies of the
// whole table: that spike would also double the garbage collector's heap
// goal, and with it the process's peak memory.
type idSet struct {
	shards [idShards]idShard
}

const (
	idShardBits = 6
	idShards    = 1 << idShardBits
)

// insert adds h with ordinal ord, unless a slot with the same hash is
// confirmed, by same(its ordinal), to hold the same ID. It reports whether
// h was added.
func (s *idSet) insert(h uint64, ord uint32, same func(first uint32) bool) bool {
	return s.shards[h>>(64-idShardBits)].insert(h, ord, same)
}

// bytes is the memory the set holds.
func (s *idSet) bytes() int {
	n := 0
	for i := range s.shards {
		n += len(s.shards[i].hashes)*8 + len(s.shards[i].ords)*4
	}
	return n
}

// idShard is an open-addressing table with linear probing.
type idShard struct {
	hashes []uint64 // 0 marks an empty slot
	ords   []uint32
	n      int
}

const idSetMaxLoad = 0.9

func (s *idShard) insert(h uint64, ord uint32, same func(first uint32) bool) bool {
	if h == 0 {
		h = 1
	}
	if float64(s.n+1) > idSetMaxLoad*float64(len(s.hashes)) {
		s.grow()
	}
	capa := uint64(len(s.hashes))
	i := home(h, capa)
	for {
		switch s.hashes[i] {
		case 0:
			s.hashes[i], s.ords[i] = h, ord
			s.n++
			return true
		case h:
			if same(s.ords[i]) {
				return false
			}
		}
		if i++; i == capa {
			i = 0
		}
	}
}

// home maps a hash onto [0, n) by multiplying (the shard bits shifted out),
// which works for any n, so a shard can grow by a quarter instead of
// doubling.
func home(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h<<idShardBits, n)
	return hi
}

func (s *idShard) grow() {
	n := len(s.hashes) + len(s.hashes)/4
	if n < 64 {
		n = 64
	}
	old, oldOrds := s.hashes, s.ords
	s.hashes, s.ords = make([]uint64, n), make([]uint32, n)
	for j, h := range old {
		if h == 0 {
			continue
		}
		i := home(h, uint64(n))
		for s.hashes[i] != 0 {
			if i++; i == uint64(n) {
				i = 0
			}
		}
		s.hashes[i], s.ords[i] = h, oldOrds[j]
	}
}
