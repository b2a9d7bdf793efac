package simulator

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	fault429
	fault500
	fault503
	faultReset
)

// fault is the seeded fate of one request. The n-th request subject to
// faults draws from hash(seed, n), so over N requests the observed rates
// match the configured ones however the requests interleave.
type fault struct {
	kind faultKind
	cut  bool
	slow bool
	key  uint64 // further draws (where to cut)
}

func (s *Server) decideFault(o op) fault {
	fc := s.cfg.Faults
	if fc == (Faults{RetryAfter: fc.RetryAfter, SlowDelay: fc.SlowDelay}) {
		return fault{}
	}
	n := s.faultSeq.Add(1)
	f := fault{key: mix(s.seed ^ saltCutAt ^ n)}
	u := unit(mix(s.seed ^ saltFault ^ n))
	switch {
	case u < fc.Rate429:
		f.kind = fault429
	case u < fc.Rate429+fc.Rate500:
		f.kind = fault500
	case u < fc.Rate429+fc.Rate500+fc.Rate503:
		f.kind = fault503
	case u < fc.Rate429+fc.Rate500+fc.Rate503+fc.RateReset:
		f.kind = faultReset
	}
	if o == opCompletions || o == opChat || o == opToolsChat {
		f.cut = unit(mix(s.seed^saltCut^n)) < fc.RateCut
		f.slow = unit(mix(s.seed^saltSlow^n)) < fc.RateSlow
	}
	return f
}

// early answers the faults that strike before the request is read, and
// reports whether it did.
func (f fault) early(s *Server, w http.ResponseWriter, path string) bool {
	switch f.kind {
	case fault429:
		if ra := s.cfg.Faults.RetryAfter; ra > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(ra.Seconds())), 10))
			w.Header().Set("retry-after-ms", strconv.FormatInt(int64(math.Ceil(float64(ra)/float64(time.Millisecond))), 10))
		}
		s.fail(w, path, errorf(http.StatusTooManyRequests, "rate limit exceeded (simulated fault)"))
	case fault500:
		s.fail(w, path, errorf(http.StatusInternalServerError, "internal server error (simulated fault)"))
	case fault503:
		s.fail(w, path, errorf(http.StatusServiceUnavailable, "service unavailable (simulated fault)"))
	case faultReset:
		s.reset(w, path)
	default:
		return false
	}
	return true
}

// reset drops the connection with a TCP RST (linger 0) before any byte of
// the response. A ResponseWriter that cannot be hijacked (a recorder) gets
// a 502 naming the fault instead.
func (s *Server) reset(w http.ResponseWriter, path string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.fail(w, path, errorf(http.StatusBadGateway, "connection reset (simulated fault; this ResponseWriter cannot be hijacked)"))
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
	s.stats.resets.Add(1)
	s.stats.reply(path, 0)
}

// cut closes the connection mid-reply, after what was written so far has
// been flushed, so the client sees a truncated body (unexpected EOF).
func (s *Server) cut(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.Flush()
	s.stats.cuts.Add(1)
	s.stats.errors.Add(1)
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
	}
}

// cutAfter is how many stream chunks go out before a cut: at least one, at
// most about the expected number.
func (f fault) cutAfter(expectedChunks int) int {
	return 1 + int(f.key%uint64(max(1, expectedChunks-1)))
}
