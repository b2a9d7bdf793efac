package simulator

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of the server's counters, for tests and /metrics.
type Stats struct {
	Requests       int64         // HTTP requests received (all paths)
	ByStatus       map[int]int64 // replies by status code; a stream counts when its 200 header goes out
	Errors         int64         // replies with status >= 400, plus resets and cuts
	Resets         int64         // connections reset (fault)
	Cuts           int64         // replies cut mid-way (fault)
	Slow           int64         // replies delayed by Faults.SlowDelay
	InFlight       int64         // requests being handled now
	PeakInFlight   int64
	Generating     int64 // sequences holding a capacity slot now
	PeakGenerating int64
	Queued         int64 // requests waiting for a slot now
	PeakQueued     int64
	QueuedTotal    int64 // requests that ever waited for a slot
	PromptTokens   int64 // prompt tokens of generation requests that started
	OutputTokens   int64 // tokens generated (EOS excluded)
}

// counters are the live values behind Stats.
type counters struct {
	requests, errors, resets, cuts, slow          atomic.Int64
	inFlight, peakInFlight                        atomic.Int64
	gen, peakGen, queued, peakQueued, queuedTotal atomic.Int64
	promptTokens, outputTokens                    atomic.Int64

	mu       sync.Mutex
	byStatus map[int]int64
	byPath   map[pathStatus]int64
}

type pathStatus struct {
	path   string
	status string
}

func newCounters() *counters {
	return &counters{byStatus: map[int]int64{}, byPath: map[pathStatus]int64{}}
}

func peak(p *atomic.Int64, v int64) {
	for {
		old := p.Load()
		if v <= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

func (c *counters) enter() {
	c.requests.Add(1)
	peak(&c.peakInFlight, c.inFlight.Add(1))
}

func (c *counters) leave() { c.inFlight.Add(-1) }

func (c *counters) generating(n int64) { peak(&c.peakGen, c.gen.Add(n)) }

func (c *counters) queueEnter() {
	c.queuedTotal.Add(1)
	peak(&c.peakQueued, c.queued.Add(1))
}

func (c *counters) queueLeave() { c.queued.Add(-1) }

// reply records a reply's status under its path label; status 0 records a
// reset.
func (c *counters) reply(path string, status int) {
	label := "reset"
	if status != 0 {
		label = itoa3(status)
	}
	if status == 0 || status >= 400 {
		c.errors.Add(1)
	}
	c.mu.Lock()
	if status != 0 {
		c.byStatus[status]++
	}
	c.byPath[pathStatus{path, label}]++
	c.mu.Unlock()
}

func itoa3(s int) string {
	if s >= 100 && s <= 999 {
		return string([]byte{byte('0' + s/100), byte('0' + s/10%10), byte('0' + s%10)})
	}
	return "other"
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	bs := maps.Clone(c.byStatus)
	c.mu.Unlock()
	return Stats{
		Requests: c.requests.Load(), ByStatus: bs, Errors: c.errors.Load(),
		Resets: c.resets.Load(), Cuts: c.cuts.Load(), Slow: c.slow.Load(),
		InFlight: c.inFlight.Load(), PeakInFlight: c.peakInFlight.Load(),
		Generating: c.gen.Load(), PeakGenerating: c.peakGen.Load(),
		Queued: c.queued.Load(), PeakQueued: c.peakQueued.Load(), QueuedTotal: c.queuedTotal.Load(),
		PromptTokens: c.promptTokens.Load(), OutputTokens: c.outputTokens.Load(),
	}
}
