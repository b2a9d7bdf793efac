package endpoint

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// connCounter counts the connections a test server accepts.
type connCounter struct{ n atomic.Int64 }

// countedServer starts a test server that counts its connections.
func countedServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *connCounter) {
	t.Helper()
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cc.n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

func newTestTransport(maxConns int) *h1Transport {
	std := newTransport(0)
	std.MaxConnsPerHost = maxConns
	return newH1Transport(std)
}

// get sends a GET through t and returns the body, read to its end.
func get(t *testing.T, tr http.RoundTripper, ctx context.Context, u string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// postEcho POSTs body through tr to a server that echoes it, and checks
// the echo.
func postEcho(t *testing.T, tr http.RoundTripper, u, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("POST %q: %v", body, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != body {
		t.Fatalf("POST %q: echo %q", body, b)
	}
}

func TestH1TransportReuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		conns   int64
	}{
		{"content length", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, 1},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hel")
			w.(http.Flusher).Flush()
			io.WriteString(w, "lo")
		}, 1},
		{"interim 103 first", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "hello")
		}, 1},
		// The server asks to close: every request has a connection of its own.
		{"connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "hello")
		}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, cc := countedServer(t, c.handler)
			tr := newTestTransport(0)
			defer tr.CloseIdleConnections()
			for range 3 {
				body, err := get(t, tr, context.Background(), srv.URL)
				if err != nil || body != "hello" {
					t.Fatalf("body %q, error %v", body, err)
				}
			}
			if got := cc.n.Load(); got != c.conns {
				t.Errorf("%d connections, want %d", got, c.conns)
			}
		})
	}
}

// A body closed before its end takes its connection with it: what is left
// of the reply must not be read as the next one.
func TestH1TransportUnreadBodyClosesConn(t *testing.T) {
	srv, cc := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100<<10))
	})
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Read(make([]byte, 10))
		resp.Body.Close()
	}
	if got := cc.n.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// rawServer accepts connections on loopback and hands each to serve, in
// a goroutine of its own: a server that does what net/http's never would.
func rawServer(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				serve(nc)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// oneShotServer answers one request per connection and then closes it
// without saying so, as a server whose keep-alive timeout passed does.
func oneShotServer(t *testing.T, conns *atomic.Int64) string {
	return rawServer(t, func(nc net.Conn) {
		conns.Add(1)
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		fmt.Fprintf(nc, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
	})
}

// A pooled connection the server has closed (its keep-alive ran out) is
// found out before it is used: the request goes on a new one, and the
// caller never sees the stale connection.
func TestH1TransportSkipsStaleConn(t *testing.T) {
	var conns atomic.Int64
	u := oneShotServer(t, &conns)
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()
	for i := range 3 {
		postEcho(t, tr, u, fmt.Sprintf("request %d", i))
		time.Sleep(10 * time.Millisecond) // the server closes the connection
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

// A request that was sent and got no reply is not sent again: the server
// may have acted on it, and the caller retries it as an attempt it can
// see (and count), or reports it.
func TestH1TransportNoReplayAfterSend(t *testing.T) {
	var reqs atomic.Int64
	u := rawServer(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if reqs.Add(1) > 1 {
				return // the second request on a connection: no reply
			}
			io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()
	if body, err := get(t, tr, context.Background(), u); err != nil || body != "ok" {
		t.Fatalf("first request: %q, %v", body, err)
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("again?"))
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("no error for a request without a reply")
	}
	if n := reqs.Load(); n != 2 {
		t.Errorf("the server read %d requests, want 2 (no replay)", n)
	}
}

// A done context interrupts a stream blocked on the server, promptly, and
// its connection is not pooled.
func TestH1TransportCancelMidBody(t *testing.T) {
	release := make(chan struct{})
	srv, cc := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			io.WriteString(w, "first")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "ok")
	})
	defer close(release)
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err = resp.Body.Read(buf)
	if err == nil {
		t.Fatal("read after cancel: no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	resp.Body.Close()
	if body, err := get(t, tr, context.Background(), srv.URL); err != nil || body != "ok" {
		t.Fatalf("next request: %q, %v", body, err)
	}
	if got := cc.n.Load(); got != 2 {
		t.Errorf("%d connections, want 2 (the interrupted one is not reused)", got)
	}
}

// A context already done stops the request before it is sent.
func TestH1TransportDoneContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the request reached the server")
	}))
	defer srv.Close()
	tr := newTestTransport(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := get(t, tr, ctx, srv.URL); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestH1TransportHeaderTooLarge(t *testing.T) {
	u := rawServer(t, func(nc net.Conn) {
		http.ReadRequest(bufio.NewReader(nc))
		io.WriteString(nc, "HTTP/1.1 200 OK\r\n")
		line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2000 {
			if _, err := io.WriteString(nc, line); err != nil {
				return
			}
		}
	})
	tr := newTestTransport(0)
	_, err := get(t, tr, context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "header is larger than") {
		t.Fatalf("error %v", err)
	}
}

// With every connection slot taken, a request waits for one to free up,
// and goes when it does.
func TestH1TransportMaxConns(t *testing.T) {
	var inside atomic.Int64
	var peak atomic.Int64
	srv, cc := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		inside.Add(-1)
		io.WriteString(w, "ok")
	})
	tr := newTestTransport(2)
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if body, err := get(t, tr, context.Background(), srv.URL); err != nil || body != "ok" {
				t.Errorf("body %q, error %v", body, err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests at once, want at most 2", p)
	}
	if n := cc.n.Load(); n > 2 {
		t.Errorf("%d connections, want at most 2", n)
	}
}

// https and proxied requests are the standard Transport's.
func TestH1TransportHandsOver(t *testing.T) {
	t.Run("https", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Proto)
		}))
		defer srv.Close()
		std := newTransport(0)
		std.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		tr := newH1Transport(std)
		if body, err := get(t, tr, context.Background(), srv.URL); err != nil || body != "HTTP/1.1" {
			t.Fatalf("body %q, error %v", body, err)
		}
	})
	t.Run("proxy", func(t *testing.T) {
		var proxied atomic.Bool
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxied.Store(r.URL.IsAbs())
			io.WriteString(w, "via proxy")
		}))
		defer proxy.Close()
		pu, _ := url.Parse(proxy.URL)
		std := newTransport(0)
		std.Proxy = http.ProxyURL(pu)
		tr := newH1Transport(std)
		if body, err := get(t, tr, context.Background(), "http://upstream.invalid/x"); err != nil || body != "via proxy" || !proxied.Load() {
			t.Fatalf("body %q, error %v, proxied %v", body, err, proxied.Load())
		}
	})
}

// The client's default transport is this one.
func TestClientUsesH1Transport(t *testing.T) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.rt.(*h1Transport); !ok || c.hc.Transport != c.rt {
		t.Fatalf("transport %T, client's %T", c.rt, c.hc.Transport)
	}
}

// failingConn fails its writes once told to, as a connection the server
// closed in the instant after alive looked at it.
type failingConn struct {
	net.Conn
	fail *atomic.Bool
}

func (c failingConn) Write(p []byte) (int, error) {
	if c.fail.Load() {
		return 0, syscall.EPIPE
	}
	return c.Conn.Write(p)
}

// A request that could not be written on a pooled connection goes again
// on a new one, body and all.
func TestH1TransportReplaysUnwritten(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()
	var fail atomic.Bool
	var dials atomic.Int64
	dial := tr.dial
	tr.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if dials.Add(1) == 1 {
			return failingConn{nc, &fail}, nil // the first connection fails later
		}
		return nc, nil
	}
	for _, body := range []string{"one", "two"} {
		postEcho(t, tr, srv.URL, body)
		fail.Store(true)
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// A reply without a body (204) leaves its connection reusable even if the
// caller closes it unread.
func TestH1TransportNoBodyReuses(t *testing.T) {
	srv, cc := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	tr := newTestTransport(0)
	defer tr.CloseIdleConnections()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := cc.n.Load(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}
