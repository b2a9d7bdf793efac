package endpoint

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy is exponential backoff with proportional jitter. The defaults
// mirror the official SDK's (500 ms, x1.5, capped at 60 s).
//
// The wait after attempt n (1-based) is Initial*Multiplier^(n-1), capped at
// Max, then scaled by a factor drawn uniformly from [1-Jitter, 1+Jitter] and
// capped at Max again. Proportional rather than full jitter keeps the
// expected wait equal to the schedule, which keeps retry-heavy runs
// predictable, while still spreading clients that failed together.
//
// A Retry-After or retry-after-ms header on the failed reply replaces the
// computed wait (no jitter: the server asked for that time), capped at
// MaxServerWait rather than Max: retrying before the server said it would
// take us back only spends an attempt on another 429.
type RetryPolicy struct {
	// MaxAttempts counts attempts including the first; 1 = no retry.
	MaxAttempts int
	Initial     time.Duration
	Multiplier  float64
	// Max caps every computed wait.
	Max time.Duration
	// MaxServerWait caps a wait the server asked for (default 10m).
	MaxServerWait time.Duration
	// Jitter is the fraction by which a computed wait may vary, in [0, 1].
	Jitter float64
	// MaxElapsed, if > 0, stops retrying once the next wait would take the
	// call (attempts and waits) past it.
	MaxElapsed time.Duration
}

// DefaultRetryPolicy returns 8 attempts, 500 ms growing by 1.5 up to 60 s
// per wait, 25% jitter, server-requested waits up to 10 minutes, no
// overall budget.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:   8,
		Initial:       500 * time.Millisecond,
		Multiplier:    1.5,
		Max:           60 * time.Second,
		MaxServerWait: 10 * time.Minute,
		Jitter:        0.25,
	}
}

// withDefaults fills unset fields. The zero value is the default policy,
// Jitter included; a policy with any field set keeps its Jitter as given.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	d := DefaultRetryPolicy()
	if p == (RetryPolicy{}) {
		return d, nil
	}
	if p.MaxAttempts < 0 || p.Initial < 0 || p.Max < 0 || p.MaxServerWait < 0 || p.MaxElapsed < 0 || p.Multiplier < 0 {
		return p, fmt.Errorf("endpoint: retry policy: negative value in %+v", p)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Initial == 0 {
		p.Initial = d.Initial
	}
	if p.Multiplier == 0 {
		p.Multiplier = d.Multiplier
	}
	if p.Max == 0 {
		p.Max = d.Max
	}
	if p.MaxServerWait == 0 {
		p.MaxServerWait = max(d.MaxServerWait, p.Max)
	}
	if p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0) {
		return p, fmt.Errorf("endpoint: retry policy: multiplier %v, want >= 1", p.Multiplier)
	}
	if !(p.Jitter >= 0 && p.Jitter <= 1) {
		return p, fmt.Errorf("endpoint: retry policy: jitter %v, want a fraction in [0, 1]", p.Jitter)
	}
	return p, nil
}

// backoff returns the wait after failed attempt n (1-based).
func (p RetryPolicy) backoff(n int, serverWait time.Duration) time.Duration {
	if serverWait > 0 {
		return min(serverWait, p.MaxServerWait)
	}
	w := float64(p.Initial) * math.Pow(p.Multiplier, float64(n-1))
	w = min(w, float64(p.Max))
	if p.Jitter > 0 {
		w *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	return min(time.Duration(w), p.Max)
}

// permanentConnError says a connection failure will not heal by waiting,
// so retrying it only delays the error: the host name does not exist, its
// certificate is not trusted, or it does not speak TLS on an https URL.
func permanentConnError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	var (
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &hostname) ||
		errors.As(err, &unknown) || errors.As(err, &invalid) ||
		// net/http turns the RecordHeaderError of an HTTP reply into this
		// plain error, with no type to match.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// retryableStatus lists the statuses the official SDK retries.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter reads retry-after-ms (preferred: finer) or Retry-After (seconds
// or an HTTP date). 0 means none given, or a time already past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e9 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// Attempt is one HTTP exchange of a Call.
type Attempt struct {
	Start time.Time
	// Latency runs from sending the request to reading the whole reply, or
	// to its headers for a stream.
	Latency time.Duration
	// Status is the reply's HTTP status; 0 when no complete reply arrived
	// (connection error, timeout, body cut).
	Status int
	// Err is a short reason for a failed attempt, "" on success. It never
	// holds the token.
	Err string
	// Wait is the backoff slept after this attempt (0 for the last; cut
	// short if the context ended during it).
	Wait time.Duration
}

// Call records every attempt one request took.
type Call struct {
	Start, End time.Time
	Attempts   []Attempt
}

// Latency is the last attempt's latency: the one whose reply was used.
func (c Call) Latency() time.Duration {
	if len(c.Attempts) == 0 {
		return 0
	}
	return c.Attempts[len(c.Attempts)-1].Latency
}

// Elapsed is the whole call, backoff included.
func (c Call) Elapsed() time.Duration {
	if c.End.IsZero() {
		return 0
	}
	return c.End.Sub(c.Start)
}

// Retries is the number of attempts after the first.
func (c Call) Retries() int { return max(len(c.Attempts)-1, 0) }
