package endpoint

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fastRetry retries quickly so tests of retry counts stay fast.
func fastRetry(attempts int) RetryPolicy {
	return RetryPolicy{MaxAttempts: attempts, Initial: time.Millisecond, Multiplier: 1, Max: 10 * time.Millisecond}
}

// newServer starts an httptest server and a client for it. mod adjusts the
// options before New.
func newServer(t testing.TB, h http.HandlerFunc, mod func(*Options)) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts := Options{BaseURL: srv.URL, Retry: fastRetry(3)}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// serveFile answers every request with a testdata file.
func serveFile(t testing.TB, name, contentType string) http.HandlerFunc {
	t.Helper()
	b := readFixture(t, name)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(b)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hits records when requests arrive, as the server sees them.
type hits struct {
	mu    sync.Mutex
	times []time.Time
	reqs  []*http.Request
	body  [][]byte
}

func (h *hits) add(r *http.Request, body []byte) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.times = append(h.times, time.Now())
	h.reqs = append(h.reqs, r)
	h.body = append(h.body, body)
	return len(h.times)
}

func (h *hits) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.times)
}

// hijackClose takes the connection from the server and resets it (SO_LINGER
// 0 makes Close send an RST), as a crashed proxy or server would.
func hijackClose(t testing.TB, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
