package reports

import (
	"bytes"
	"encoding/json"
	"math"
)

// Float is a float64 that is written to JSON as null when it is not finite,
// so an undefined statistic (a stderr over one sample, a rate over no time)
// never becomes NaN in report.json, which JSON cannot carry. Reading null
// gives NaN back.
type Float float64

// NaN is the undefined Float.
func NaN() Float { return Float(math.NaN()) }

// Valid reports whether f is a finite number.
func (f Float) Valid() bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Valid() {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = NaN()
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = Float(x)
	return nil
}

// Interval is a two-sided interval [lo, hi].
type Interval [2]Float

// interval returns nil (JSON null) unless both ends are finite.
func interval(lo, hi float64) *Interval {
	iv := Interval{Float(lo), Float(hi)}
	if !iv[0].Valid() || !iv[1].Valid() {
		return nil
	}
	return &iv
}

// ratio is a/b, NaN when b is not positive.
func ratio(a, b float64) Float {
	if !(b > 0) {
		return NaN()
	}
	return Float(a / b)
}
