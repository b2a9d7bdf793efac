package endpoint

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Base URLs. Paths are appended as {BaseURL}/v1/completions and so on; a
// Friendli Container is addressed by its own URL, e.g. http://127.0.0.1:8000.
const (
	DefaultBaseURL         = "https://api.friendli.ai/dedicated"
	ServerlessBaseURL      = "https://api.friendli.ai/serverless"
	ServerlessToolsBaseURL = "https://api.friendli.ai/serverless/tools"
)

const defaultTimeout = 10 * time.Minute

// Options configure a Client. Zero values take the defaults.
type Options struct {
	// BaseURL is "" for DefaultBaseURL. A trailing "/" or "/v1" is dropped,
	// so OpenAI-style base URLs work too.
	BaseURL string
	// Token is sent as "Authorization: Bearer". It is required unless the
	// host is loopback (a local container or simulator).
	Token string
	// Team is sent as X-Friendli-Team when non-empty.
	Team string
	// Concurrency is how many requests the caller keeps in flight; it sizes
	// the connection pool. 0 leaves the number of connections unbounded.
	Concurrency int
	// Timeout bounds each attempt, a whole stream included; default 10m.
	Timeout time.Duration
	// Retry is the retry policy; the zero value is DefaultRetryPolicy().
	Retry RetryPolicy
	// UserAgent is sent when non-empty.
	UserAgent string
	// HTTPClient replaces the tuned client (tests). Its Timeout should be 0:
	// Timeout above applies per attempt.
	HTTPClient *http.Client
}

// Client talks to one base URL. It is safe for concurrent use.
type Client struct {
	base string
	urls [numPaths]string
	// reqs are each path's request, headers and all, built once: an
	// attempt copies one (WithContext) and gives it its body, instead of
	// parsing the URL and filling a header map every time. The copies
	// share URL and Header, which net/http only reads.
	reqs    [numPaths][2]*http.Request // [path][stream]
	timeout time.Duration
	retry   RetryPolicy
	hc      *http.Client
	rt      http.RoundTripper // hc's own transport, called directly; nil for a caller's HTTPClient
	scrub   scrubber

	// Header values, built once and shared read-only by every request.
	hAuth, hTeam, hUA []string

	// gate, if set, is waited on before every attempt (WithGate).
	gate Gate

	// pools are shared by the copies WithGate makes.
	pools *pools
}

type pools struct {
	bufs sync.Pool // *bytes.Buffer for reply bodies
	sses sync.Pool // *SSEReader for streams
	scan sync.Pool // *scanner for stream events, with its buffers
	fast sync.Pool // *fastDecoder
}

// Gate is waited on before every attempt a client makes, retries included,
// so that a rate limit paces retries too. *rate.Limiter (x/time/rate) is
// one. An error from Wait ends the call: that attempt is not sent.
type Gate interface {
	Wait(ctx context.Context) error
}

// WithGate returns a client that waits on g before every attempt. It shares
// c's connections, pools and settings.
func (c *Client) WithGate(g Gate) *Client {
	d := *c
	d.gate = g
	return &d
}

type apiPath int

const (
	pathCompletions apiPath = iota
	pathChat
	pathTokenize
	pathDetokenize
	numPaths
)

var pathNames = [numPaths]string{"/v1/completions", "/v1/chat/completions", "/v1/tokenize", "/v1/detokenize"}

func (p apiPath) String() string { return pathNames[p] }

var (
	hJSON      = []string{"application/json"}
	hSSE       = []string{"text/event-stream"}
	hIdentity  = []string{"identity"}
	hNoCache   = []string{"no-cache"}
	hdrAuth    = http.CanonicalHeaderKey("Authorization")
	hdrTeam    = http.CanonicalHeaderKey("X-Friendli-Team")
	hdrUA      = http.CanonicalHeaderKey("User-Agent")
	hdrCT      = http.CanonicalHeaderKey("Content-Type")
	hdrAccept  = http.CanonicalHeaderKey("Accept")
	hdrAccEnc  = http.CanonicalHeaderKey("Accept-Encoding")
	hdrNoCache = http.CanonicalHeaderKey("Cache-Control")
)

// New checks opts and returns a client.
func New(opts Options) (*Client, error) {
	base, u, err := normalizeBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, timeout: opts.Timeout, pools: &pools{}}
	for p := range numPaths {
		c.urls[p] = base + p.String()
	}
	if opts.Token != "" {
		if err := checkToken(opts.Token); err != nil {
			return nil, fmt.Errorf("endpoint: %w", err)
		}
		c.hAuth = []string{"Bearer " + opts.Token}
		c.scrub = newScrubber(opts.Token)
	} else if IsFriendliCloud(u.Hostname()) {
		return nil, fmt.Errorf("endpoint: %s needs an API token: set FRIENDLI_TOKEN or pass --token-file", base)
	}
	if team := strings.TrimSpace(opts.Team); team != "" {
		if strings.ContainsFunc(team, func(r rune) bool { return unicode.IsControl(r) || r > unicode.MaxASCII }) {
			return nil, fmt.Errorf("endpoint: team %q holds control or non-ASCII characters", team)
		}
		c.hTeam = []string{team}
	}
	if opts.UserAgent != "" {
		c.hUA = []string{opts.UserAgent}
	}
	for p := range numPaths {
		for s, stream := range []bool{false, true} {
			r, err := http.NewRequest(http.MethodPost, c.urls[p], nil)
			if err != nil {
				return nil, fmt.Errorf("endpoint: base URL %q: %v", redactURL(base), err)
			}
			c.setHeaders(r.Header, stream)
			c.reqs[p][s] = r
		}
	}
	switch {
	case c.timeout == 0:
		c.timeout = defaultTimeout
	case c.timeout < 0:
		return nil, fmt.Errorf("endpoint: timeout %v is negative", c.timeout)
	}
	if c.retry, err = opts.Retry.withDefaults(); err != nil {
		return nil, err
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("endpoint: concurrency %d is negative", opts.Concurrency)
	}
	c.hc = opts.HTTPClient
	if c.hc == nil {
		// Exchanges go straight to the transport: http.Client would only
		// copy the headers for redirects, which are not followed anyway.
		c.rt = newH1Transport(newTransport(opts.Concurrency))
		c.hc = &http.Client{Transport: c.rt, CheckRedirect: noRedirects}
	}
	return c, nil
}

// BaseURL returns the normalised base URL.
func (c *Client) BaseURL() string { return c.base }

// normalizeBaseURL accepts an http(s) URL and drops a trailing "/" and
// "/v1". Credentials in the URL are refused: they would end up in logs.
func normalizeBaseURL(raw string) (string, *url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(s)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return "", nil, fmt.Errorf("endpoint: base URL is not a URL: %v", err)
	}
	if u.User != nil {
		return "", nil, fmt.Errorf("endpoint: base URL %s holds credentials; pass the token with FRIENDLI_TOKEN or --token-file", u.Redacted())
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", nil, fmt.Errorf("endpoint: base URL %q: want an http:// or https:// URL", redactURL(s))
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", nil, fmt.Errorf("endpoint: base URL %q has no host", redactURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", nil, fmt.Errorf("endpoint: base URL %q: a query or fragment cannot be a base (pass the token with FRIENDLI_TOKEN or --token-file)", redactURL(s))
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/v1")
	u.Path = strings.TrimRight(p, "/")
	u.RawPath = ""
	return u.String(), u, nil
}

// IsFriendliCloud reports whether host is FriendliAI's own API, which needs
// a token. Containers and other servers may run without auth (a Friendli
// Container has no security scheme), so elsewhere a token is optional.
func IsFriendliCloud(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "friendli.ai" || strings.HasSuffix(host, ".friendli.ai")
}

// BaseURLHost returns the host of a base URL as New would read it, or ""
// if it is not one.
func BaseURLHost(raw string) string {
	_, u, err := normalizeBaseURL(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// redactURL shows a URL without what may be secret: its query, fragment
// and user info.
func redactURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "?…"
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.IndexByte(s[i+3:], '@'); j >= 0 && !strings.ContainsAny(s[i+3:i+3+j], "/") {
			s = s[:i+3] + "…@" + s[i+3+j+1:]
		}
	}
	return s
}

// newTransport is tuned for many concurrent requests to one host. With
// concurrency n it keeps n idle connections (plus headroom) so a steady load
// never re-dials, and bounds connections at 2n+8: enough that a caller within
// its concurrency never waits for a connection (which would inflate measured
// latency), while a leak cannot open sockets without bound.
func newTransport(concurrency int) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	idle := 100
	maxConns := 0
	if concurrency > 0 {
		idle = concurrency + concurrency/4 + 4
		maxConns = 2*concurrency + 8
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		MaxConnsPerHost:       maxConns,
		// Replies with logprobs run to tens of KiB; bigger buffers mean
		// fewer read calls per reply.
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 16 << 10,
	}
}

// noRedirects hands a redirect back as the reply: following it would turn a
// POST into a GET and drop the body, so the user should fix the base URL.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// setHeaders uses pre-built value slices: header maps are per request but
// their values can be shared, saving allocations on every call.
func (c *Client) setHeaders(h http.Header, stream bool) {
	h[hdrCT] = hJSON
	if stream {
		h[hdrAccept] = hSSE
		// Compressed streams arrive in compressor-sized bursts, which
		// would distort time-to-first-token and inter-token latency.
		h[hdrAccEnc] = hIdentity
		h[hdrNoCache] = hNoCache
	} else {
		h[hdrAccept] = hJSON
	}
	if c.hAuth != nil {
		h[hdrAuth] = c.hAuth
	}
	if c.hTeam != nil {
		h[hdrTeam] = c.hTeam
	}
	if c.hUA != nil {
		h[hdrUA] = c.hUA
	}
}

const maxPooledBuf = 1 << 20

func (c *Client) getDecoder() *fastDecoder {
	if d, ok := c.pools.fast.Get().(*fastDecoder); ok {
		return d
	}
	return new(fastDecoder)
}

func (c *Client) putDecoder(d *fastDecoder) { c.pools.fast.Put(d) }

func (c *Client) getBuf() *bytes.Buffer {
	if b, ok := c.pools.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBuf recycles b unless it grew large: one huge reply must not pin its
// memory for the life of the client.
func (c *Client) putBuf(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBuf {
		return
	}
	b.Reset()
	c.pools.bufs.Put(b)
}
