package reports

import (
	"math"
	"testing"
)

func TestCompare(t *testing.T) {
	ok := func(acc bool) sampleRec {
		r := sampleRec{line: 1, flags: recOK}
		if acc {
			r.flags |= recAcc | recAccNorm
		}
		return r
	}
	failed := sampleRec{line: 1}
	absent := sampleRec{}
	// Pairs (baseline, model): 3 both right, 1 both wrong, b = 1 (baseline
	// only), c = 3 (model only); then pairs that must be left out: a failed
	// sample on either side and an example the model never reached.
	base := []sampleRec{ok(true), ok(true), ok(true), ok(false), ok(true), ok(false), ok(false), ok(false), failed, ok(true), ok(true)}
	model := []sampleRec{ok(true), ok(true), ok(true), ok(false), ok(false), ok(true), ok(true), ok(true), ok(true), failed, absent}
	c := &collector{subjects: []string{"s"}}
	got := c.compare(&modelAcc{name: "a", recs: base}, &modelAcc{name: "b", recs: model})
	if got.NPaired != 8 {
		t.Fatalf("n_paired = %d, want 8", got.NPaired)
	}
	m := got.Acc
	if m.B != 1 || m.C != 3 {
		t.Errorf("b, c = %d, %d, want 1, 3", m.B, m.C)
	}
	near(t, "baseline", float64(m.Baseline), 4.0/8, 1e-15)
	near(t, "model", float64(m.Model), 6.0/8, 1e-15)
	near(t, "diff", float64(m.Diff), 2.0/8, 1e-15)
	// d = 0,0,0,0,−1,+1,+1,+1: mean 1/4, Σ(d−¼)² = 4·(1/16) + (25/16) + 3·(9/16) = 56/16.
	near(t, "stderr", float64(m.DiffStderr), math.Sqrt(56.0/16/7)/math.Sqrt(8), 1e-15)
	near(t, "ci lo", float64(m.DiffCI95[0]), 0.25-z975*float64(m.DiffStderr), 1e-15)
	// McNemar, 4 discordant pairs, min 1: 2·(1+4)/16.
	near(t, "p", float64(m.McNemarP), 10.0/16, 1e-12)
	if m.Significant {
		t.Error("p = 0.625 marked significant")
	}
	if d := got.Subjects["s"]; d == nil || d.N != 8 || float64(d.Diff) != 0.25 {
		t.Errorf("subject delta = %+v", d)
	}

	// Nothing paired: everything undefined, nothing significant.
	none := c.compare(&modelAcc{recs: []sampleRec{failed}}, &modelAcc{recs: []sampleRec{ok(true)}})
	if none.NPaired != 0 || none.Acc.Diff.Valid() || none.Acc.DiffCI95 != nil || none.Acc.Significant {
		t.Errorf("no pairs: %+v", none.Acc)
	}
}

func TestCompareSignificant(t *testing.T) {
	// 40 paired examples, 12 discordant all favouring the model:
	// p = 2·0.5^12 ≈ 0.00049.
	var base, model []sampleRec
	for i := range 40 {
		b := sampleRec{line: 1, flags: recOK}
		m := sampleRec{line: 1, flags: recOK}
		if i < 20 {
			b.flags |= recAcc
			m.flags |= recAcc
		} else if i < 32 {
			m.flags |= recAcc
		}
		base, model = append(base, b), append(model, m)
	}
	c := &collector{subjects: []string{"s"}}
	got := c.compare(&modelAcc{recs: base}, &modelAcc{recs: model}).Acc
	near(t, "p", float64(got.McNemarP), 2*math.Pow(0.5, 12), 1e-15)
	if !got.Significant || got.B != 0 || got.C != 12 {
		t.Errorf("got %+v, want significant with b=0, c=12", got)
	}
}
