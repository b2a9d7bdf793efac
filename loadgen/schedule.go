package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Arrival is the shape of an open-loop schedule.
type Arrival string

const (
	// Constant spaces arrivals exactly 1/rate apart.
	Constant Arrival = "constant"
	// Poisson draws exponential gaps: a Poisson process.
	Poisson Arrival = "poisson"
	// Gamma draws gaps from Gamma(shape=B, scale=1/(rate·B)) for burstiness
	// B, vLLM's convention: the mean gap is 1/rate whatever B is; B=1 is
	// Poisson, B<1 burstier, B>1 smoother.
	Gamma Arrival = "gamma"
)

// Arrivals lists the valid Arrival values.
var Arrivals = []Arrival{Constant, Poisson, Gamma}

// Schedule generates the absolute send times of one step, as offsets from
// the step's start. It is seeded, so a step can be replayed exactly, and
// it generates lazily, so a long step needs no memory for its schedule.
//
// Offsets are absolute: constant arrivals are computed as i/rate (no
// summing error at all), random ones as a running sum of gaps in float64
// seconds. The dispatcher waits for each offset against the monotonic
// clock, so no error builds up as it would with relative sleeps, and a late
// dispatcher catches up instead of stretching the schedule.
type Schedule struct {
	arrival Arrival
	rate    float64
	i       int64
	t       float64 // seconds, for random gaps
	gap     func() float64
}

// NewSchedule returns the schedule of arrivals at rate per second.
// burstiness is used by Gamma only (0 means 1).
func NewSchedule(a Arrival, rate, burstiness float64, seed uint64) (*Schedule, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("loadgen: rate %v: want a positive number of requests per second", rate)
	}
	// Two seeded streams: the PCG's second word keeps schedules apart from
	// any other use of the same seed.
	src := rand.NewPCG(seed, 0x5ced01e)
	s := &Schedule{arrival: a, rate: rate}
	switch a {
	case Constant:
	case Poisson:
		e := distuv.Exponential{Rate: rate, Src: src}
		s.gap = e.Rand
	case Gamma:
		if burstiness == 0 {
			burstiness = 1
		}
		if !(burstiness > 0) || math.IsInf(burstiness, 0) {
			return nil, fmt.Errorf("loadgen: burstiness %v: want a positive number", burstiness)
		}
		// distuv's Beta is the rate parameter: 1/scale = rate·B.
		g := distuv.Gamma{Alpha: burstiness, Beta: rate * burstiness, Src: src}
		s.gap = g.Rand
	default:
		return nil, fmt.Errorf("loadgen: arrival %q: want constant, poisson or gamma", a)
	}
	return s, nil
}

// Next returns the offset of the next arrival. The first constant arrival
// is at 0; the first random one after one gap, as in a Poisson process
// observed from time 0.
func (s *Schedule) Next() time.Duration {
	i := s.i
	s.i++
	if s.gap == nil {
		return time.Duration(float64(i) / s.rate * float64(time.Second))
	}
	s.t += s.gap()
	return time.Duration(s.t * float64(time.Second))
}

// Count is the number of arrivals generated so far.
func (s *Schedule) Count() int64 { return s.i }
