package simulator

import (
	"bytes"
	"math"
	"testing"
)

// The model's cached logprob text is what appendFloat writes, for every
// value a reply can hold (cached or not) and for the odd ones.
func TestLogprobTextMatchesAppendFloat(t *testing.T) {
	l, _ := testLM(t)
	vals := []float64{0, math.Copysign(0, -1), 1, -1e-300, math.Inf(-1), math.NaN(), -0.1, -2.5}
	for _, lp := range l.profiles {
		vals = append(vals, lp...)
	}
	for _, v := range vals {
		got, want := l.lpText.append([]byte("x"), v), appendFloat([]byte("x"), v)
		if !bytes.Equal(got, want) {
			t.Fatalf("%v (bits %#x): %s, want %s", v, math.Float64bits(v), got, want)
		}
	}
	if len(l.lpText) < numProfiles*lpTextRanks/2 {
		t.Fatalf("%d cached values: the cache is not in use", len(l.lpText))
	}
}
