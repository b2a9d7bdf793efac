package runner

import (
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/evalbench/evalbench/results"
)

// progress shows done/total, rate, ETA, running accuracy and errors: a bar
// on a terminal, a line every LogEvery otherwise, nothing under --quiet.
type progress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	total  int
	done   int
	ok     int
	acc    int
	failed int
	start  time.Time
	opts   Options
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newProgress(opts Options, total int) *progress {
	p := &progress{total: total, start: opts.Now(), opts: opts, stop: make(chan struct{})}
	if opts.Quiet {
		return p
	}
	if opts.Terminal {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(opts.Log),
			progressbar.OptionSetDescription("scoring"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("samples"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(opts.LogEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.logLine()
			}
		}
	}()
	return p
}

func (p *progress) add(s *results.Sample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if s.Status == results.StatusOK {
		p.ok++
		if s.Acc {
			p.acc++
		}
	} else {
		p.failed++
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("acc %.3f  errors %d", p.accuracy(), p.failed))
		_ = p.bar.Add(1)
	}
}

func (p *progress) accuracy() float64 {
	if p.ok == 0 {
		return 0
	}
	return float64(p.acc) / float64(p.ok)
}

func (p *progress) logLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := p.opts.Now().Sub(p.start)
	rate := float64(p.done) / max(el.Seconds(), 1e-9)
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.opts.Log, "progress: %d/%d samples  %.1f/s  eta %s  acc %.3f  errors %d\n",
		p.done, p.total, rate, eta, p.accuracy(), p.failed)
}

func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
