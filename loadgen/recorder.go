package loadgen

import (
	"math"
	"sync"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

// itlGap is k tokens that arrived in one chunk, gap after the previous
// token-carrying chunk: k ITL samples of gap/k each.
type itlGap struct {
	per time.Duration
	k   int64
}

// outcome is what one request did, measured by the goroutine that ran it.
type outcome struct {
	seq      int64
	phase    string
	measured bool

	intended, dispatched, sent time.Time // sent is zero if never sent
	queue                      time.Duration
	first, last, end           time.Time

	streamTokens int // tokens counted from the chunks
	firstTokens  int // tokens in the first token-carrying chunk
	chunks       int
	usage        endpoint.Usage
	hasUsage     bool
	finish       string
	knownInput   int // the prompt's length when known ahead

	err       error
	cancelled bool // stopped by the harness, not failed
	status    int  // HTTP status of the last attempt, 0 if none

	gaps      []itlGap
	winTokens int // streamed tokens that arrived inside the window
}

var gapPool = sync.Pool{New: func() any { s := make([]itlGap, 0, 256); return &s }}

// recorder accumulates a step's measurements and writes its request log.
// Requests report to it once, when they end, so the lock is taken once per
// request, not per chunk.
type recorder struct {
	mu  sync.Mutex
	st  *step
	slo SLO

	ttftSent, ttftInt, e2eSent, e2eInt, tpot, itl *dist
	lag, dlag, queue, inTok, outTok               *dist

	counts    results.LoadCounts
	errors    map[string]int64
	good      int64
	winOut    float64 // output tokens credited to the window
	winPrompt float64 // prompt tokens credited to the window

	sentN               int64
	firstSent, lastSent time.Time

	log  *results.LoadRequestWriter
	line results.LoadRequest
}

func newRecorder(st *step, slo SLO, log *results.LoadRequestWriter) *recorder {
	return &recorder{
		st: st, slo: slo, log: log,
		ttftSent: newMSDist(), ttftInt: newMSDist(), e2eSent: newMSDist(), e2eInt: newMSDist(),
		tpot: newMSDist(), itl: newMSDist(), lag: newMSDist(), dlag: newMSDist(), queue: newMSDist(),
		inTok: newCountDist(), outTok: newCountDist(),
		errors: map[string]int64{},
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msPtr(v *float64, d time.Duration) *float64 {
	*v = ms(d)
	return v
}

// add records one finished request.
func (r *recorder) add(o *outcome) {
	st := r.st
	ok := o.err == nil && !o.cancelled && o.streamTokens > 0 && !o.sent.IsZero()
	kind := ""
	switch {
	case o.cancelled:
	case o.err != nil:
		kind = errorKind(o.err)
	case o.streamTokens == 0:
		kind = "no_tokens"
	}
	out := o.streamTokens
	if o.hasUsage {
		out = o.usage.CompletionTokens
	}
	input := o.knownInput
	if o.hasUsage && o.usage.PromptTokens > 0 {
		input = o.usage.PromptTokens
	}

	// Per-request figures, computed outside the lock.
	var (
		ttftSent, ttftInt, e2eSent, e2eInt time.Duration
		tpot                               = time.Duration(-1)
		itlMean                            = time.Duration(-1)
	)
	if ok {
		ttftSent, ttftInt = o.first.Sub(o.sent), o.first.Sub(o.intended)
		e2eSent, e2eInt = o.last.Sub(o.sent), o.last.Sub(o.intended)
		if out > 1 {
			tpot = o.last.Sub(o.first) / time.Duration(out-1)
		}
		if n := o.streamTokens - o.firstTokens; n > 0 {
			itlMean = o.last.Sub(o.first) / time.Duration(n)
		}
	}
	good := ok && r.slo.good(ttftInt, e2eInt, tpot)

	w0, w1 := st.w0, st.windowEnd()
	inWin := func(t time.Time) bool {
		rel := t.Sub(st.t0)
		return rel >= w0 && rel < w1
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	sent := !o.sent.IsZero()
	if sent {
		r.counts.Sent++
		r.sentN++
		if r.firstSent.IsZero() || o.sent.Before(r.firstSent) {
			r.firstSent = o.sent
		}
		if o.sent.After(r.lastSent) {
			r.lastSent = o.sent
		}
	}
	switch o.phase {
	case results.PhaseWarmup:
		r.counts.Warmup++
	case results.PhaseMeasure:
		r.counts.Measured++
	case results.PhaseCooldown:
		r.counts.Cooldown++
	}
	// Throughput counts what successful requests did inside the window,
	// whoever started them (vLLM's and GuideLLM's convention: a failed or
	// cut request's tokens are not throughput). A completion is its last
	// token, not the end of the exchange: draining the body afterwards is
	// not the server's work.
	if ok {
		if o.winTokens > 0 {
			r.winOut += float64(out) * float64(o.winTokens) / float64(o.streamTokens)
		}
		if inWin(o.first) {
			r.winPrompt += float64(input)
		}
		if inWin(o.last) {
			r.counts.CompletedInWindow++
		}
	}
	if o.measured {
		switch {
		case o.cancelled:
			r.counts.Cancelled++
		case ok:
			r.counts.OK++
			r.ttftSent.add(ms(ttftSent), 1)
			r.ttftInt.add(ms(ttftInt), 1)
			r.e2eSent.add(ms(e2eSent), 1)
			r.e2eInt.add(ms(e2eInt), 1)
			if tpot >= 0 {
				r.tpot.add(ms(tpot), 1)
			}
			for _, g := range o.gaps {
				r.itl.add(ms(g.per), g.k)
			}
			r.inTok.add(float64(input), 1)
			r.outTok.add(float64(out), 1)
			if !o.hasUsage {
				r.counts.UsageMissing++
			} else if o.usage.CompletionTokens != o.streamTokens {
				r.counts.UsageMismatch++
			}
			if good {
				r.good++
			}
		default:
			r.counts.Errors++
			r.errors[kind]++
		}
		if sent {
			r.lag.add(ms(o.sent.Sub(o.intended)), 1)
		}
		if !o.dispatched.IsZero() {
			r.dlag.add(ms(o.dispatched.Sub(o.intended)), 1)
		}
		if st.sem != nil && !o.dispatched.IsZero() {
			r.queue.add(ms(o.queue), 1)
		}
	}
	if r.log == nil {
		return
	}
	q := &r.line
	*q = results.LoadRequest{
		Step: st.plan.index, Seq: o.seq, Phase: o.phase, HTTPStatus: o.status,
		IntendedMS: ms(o.intended.Sub(st.t0)), EndMS: ms(o.end.Sub(st.t0)),
		QueueMS: ms(o.queue), InputTokens: input, OutputTokens: out, StreamTokens: o.streamTokens,
		Usage: o.hasUsage, Chunks: o.chunks, FinishReason: o.finish,
	}
	var v [12]float64
	if sent {
		q.SentMS = msPtr(&v[0], o.sent.Sub(st.t0))
	}
	if !o.first.IsZero() {
		q.FirstTokenMS = msPtr(&v[1], o.first.Sub(st.t0))
		q.LastTokenMS = msPtr(&v[2], o.last.Sub(st.t0))
	}
	switch {
	case ok:
		q.Status = results.LoadOK
		q.TTFTMS = msPtr(&v[3], ttftSent)
		q.TTFTIntendedMS = msPtr(&v[4], ttftInt)
		q.E2EMS = msPtr(&v[5], e2eSent)
		q.E2EIntendedMS = msPtr(&v[6], e2eInt)
		if tpot >= 0 {
			q.TPOTMS = msPtr(&v[7], tpot)
		}
		if itlMean >= 0 {
			q.ITLMeanMS = msPtr(&v[8], itlMean)
		}
	case o.cancelled:
		q.Status = results.LoadCancelled
	default:
		q.Status = results.LoadError
		q.ErrorKind = kind
		if o.err != nil {
			q.Error = o.err.Error()
		} else {
			q.Error = "the stream ended without any token"
		}
	}
	if r.slo.Set() && !o.cancelled {
		q.Good = &good
	}
	// A failed log write is kept by the writer and reported at the end;
	// the measurement goes on.
	_ = r.log.Write(q)
}

// summary fills the step's figures. window is the measurement window's
// length (shorter than planned after an interrupt).
func (r *recorder) summary(s *results.LoadStep, window time.Duration, attainment float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Requests = r.counts
	if len(r.errors) > 0 {
		s.Errors = r.errors
	}
	sec := window.Seconds()
	rate := func(x float64) results.Float {
		if !(sec > 0) {
			return results.NaN()
		}
		return results.Float(x / sec)
	}
	t := &s.Throughput
	t.RequestsPerSec = rate(float64(r.counts.CompletedInWindow))
	t.OutputTokensPerSec = rate(r.winOut)
	t.TotalTokensPerSec = rate(r.winOut + r.winPrompt)
	t.OfferedPerSec = rate(float64(r.counts.Measured))
	t.SendRate = results.NaN()
	if span := r.lastSent.Sub(r.firstSent); r.sentN > 1 && span > 0 {
		t.SendRate = results.Float(float64(r.sentN-1) / span.Seconds())
	}
	t.Achieved = results.NaN()
	if t.RequestsPerSec.Valid() && t.OfferedPerSec > 0 {
		t.Achieved = t.RequestsPerSec / t.OfferedPerSec
	}
	s.ErrorRate = results.NaN()
	if n := r.counts.OK + r.counts.Errors; n > 0 {
		s.ErrorRate = results.Float(float64(r.counts.Errors) / float64(n))
	}
	if r.slo.Set() {
		g := &results.LoadGoodput{Good: r.good, GoodFraction: results.NaN(), RequestsPerSec: results.NaN()}
		if n := r.counts.OK + r.counts.Errors; n > 0 {
			g.GoodFraction = results.Float(float64(r.good) / float64(n))
			// Throughput counts completions inside the window, whoever
			// started them; which of them are good is judged on the
			// measured requests. Errors are already out of the throughput,
			// so the share applied is of the successes (good/OK): applying
			// GoodFraction would count each error twice.
			if r.counts.OK > 0 && t.RequestsPerSec.Valid() {
				g.RequestsPerSec = t.RequestsPerSec * results.Float(float64(r.good)/float64(r.counts.OK))
			}
			g.Met = float64(g.GoodFraction) >= attainment
		}
		s.Goodput = g
	}
	l := &s.Latency
	l.TTFT = results.Views{FromIntended: r.ttftInt.summary(), FromSent: r.ttftSent.summary()}
	l.E2E = results.Views{FromIntended: r.e2eInt.summary(), FromSent: r.e2eSent.summary()}
	l.TPOT = r.tpot.summary()
	l.ITL = r.itl.summary()
	l.ScheduleLag = r.lag.summary()
	l.DispatchLag = r.dlag.summary()
	l.ClientQueue = r.queue.summary()
	l.InputTokens = r.inTok.summary()
	l.OutputTokens = r.outTok.summary()
	h := map[string]string{}
	for k, d := range map[string]*dist{
		"ttft_from_sent": r.ttftSent, "ttft_from_intended": r.ttftInt,
		"e2e_from_sent": r.e2eSent, "e2e_from_intended": r.e2eInt,
		"tpot": r.tpot, "itl": r.itl,
	} {
		if enc := d.encode(); enc != "" {
			h[k] = enc
		}
	}
	if len(h) > 0 {
		s.Histograms = h
	}
}

// float guards against NaN reaching a figure.
func float(x float64) results.Float {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return results.NaN()
	}
	return results.Float(x)
}
