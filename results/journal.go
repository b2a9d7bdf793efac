package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// SyncInterval bounds how long a finished sample may sit in the page cache
// before it is fsynced. A crash loses at most this much work.
const SyncInterval = time.Second

// Journal appends samples to samples.jsonl as they finish.
//
// Each Append writes one line and flushes it to the OS at once, so another
// process (or a crash) sees whole lines; a background loop fsyncs dirty data
// at least every SyncInterval. Append is safe for concurrent use.
type Journal struct {
	mu     sync.Mutex
	f      journalFile
	w      *bufio.Writer
	dirty  bool
	err    error // sticky: once a write failed, every later Append fails
	tick   <-chan time.Time
	stop   chan struct{}
	done   chan struct{}
	closed bool
	// lines holds encoding buffers for Append, which runs on many
	// goroutines at once and encodes outside the lock; a line is copied
	// into the bufio buffer before its buffer goes back.
	lines sync.Pool
}

// journalFile is what the journal needs of its file: an *os.File, or in
// tests a file whose Syncs are counted, since an fsync cannot be seen from
// the file's contents.
type journalFile interface {
	io.Writer
	Sync() error
	Close() error
}

// OpenJournal opens path for appending, creating it if needed. The caller
// must first have read it with ReadJournal, whose ValidSize says where the
// whole lines end; anything after that (a torn last line) is cut off so that
// new lines never glue onto garbage.
func OpenJournal(path string, validSize int64) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if err := f.Truncate(validSize); err != nil {
		f.Close()
		return nil, fmt.Errorf("results: %s: truncate torn tail: %w", path, err)
	}
	if _, err := f.Seek(validSize, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("results: %w", err)
	}
	// Ticking at half the interval bounds a line's wait for its fsync by
	// SyncInterval.
	t := time.NewTicker(SyncInterval / 2)
	return newJournal(f, t.C, t.Stop), nil
}

// newJournal appends to f and fsyncs dirty data on every tick; stopTick is
// called when the journal closes.
func newJournal(f journalFile, tick <-chan time.Time, stopTick func()) *Journal {
	j := &Journal{
		f:    f,
		w:    bufio.NewWriterSize(f, 64<<10),
		tick: tick,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go j.syncLoop(stopTick)
	return j
}

func (j *Journal) syncLoop(stopTick func()) {
	defer close(j.done)
	defer stopTick()
	for {
		select {
		case <-j.stop:
			return
		case <-j.tick:
			// The fsync runs outside the lock: it can take milliseconds,
			// and every sample finishing meanwhile would wait on it. It
			// covers whatever was written before it began; lines written
			// while it runs are dirty for the next tick.
			j.mu.Lock()
			dirty := j.dirty && j.err == nil
			j.dirty = false
			j.mu.Unlock()
			if !dirty {
				continue
			}
			if err := j.f.Sync(); err != nil {
				j.mu.Lock()
				if j.err == nil {
					j.err = fmt.Errorf("results: fsync journal: %w", err)
				}
				j.mu.Unlock()
			}
		}
	}
}

// maxPooledLine keeps one huge sample (a long error text) from pinning its
// buffer in the pool for the rest of the run.
const maxPooledLine = 64 << 10

// Append writes one sample as a line.
func (j *Journal) Append(s *Sample) error {
	bp, _ := j.lines.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer func() {
		if cap(*bp) <= maxPooledLine {
			j.lines.Put(bp)
		}
	}()
	b, ok := s.appendJSON((*bp)[:0])
	if !ok {
		// Only json.Marshal knows its own error; and should it encode what
		// appendJSON refused, its bytes are the reference anyway.
		var err error
		if b, err = json.Marshal(s); err != nil {
			return fmt.Errorf("results: encode sample %s: %w", s.ID, err)
		}
	}
	b = append(b, '\n')
	*bp = b[:0]
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errors.New("results: journal is closed")
	}
	if j.err != nil {
		return j.err
	}
	if _, err := j.w.Write(b); err != nil {
		j.err = fmt.Errorf("results: write journal: %w", err)
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("results: write journal: %w", err)
		return j.err
	}
	j.dirty = true
	return nil
}

// Close flushes, fsyncs and closes the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done

	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.err
	if ferr := j.w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("results: write journal: %w", ferr)
	}
	if serr := j.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("results: fsync journal: %w", serr)
	}
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("results: %w", cerr)
	}
	return err
}

// JournalInfo describes what ReadJournal found.
type JournalInfo struct {
	Samples int
	// ValidSize is the byte length of the whole, parsed lines; OpenJournal
	// truncates to it.
	ValidSize int64
	// Torn is set when the file ended in a partial or unparsable last line,
	// as a crash mid-write leaves it. That sample is simply redone.
	Torn bool
}

// ReadJournal streams every sample of the journal at path to fn, in file
// order. A missing file is an empty journal. A torn last line is skipped and
// reported in JournalInfo; a bad line anywhere else is an error naming the
// line, because it means the file was damaged, not interrupted.
func ReadJournal(ctx context.Context, path string, fn func(*Sample) error) (JournalInfo, error) {
	var info JournalInfo
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("results: %w", err)
	}
	defer f.Close()

	r := bufio.NewReaderSize(f, 256<<10)
	var offset int64
	for line := 1; ; line++ {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return info, err
			}
		}
		// ReadBytes has no line-length limit, unlike bufio.Scanner.
		b, rerr := r.ReadBytes('\n')
		if len(b) == 0 && rerr == io.EOF {
			break
		}
		if rerr != nil && rerr != io.EOF {
			return info, fmt.Errorf("results: %s:%d: %w", path, line, rerr)
		}
		complete := rerr == nil
		trimmed := bytes.TrimSpace(b)
		var s Sample
		var perr error
		if len(trimmed) == 0 {
			perr = errors.New("empty line")
		} else if err := json.Unmarshal(trimmed, &s); err != nil {
			perr = err
		} else if err := s.Validate(); err != nil {
			perr = err
		}
		if perr != nil {
			if !complete || atEOF(r) {
				info.Torn = true
				break
			}
			return info, fmt.Errorf("results: %s:%d: %v", path, line, perr)
		}
		if !complete {
			// A whole JSON object without its newline is still a torn write:
			// the writer always ends lines, so keep it out and redo it.
			info.Torn = true
			break
		}
		offset += int64(len(b))
		info.ValidSize = offset
		info.Samples++
		if err := fn(&s); err != nil {
			return info, err
		}
	}
	return info, nil
}

func atEOF(r *bufio.Reader) bool {
	_, err := r.Peek(1)
	return err == io.EOF
}
