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
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// h1Transport makes each HTTP/1.1 exchange with a plain-http endpoint in
// the caller's goroutine, on connections it pools itself. net/http's
// Transport hands every request to a writing goroutine and every reply back
// from a reading one; at hundreds of streamed requests a second those
// hand-offs and their wake-ups are about a tenth of a load generator's CPU
// (bench/vegeta.sh measures it). The wire format is still net/http's:
// requests are written by Request.Write and replies parsed by ReadResponse,
// chunked bodies and trailers included; only the connections are ours.
//
// Everything else goes to the standard Transport: https (which may
// negotiate HTTP/2) and requests a proxy from the environment applies to.
type h1Transport struct {
	std     *http.Transport
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int // idle connections kept per host

	mu   sync.Mutex
	idle map[string][]*h1Conn

	proxyByHost sync.Map // host → whether std.Proxy applies (http only)

	// slots bounds the open connections (nil: no bound), as the standard
	// Transport's MaxConnsPerHost does, so a leak cannot open sockets
	// without end. With every slot taken, callers wait in waiters (by
	// host) for a connection put back, or for a slot freed.
	slots   chan struct{}
	waiters map[string][]chan *h1Conn
}

const (
	// h1IdleTimeout is how long an idle connection is kept, as the
	// standard Transport's IdleConnTimeout.
	h1IdleTimeout = 90 * time.Second
	// maxReplyHeader bounds a reply's status line and headers (net/http's
	// default is 10 MB): a broken server cannot exhaust memory with them.
	maxReplyHeader = 1 << 20
	h1ReadBuffer   = 32 << 10
	h1WriteBuffer  = 16 << 10
)

// newH1Transport takes its dialer and limits from std, which it hands
// what it does not serve itself.
func newH1Transport(std *http.Transport) *h1Transport {
	t := &h1Transport{std: std, dial: std.DialContext, maxIdle: std.MaxIdleConnsPerHost,
		idle: map[string][]*h1Conn{}, waiters: map[string][]chan *h1Conn{}}
	if t.dial == nil {
		t.dial = (&net.Dialer{}).DialContext
	}
	if t.maxIdle <= 0 {
		t.maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	if std.MaxConnsPerHost > 0 {
		t.slots = make(chan struct{}, std.MaxConnsPerHost)
	}
	return t
}

// h1Conn is one pooled connection.
type h1Conn struct {
	addr   string // the pool's key
	nc     net.Conn
	in     replyReader
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool      // it served an exchange before this one
	idled  time.Time // when it went back to the pool
	closed atomic.Bool
}

// close closes the connection and frees its slot, once.
func (t *h1Transport) close(c *h1Conn) {
	if !c.closed.Swap(true) {
		c.nc.Close()
		if t.slots != nil {
			<-t.slots
		}
	}
}

// replyReader counts what a connection has read in the current exchange,
// and bounds it while the reply's header is read (budget > 0).
type replyReader struct {
	nc     net.Conn
	read   int64
	budget int64 // 0: unbounded
}

var errReplyHeaderTooLarge = fmt.Errorf("the reply's header is larger than %d KiB", maxReplyHeader>>10)

func (r *replyReader) Read(p []byte) (int, error) {
	if r.budget > 0 {
		left := r.budget - r.read
		if left <= 0 {
			return 0, errReplyHeaderTooLarge
		}
		p = p[:min(int64(len(p)), left)]
	}
	n, err := r.nc.Read(p)
	r.read += int64(n)
	return n, err
}

func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return t.handOver(req)
	}
	if t.proxied(req) {
		return t.handOver(req)
	}
	ctx := req.Context()
	addr := hostPort(req)
	for replayed := false; ; replayed = true {
		c, err := t.get(ctx, addr)
		if err != nil {
			closeRequestBody(req)
			return nil, err
		}
		resp, replayable, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		t.close(c)
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("%w (%v)", cerr, err)
		}
		// A pooled connection that the server closed as it was taken
		// (after alive looked) refuses the request: it goes again on a
		// new connection, once, as net/http does. A request that was
		// sent and got no reply is the caller's to retry or report.
		if !c.reused || replayed || !replayable {
			return nil, err
		}
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

// proxied says the standard Transport's Proxy applies to req. The answer
// is kept by host: ProxyFromEnvironment reads the environment once and
// decides by the URL's scheme and host alone, and asking it costs more
// than a small request's own writing.
func (t *h1Transport) proxied(req *http.Request) bool {
	if t.std.Proxy == nil {
		return false
	}
	if p, ok := t.proxyByHost.Load(req.URL.Host); ok {
		return p.(bool)
	}
	u, err := t.std.Proxy(req)
	p := err != nil || u != nil
	t.proxyByHost.Store(req.URL.Host, p)
	return p
}

// handOver sends req through the standard Transport, naming plain HTTP
// behind an https URL as http.Client would.
func (t *h1Transport) handOver(req *http.Request) (*http.Response, error) {
	resp, err := t.std.RoundTrip(req)
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/" {
		err = fmt.Errorf("%w (%w)", http.ErrSchemeMismatch, err)
	}
	return resp, err
}

// exchange writes req on c and reads the reply's header. replayable says
// the request could not be written, so the server cannot have acted on it.
func (t *h1Transport) exchange(ctx context.Context, c *h1Conn, req *http.Request) (*http.Response, bool, error) {
	// A done context interrupts a blocked write or read: the connection
	// is then closed, never pooled.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	c.in.read, c.in.budget = 0, maxReplyHeader
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		stop()
		return nil, c.in.read == 0 && idleClosed(err), err
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			stop()
			return nil, false, err
		}
		// 1xx replies are interim (a 103's hints): the answer follows.
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.in.budget = 0
	b := &h1Body{rc: resp.Body, t: t, c: c, stop: stop,
		keep: !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	if resp.Body == http.NoBody {
		b.eof.Store(true) // a 204, a 304, a HEAD: there is nothing to read
	}
	resp.Body = b
	return resp, false, nil
}

// idleClosed says err is how a connection the server closed shows itself.
func idleClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// rewound is req with a fresh copy of its body, to send again.
func rewound(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("the connection closed before a reply, and the request body cannot be sent again")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// hostPort is the address to dial for req.
func hostPort(req *http.Request) string {
	port := req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
}

// get returns an idle connection to addr, the one idle the shortest time
// (the likeliest still open), or dials one.
func (t *h1Transport) get(ctx context.Context, addr string) (*h1Conn, error) {
	if c := t.popIdle(addr); c != nil {
		return c, nil
	}
	c, err := t.acquire(ctx, addr)
	if c != nil || err != nil {
		return c, err
	}
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		if t.slots != nil {
			<-t.slots
		}
		return nil, err
	}
	c = &h1Conn{addr: addr, nc: nc, in: replyReader{nc: nc}}
	c.br = bufio.NewReaderSize(&c.in, h1ReadBuffer)
	c.bw = bufio.NewWriterSize(nc, h1WriteBuffer)
	return c, nil
}

func (t *h1Transport) popIdle(addr string) *h1Conn {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for list := t.idle[addr]; len(list) > 0; list = t.idle[addr] {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[addr] = list[:len(list)-1]
		if now.Sub(c.idled) < h1IdleTimeout && alive(c.nc) {
			c.reused = true
			return c
		}
		t.close(c)
	}
	return nil
}

// acquire takes a slot for a new connection (and returns nil, nil), or
// returns a connection put back while it waited for one. With every slot
// taken, an idle connection to another host is closed to free one; with
// none, it waits.
func (t *h1Transport) acquire(ctx context.Context, addr string) (*h1Conn, error) {
	if t.slots == nil {
		return nil, nil
	}
	for {
		select {
		case t.slots <- struct{}{}:
			return nil, nil
		default:
		}
		if !t.evictIdle() {
			break
		}
	}
	ch := make(chan *h1Conn, 1)
	t.mu.Lock()
	t.waiters[addr] = append(t.waiters[addr], ch)
	t.mu.Unlock()
	var err error
	select {
	case c := <-ch:
		c.reused = true
		return c, nil
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		err = ctx.Err()
	}
	// No longer waiting: a connection handed over meanwhile goes back.
	t.mu.Lock()
	list := t.waiters[addr]
	for i, w := range list {
		if w == ch {
			t.waiters[addr] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	select {
	case c := <-ch:
		t.put(c)
	default:
	}
	return nil, err
}

// evictIdle closes one idle connection, if there is one.
func (t *h1Transport) evictIdle() bool {
	t.mu.Lock()
	for addr, list := range t.idle {
		if len(list) > 0 {
			c := list[0]
			t.idle[addr] = list[1:]
			t.mu.Unlock()
			t.close(c)
			return true
		}
	}
	t.mu.Unlock()
	return false
}

// put hands c to a caller waiting for a connection to its host, or
// returns it to the pool, or closes it if the pool is full.
func (t *h1Transport) put(c *h1Conn) {
	c.idled = time.Now()
	t.mu.Lock()
	if ws := t.waiters[c.addr]; len(ws) > 0 {
		// Sent under the lock, so a waiter that gives up (and looks in
		// its channel under the lock) cannot miss it; the channel is
		// buffered and no waiter is handed more than one.
		t.waiters[c.addr] = ws[1:]
		ws[0] <- c
		t.mu.Unlock()
		return
	}
	if list := t.idle[c.addr]; len(list) < t.maxIdle {
		t.idle[c.addr] = append(list, c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	t.close(c)
}

// CloseIdleConnections closes the pooled connections, and the standard
// Transport's.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*h1Conn{}
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			t.close(c)
		}
	}
	t.std.CloseIdleConnections()
}

// h1Body is a reply's body. Its connection goes back to the pool when the
// body was read to its end and closed, unless the reply said to close it
// or the context interrupted the exchange; otherwise it is closed.
type h1Body struct {
	rc     io.ReadCloser
	t      *h1Transport
	c      *h1Conn
	stop   func() bool
	keep   bool
	eof    atomic.Bool
	closed atomic.Bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *h1Body) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	interrupted := !b.stop()
	if b.keep && b.eof.Load() && !interrupted {
		b.rc.Close()
		b.t.put(b.c)
		return nil
	}
	// Closing net/http's body before its end would read the rest of it;
	// with the connection closed first, it returns at once.
	b.t.close(b.c)
	b.rc.Close()
	return nil
}
