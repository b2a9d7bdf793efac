package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// SLO holds service-level objectives; a zero field is not an objective.
// A request is good iff it succeeded and meets every objective given:
// TTFT and E2E are taken from the intended send time (what a user waiting
// on the schedule experiences, client queueing included), TPOT as defined
// in the package doc. A request with at most one output token has no TPOT
// and passes that objective.
type SLO struct {
	TTFT time.Duration
	TPOT time.Duration
	E2E  time.Duration
}

// Set reports whether any objective is given.
func (s SLO) Set() bool { return s.TTFT > 0 || s.TPOT > 0 || s.E2E > 0 }

// String is the --slo form, e.g. "ttft=500ms,tpot=50ms".
func (s SLO) String() string {
	var parts []string
	for _, p := range []struct {
		k string
		v time.Duration
	}{{"ttft", s.TTFT}, {"tpot", s.TPOT}, {"e2e", s.E2E}} {
		if p.v > 0 {
			parts = append(parts, p.k+"="+p.v.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseSLO reads "ttft=500ms,tpot=50ms,e2e=10s", any subset in any order.
// Errors name the part that is wrong.
func ParseSLO(s string) (SLO, error) {
	var slo SLO
	if strings.TrimSpace(s) == "" {
		return slo, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return SLO{}, fmt.Errorf("loadgen: SLO part %q: want NAME=DURATION, e.g. ttft=500ms", part)
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return SLO{}, fmt.Errorf("loadgen: SLO part %q: %q is not a duration (e.g. 500ms, 2s)", part, v)
		}
		if d <= 0 {
			return SLO{}, fmt.Errorf("loadgen: SLO part %q: want a positive duration", part)
		}
		if seen[k] {
			return SLO{}, fmt.Errorf("loadgen: SLO part %q: %s given twice", part, k)
		}
		seen[k] = true
		switch k {
		case "ttft":
			slo.TTFT = d
		case "tpot":
			slo.TPOT = d
		case "e2e":
			slo.E2E = d
		default:
			return SLO{}, fmt.Errorf("loadgen: SLO part %q: unknown objective %q (want ttft, tpot or e2e)", part, k)
		}
	}
	return slo, nil
}

// good judges one successful request; tpot < 0 means it has no TPOT.
func (s SLO) good(ttftIntended, e2eIntended, tpot time.Duration) bool {
	if s.TTFT > 0 && ttftIntended > s.TTFT {
		return false
	}
	if s.E2E > 0 && e2eIntended > s.E2E {
		return false
	}
	if s.TPOT > 0 && tpot >= 0 && tpot > s.TPOT {
		return false
	}
	return true
}
