package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestParseSLO(t *testing.T) {
	for _, c := range []struct {
		in   string
		want SLO
		err  string
	}{
		{in: "", want: SLO{}},
		{in: "ttft=500ms,tpot=50ms,e2e=10s", want: SLO{TTFT: 500 * time.Millisecond, TPOT: 50 * time.Millisecond, E2E: 10 * time.Second}},
		{in: " E2E = 2s ", want: SLO{E2E: 2 * time.Second}},
		{in: "tpot=20ms,ttft=1s", want: SLO{TTFT: time.Second, TPOT: 20 * time.Millisecond}},
		{in: "ttft=500", err: `part "ttft=500": "500" is not a duration`},
		{in: "ttft=500ms,itl=20ms", err: `part "itl=20ms": unknown objective "itl"`},
		{in: "ttft", err: `part "ttft": want NAME=DURATION`},
		{in: "ttft=1s,", err: `part "": want NAME=DURATION`},
		{in: "ttft=0s", err: `part "ttft=0s": want a positive duration`},
		{in: "ttft=-1s", err: `part "ttft=-1s": want a positive duration`},
		{in: "e2e=1s,e2e=2s", err: `part "e2e=2s": e2e given twice`},
	} {
		got, err := ParseSLO(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseSLO(%q): error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSLO(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	if s := (SLO{TTFT: time.Second, E2E: 3 * time.Second}).String(); s != "ttft=1s,e2e=3s" {
		t.Errorf("String() = %q", s)
	}
}

func TestSLOGood(t *testing.T) {
	slo := SLO{TTFT: 100 * time.Millisecond, TPOT: 10 * time.Millisecond, E2E: time.Second}
	ms := time.Millisecond
	for _, c := range []struct {
		ttft, e2e, tpot time.Duration
		want            bool
	}{
		{100 * ms, time.Second, 10 * ms, true}, // on the limits
		{101 * ms, 500 * ms, 5 * ms, false},
		{50 * ms, 1001 * ms, 5 * ms, false},
		{50 * ms, 500 * ms, 11 * ms, false},
		{50 * ms, 500 * ms, -1, true}, // one output token: no TPOT
	} {
		if got := slo.good(c.ttft, c.e2e, c.tpot); got != c.want {
			t.Errorf("good(ttft %v, e2e %v, tpot %v) = %v, want %v", c.ttft, c.e2e, c.tpot, got, c.want)
		}
	}
	if !(SLO{}).good(time.Hour, time.Hour, time.Hour) {
		t.Error("no objective: every success is good")
	}
}
