package runner

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/scorers"
)

// Limiter applies the run's concurrency cap and request rate to every call a
// scorer makes, tokenize calls included.
//
// It watches two contexts. stop is the run's: once it is cancelled, no new
// request starts. The context passed to each call governs the request
// itself, so requests already in flight can be given a grace period to
// finish after an interrupt.
type Limiter struct {
	api  scorers.API
	sem  *semaphore.Weighted
	rate *rate.Limiter // nil: no rate limit
	stop context.Context
}

// NewLimiter caps api at concurrency requests in flight and, if perSecond >
// 0, at perSecond requests per second (a token bucket with a burst of one,
// so requests are spread evenly rather than sent in clumps). When api can
// wait on a gate before each attempt (an *endpoint.Client), the rate is
// applied there, so retries are paced too and count against it; otherwise
// once per call.
func NewLimiter(stop context.Context, api scorers.API, concurrency int, perSecond float64) *Limiter {
	l := &Limiter{api: api, sem: semaphore.NewWeighted(int64(max(concurrency, 1))), stop: stop}
	if perSecond > 0 {
		r := rate.NewLimiter(rate.Limit(perSecond), 1)
		if g, ok := api.(gated); ok {
			l.api = g.WithGate(stopGate{rate: r, stop: stop})
		} else {
			l.rate = r
		}
	}
	return l
}

// gated is an API that waits on a gate before every attempt.
type gated interface {
	WithGate(endpoint.Gate) *endpoint.Client
}

// stopGate waits for the rate, and sends nothing once the run is stopping,
// retries included.
type stopGate struct {
	rate *rate.Limiter
	stop context.Context
}

func (g stopGate) Wait(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(g.stop, cancel)()
	if err := g.rate.Wait(ctx); err != nil {
		if g.stop.Err() != nil {
			return fmt.Errorf("runner: not sent: %w", g.stop.Err())
		}
		return fmt.Errorf("runner: not sent: %w", err)
	}
	return nil
}

func (l *Limiter) acquire() error {
	if err := l.stop.Err(); err != nil {
		return fmt.Errorf("runner: not sent: %w", err)
	}
	if err := l.sem.Acquire(l.stop, 1); err != nil {
		return fmt.Errorf("runner: not sent: %w", err)
	}
	if l.rate != nil {
		if err := l.rate.Wait(l.stop); err != nil {
			l.sem.Release(1)
			return fmt.Errorf("runner: not sent: %w", err)
		}
	}
	return nil
}

// Completions implements scorers.API.
func (l *Limiter) Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	if err := l.acquire(); err != nil {
		return nil, endpoint.Call{}, err
	}
	defer l.sem.Release(1)
	return l.api.Completions(ctx, req)
}

// Tokenize implements scorers.API.
func (l *Limiter) Tokenize(ctx context.Context, model, prompt string) ([]int, endpoint.Call, error) {
	if err := l.acquire(); err != nil {
		return nil, endpoint.Call{}, err
	}
	defer l.sem.Release(1)
	return l.api.Tokenize(ctx, model, prompt)
}
