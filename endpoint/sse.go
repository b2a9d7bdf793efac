package endpoint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Event is one server-sent event.
type Event struct {
	// Name is the event: field, "" when the event had none.
	Name string
	// ID is the last id: field seen on the stream (it carries over, as the
	// SSE spec says).
	ID string
	// Data is the event's data: lines joined by "\n". It is valid only
	// until the next call to Next.
	Data []byte
	// Arrived is when the bytes ending the event were read from the body
	// (monotonic clock): events that came in one read share its time, so a
	// slow consumer does not spread them out as if the server had.
	Arrived time.Time
}

// SSEReader reads server-sent events (the WHATWG event-stream format): lines
// end in CRLF, LF or CR; ":" lines are comments; a field's value loses one
// leading space; data lines accumulate until a blank line dispatches the
// event. Lines may be of any length up to maxSSEEvent.
//
// It allocates nothing per event in the steady state, so a load generator
// can run thousands of streams a second through it.
//
// Where the spec and practice differ it follows practice: an event whose data
// lines are complete when the body ends is still dispatched (some servers
// omit the final blank line), while a body that ends in the middle of a line
// is an error wrapping io.ErrUnexpectedEOF.
type SSEReader struct {
	src     stampReader
	br      *bufio.Reader
	line    []byte // accumulates a line longer than the buffer
	data    []byte
	name    string
	id      string
	hasData bool
	skipLF  bool // the last line ended in CR; a following LF is part of it
	err     error
}

const (
	sseBufSize = 16 << 10
	// maxSSEEvent bounds one event's size: generous (responses with
	// logprobs can be large), but a broken server cannot exhaust memory.
	maxSSEEvent = 256 << 20
)

// stampReader notes when a read last brought bytes.
type stampReader struct {
	r  io.Reader
	at time.Time
}

func (s *stampReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.at = time.Now()
	}
	return n, err
}

// NewSSEReader returns a reader of the events in r.
func NewSSEReader(r io.Reader) *SSEReader {
	s := &SSEReader{src: stampReader{r: r}}
	s.br = bufio.NewReaderSize(&s.src, sseBufSize)
	return s
}

func (r *SSEReader) reset(rd io.Reader) {
	r.src = stampReader{r: rd}
	r.br.Reset(&r.src)
	r.line, r.data = r.line[:0], r.data[:0]
	r.name, r.id, r.hasData, r.skipLF, r.err = "", "", false, false, nil
}

// peek waits for the first byte of the body.
func (r *SSEReader) peek() error {
	_, err := r.br.Peek(1)
	return err
}

// Next returns the next event: io.EOF at the end of the body, or an error
// wrapping io.ErrUnexpectedEOF if the body ends in the middle of a line.
// Once it has returned an error it returns the same error.
func (r *SSEReader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	r.data = r.data[:0]
	r.hasData = false
	r.name = ""
	for {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			if err == io.EOF && r.hasData {
				return r.event(), nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if r.hasData {
				return r.event(), nil
			}
			r.name = "" // an event without data is not dispatched
			continue
		}
		r.field(line)
		if len(r.data) > maxSSEEvent {
			r.err = fmt.Errorf("sse: event larger than %d MiB", maxSSEEvent>>20)
			return Event{}, r.err
		}
	}
}

func (r *SSEReader) event() Event {
	return Event{Name: r.name, ID: r.id, Data: r.data, Arrived: r.src.at}
}

func (r *SSEReader) field(line []byte) {
	if line[0] == ':' {
		return
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if r.hasData {
			r.data = append(r.data, '\n')
		}
		r.data = append(r.data, value...)
		r.hasData = true
	case "event":
		r.name = internEventName(value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != r.id {
			r.id = string(value)
		}
	}
	// "retry" sets a reconnection delay; this reader never reconnects.
	// Other field names are ignored, as the spec requires.
}

// internEventName avoids an allocation for the names that recur.
func internEventName(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "message":
		return "message"
	case "token_sampled":
		return "token_sampled"
	case "complete":
		return "complete"
	case "error":
		return "error"
	}
	return string(b)
}

var errMidLine = fmt.Errorf("sse: body ended in the middle of a line: %w", io.ErrUnexpectedEOF)

// readLine returns the next line without its terminator. The slice may
// point into the bufio buffer: it is valid until the next read.
func (r *SSEReader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		if _, err := r.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				if len(r.line) > 0 {
					return nil, errMidLine
				}
				return nil, io.EOF
			}
			return nil, err
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		if r.skipLF {
			r.skipLF = false
			if buf[0] == '\n' {
				r.br.Discard(1)
				continue
			}
		}
		i := indexEOL(buf)
		if i < 0 {
			if len(r.line)+len(buf) > maxSSEEvent {
				return nil, fmt.Errorf("sse: line longer than %d MiB", maxSSEEvent>>20)
			}
			r.line = append(r.line, buf...)
			r.br.Discard(len(buf))
			continue
		}
		adv := i + 1
		if buf[i] == '\r' {
			switch {
			case i+1 == len(buf):
				r.skipLF = true // the LF of a CRLF may not have arrived yet
			case buf[i+1] == '\n':
				adv++
			}
		}
		line := buf[:i]
		if len(r.line) > 0 {
			r.line = append(r.line, line...)
			line = r.line
		}
		r.br.Discard(adv)
		return line, nil
	}
}

// indexEOL finds the first CR or LF.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	lim := i
	if i < 0 {
		lim = len(b)
	}
	if j := bytes.IndexByte(b[:lim], '\r'); j >= 0 {
		return j
	}
	return i
}
