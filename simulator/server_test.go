package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"
)

// replyID writes by hand what fmt.Sprintf("%s%016x%016x") wrote.
func TestReplyIDFormat(t *testing.T) {
	for _, seed := range []int64{0, 1, -7, 1 << 40} {
		cfg := fastConfig()
		cfg.Seed = seed
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"cmpl-", "chatcmpl-", ""} {
			for n := uint64(0); n < 2000; n++ {
				a, b := mix(s.seed^saltID^n), mix(s.seed^saltID^n^0xFFFF)
				if got, want := s.replyID(prefix, n), fmt.Sprintf("%s%016x%016x", prefix, a, b); got != want {
					t.Fatalf("replyID(%q, %d) = %q, want %q", prefix, n, got, want)
				}
			}
		}
	}
}

// readBody reads what io.ReadAll read, whatever length the request
// declares, and refuses a body over maxBody with a 413.
func TestReadBody(t *testing.T) {
	pattern := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i>>8)
		}
		return b
	}
	for _, n := range []int{0, 1, 511, 512, 513, 2328, 100_000, 1<<20 + 5} {
		body := pattern(n)
		for _, declared := range []int64{int64(n), -1, 1, int64(n) / 2, 1 << 20} {
			r := httptest.NewRequest(http.MethodPost, "/v1/completions", iotest.HalfReader(bytes.NewReader(body)))
			r.ContentLength = declared
			got, e := readBody(httptest.NewRecorder(), r)
			if e != nil || !bytes.Equal(got, body) {
				t.Fatalf("%d bytes declared as %d: %d bytes read, equal %v, error %v", n, declared, len(got), bytes.Equal(got, body), e)
			}
		}
	}
	for _, declared := range []int64{maxBody + 1, -1} {
		r := httptest.NewRequest(http.MethodPost, "/v1/completions", io.LimitReader(zeros{}, maxBody+1))
		r.ContentLength = declared
		_, e := readBody(httptest.NewRecorder(), r)
		if e == nil || e.status != http.StatusRequestEntityTooLarge || e.msg != fmt.Sprintf("request body exceeds %d bytes", maxBody) {
			t.Fatalf("body over the limit, declared %d: %v", declared, e)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/completions", iotest.ErrReader(errors.New("boom")))
	if _, e := readBody(httptest.NewRecorder(), r); e == nil || e.status != http.StatusBadRequest || e.msg != "reading request body: boom" {
		t.Fatalf("failing body: %v", e)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
