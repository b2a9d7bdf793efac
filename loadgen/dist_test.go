package loadgen

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// A dist records into its histogram a batch at a time; whatever the
// batching, what it reports is what recording each value at once gives:
// the same percentiles, the same encoded histogram, exact moments.
func TestDistMatchesDirectRecording(t *testing.T) {
	for _, n := range []int{0, 1, distBatch - 1, distBatch, distBatch + 1, 5*distBatch + 17} {
		d := newMSDist()
		ref := hdrhistogram.New(hdrLowest, hdrHighest, hdrDigits)
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		var sum float64
		var count int64
		for i := range n {
			v := 20 + 5*rng.ExpFloat64()
			k := int64(1 + i%3)
			d.add(v, k)
			if err := ref.RecordValues(int64(math.Round(v*1000)), k); err != nil {
				t.Fatal(err)
			}
			sum += v * float64(k)
			count += k
		}
		s := d.summary()
		if s.Count != count {
			t.Fatalf("n=%d: count %d, want %d", n, s.Count, count)
		}
		if n == 0 {
			if d.encode() != "" {
				t.Errorf("an empty dist encodes")
			}
			continue
		}
		if got, want := float64(s.Mean), sum/float64(count); math.Abs(got-want) > 1e-9*want {
			t.Errorf("n=%d: mean %v, want %v", n, got, want)
		}
		for _, q := range []struct {
			p   float64
			got float64
		}{{50, float64(s.P50)}, {90, float64(s.P90)}, {95, float64(s.P95)}, {99, float64(s.P99)}} {
			want := math.Min(math.Max(float64(ref.ValueAtQuantile(q.p))/1000, float64(s.Min)), float64(s.Max))
			if q.got != want {
				t.Errorf("n=%d: p%v %v, want %v", n, q.p, q.got, want)
			}
		}
		// More values after a summary still count.
		d.add(1, 1)
		ref.RecordValue(1000)
		enc := d.encode()
		refDist := &dist{h: ref, n: 1}
		if enc != refDist.encode() {
			t.Errorf("n=%d: the encoded histogram differs from recording each value", n)
		}
	}
}
