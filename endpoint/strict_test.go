package endpoint

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The hand-written list parsers agree with encoding/json wherever
// encoding/json is strict (no nulls), reject what it rejects, and never
// panic on any input.
func FuzzParseLists(f *testing.F) {
	for _, s := range []string{`[]`, `[1,2,3]`, ` [ -1 , 0 ] `, `[1.5]`, `[1e3]`, `[-0.5e-3, 2]`, `[null]`, `["a"]`,
		`[1,]`, `[,1]`, `[1 2]`, `[9223372036854775808]`, `[-1e999]`, `[01]`, `[1]x`, `null`, `{}`, `[[1]]`, `[true]`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gotI, errI := parseInts(b)
		gotF, errF := parseFloats(b)
		if !json.Valid(b) || bytes.Contains(b, nullLit) {
			return // only the parsers' own safety is checked: no panic
		}
		var wantI []int
		errWI := json.Unmarshal(b, &wantI)
		if (errI == nil) != (errWI == nil) || (errI == nil && !reflect.DeepEqual(gotI, wantI) && !(len(gotI) == 0 && len(wantI) == 0)) {
			t.Errorf("ints %q: got %v, %v; encoding/json %v, %v", b, gotI, errI, wantI, errWI)
		}
		var wantF []float64
		errWF := json.Unmarshal(b, &wantF)
		if (errF == nil) != (errWF == nil) || (errF == nil && !reflect.DeepEqual(gotF, wantF) && !(len(gotF) == 0 && len(wantF) == 0)) {
			t.Errorf("floats %q: got %v, %v; encoding/json %v, %v", b, gotF, errF, wantF, errWF)
		}
	})
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "-0": true, "12": true, "1.5": true, "-1e-3": true, "1E+2": true,
		"01": false, "1.": false, ".5": false, "+1": false, "1e": false, "inf": false, "NaN": false, "0x1p3": false, "": false, "-": false} {
		if got := isJSONNumber([]byte(s)); got != want {
			t.Errorf("%q: %v", s, got)
		}
	}
}
