package endpoint

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type sseWant struct {
	name, id, data string
}

// readAllEvents drains r, copying each event's data (valid only until the
// next call).
func readAllEvents(r *SSEReader) ([]sseWant, []Event, error) {
	var got []sseWant
	var evs []Event
	for {
		ev, err := r.Next()
		if err != nil {
			return got, evs, err
		}
		got = append(got, sseWant{ev.Name, ev.ID, string(ev.Data)})
		evs = append(evs, ev)
	}
}

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // well past any buffer, and bufio.Scanner's 64 KiB
	tests := []struct {
		name    string
		in      string
		want    []sseWant
		wantErr error // io.EOF unless set
	}{
		{name: "data with space", in: "data: {\"a\":1}\n\n", want: []sseWant{{data: `{"a":1}`}}},
		{name: "data without space", in: "data:{\"a\":1}\n\n", want: []sseWant{{data: `{"a":1}`}}},
		{name: "only one space stripped", in: "data:  two\n\n", want: []sseWant{{data: " two"}}},
		{name: "comments", in: ": ping\n:\ndata: x\n: mid\n\n: tail\n", want: []sseWant{{data: "x"}}},
		{name: "CRLF", in: "data: a\r\n\r\ndata: b\r\n\r\n", want: []sseWant{{data: "a"}, {data: "b"}}},
		{name: "lone CR", in: "data: a\r\rdata: b\r\r", want: []sseWant{{data: "a"}, {data: "b"}}},
		{name: "mixed endings", in: "data: a\r\n\ndata: b\n\r\n", want: []sseWant{{data: "a"}, {data: "b"}}},
		{name: "event id retry fields", in: "event: token_sampled\nid: 7\nretry: 3000\ndata: {}\n\ndata: next\n\n",
			want: []sseWant{{name: "token_sampled", id: "7", data: "{}"}, {id: "7", data: "next"}}},
		{name: "multi-line data", in: "data: {\"a\":\ndata: 1}\n\n", want: []sseWant{{data: "{\"a\":\n1}"}}},
		{name: "empty data line dispatches", in: "data:\n\n", want: []sseWant{{data: ""}}},
		{name: "event without data is dropped", in: "event: ping\n\ndata: x\n\n", want: []sseWant{{data: "x"}}},
		{name: "field without colon", in: "data\n\n", want: []sseWant{{data: ""}}},
		{name: "unknown fields ignored", in: "foo: bar\ndata: x\n\n", want: []sseWant{{data: "x"}}},
		{name: "done", in: "data: {}\n\ndata: [DONE]\n\n", want: []sseWant{{data: "{}"}, {data: "[DONE]"}}},
		{name: "no final blank line", in: "data: a\n\ndata: [DONE]\n", want: []sseWant{{data: "a"}, {data: "[DONE]"}}},
		{name: "cut mid-line", in: "data: a\n\ndata: {\"cho", want: []sseWant{{data: "a"}}, wantErr: io.ErrUnexpectedEOF},
		{name: "long line", in: "data: " + long + "\n\n", want: []sseWant{{data: long}}},
		{name: "long line CRLF", in: "data: " + long + "\r\ndata: y\r\n\r\n", want: []sseWant{{data: long + "\ny"}}},
		{name: "empty body", in: "", want: nil},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			if rname == "one byte" && len(tt.in) > 1<<20 {
				continue // correct but slow
			}
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, _, err := readAllEvents(NewSSEReader(wrap(strings.NewReader(tt.in))))
				want := tt.wantErr
				if want == nil {
					want = io.EOF
				}
				if !errors.Is(err, want) {
					t.Errorf("error %v, want %v", err, want)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%d events, want %d: %.200q", len(got), len(tt.want), got)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("event %d = %.200q, want %.200q", i, got[i], tt.want[i])
					}
				}
				// The error sticks.
				r := NewSSEReader(wrap(strings.NewReader(tt.in)))
				readAllEvents(r)
				if _, err2 := r.Next(); !errors.Is(err2, want) {
					t.Errorf("after the end Next returned %v", err2)
				}
			})
		}
	}
}

// A CR that ends one read and the LF that starts the next are one line end.
func TestSSEReaderSplitCRLF(t *testing.T) {
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\r"), strings.NewReader("\n\r"), strings.NewReader("\ndata: b\r\n\r\n")))
	got, _, err := readAllEvents(r)
	if err != io.EOF || len(got) != 2 || got[0].data != "a" || got[1].data != "b" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// Arrived is taken per event, in order.
func TestSSEReaderArrivedMonotone(t *testing.T) {
	in := strings.Repeat("data: x\n\n", 1000)
	_, evs, _ := readAllEvents(NewSSEReader(iotest.HalfReader(strings.NewReader(in))))
	if len(evs) != 1000 {
		t.Fatalf("%d events", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Arrived.Before(evs[i-1].Arrived) {
			t.Fatalf("event %d arrived before event %d", i, i-1)
		}
	}
}

// A reader error other than EOF is passed on.
func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)))
	got, _, err := readAllEvents(r)
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestSSEReaderAllocs(t *testing.T) {
	in := []byte(strings.Repeat("data: {\"choices\":[{\"index\":0,\"text\":\" the\",\"token\":279}]}\n\n", 64))
	br := bytes.NewReader(in)
	r := NewSSEReader(br)
	allocs := testing.AllocsPerRun(50, func() {
		br.Reset(in)
		r.reset(br)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per 64-event stream, want 0", allocs)
	}
}
