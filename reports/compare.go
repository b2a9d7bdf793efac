package reports

import (
	"math"
	"slices"
)

// Comparison pairs a model with the baseline (the run's first model) over
// the examples both scored, so the difference is measured on the same
// questions and its stderr removes the between-question variance.
type Comparison struct {
	Baseline string `json:"baseline"`
	Model    string `json:"model"`
	// NPaired counts examples scored (status ok) under both models.
	NPaired int          `json:"n_paired"`
	Acc     PairedMetric `json:"acc"`
	AccNorm PairedMetric `json:"acc_norm"`
	// Subjects holds descriptive per-subject deltas (no test: with many
	// subjects some would look "significant" by chance).
	Subjects map[string]*SubjectDelta `json:"subjects"`
}

// PairedMetric compares one 0/1 metric on paired examples.
type PairedMetric struct {
	Baseline   Float     `json:"baseline"`
	Model      Float     `json:"model"`
	Diff       Float     `json:"diff"`
	DiffStderr Float     `json:"diff_stderr"`
	DiffCI95   *Interval `json:"diff_ci95"`
	// B counts examples the baseline got right and the model wrong; C the
	// reverse. Only these discordant pairs carry evidence.
	B        int   `json:"b"`
	C        int   `json:"c"`
	McNemarP Float `json:"mcnemar_p"`
	// Significant is McNemar p < 0.05, and nothing more.
	Significant bool `json:"significant_0_05"`
}

// SubjectDelta is one subject's paired accuracies.
type SubjectDelta struct {
	N        int   `json:"n"`
	Baseline Float `json:"baseline"`
	Model    Float `json:"model"`
	Diff     Float `json:"diff"`
}

// compare pairs model m with baseline b by example.
func (c *collector) compare(b, m *modelAcc) *Comparison {
	out := &Comparison{Baseline: b.name, Model: m.name, Subjects: map[string]*SubjectDelta{}}
	type tally struct{ n, kb, km int }
	subj := map[int32]*tally{}
	var dAcc, dNorm []float64
	n := min(len(b.recs), len(m.recs))
	for ex := range n {
		rb, rm := b.recs[ex], m.recs[ex]
		if rb.line == 0 || rm.line == 0 || rb.flags&rm.flags&recOK == 0 {
			continue
		}
		dAcc = append(dAcc, bit(rm.flags, recAcc)-bit(rb.flags, recAcc))
		dNorm = append(dNorm, bit(rm.flags, recAccNorm)-bit(rb.flags, recAccNorm))
		// The subject is the baseline's; a journal is written from one
		// dataset, so both models' lines name the same one.
		t := subj[rb.subject]
		if t == nil {
			t = &tally{}
			subj[rb.subject] = t
		}
		t.n++
		t.kb += int(bit(rb.flags, recAcc))
		t.km += int(bit(rm.flags, recAcc))
	}
	out.NPaired = len(dAcc)
	out.Acc = paired(b.recs, m.recs, recAcc, dAcc)
	out.AccNorm = paired(b.recs, m.recs, recAccNorm, dNorm)
	keys := make([]int32, 0, len(subj))
	for k := range subj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t := subj[k]
		n := float64(t.n)
		out.Subjects[c.subjects[k]] = &SubjectDelta{N: t.n, Baseline: Float(float64(t.kb) / n), Model: Float(float64(t.km) / n), Diff: Float(float64(t.km-t.kb) / n)}
	}
	return out
}

// paired computes the paired statistics of one metric; d holds the
// per-example differences (model − baseline) in example order.
func paired(b, m []sampleRec, flag uint8, d []float64) PairedMetric {
	pm := PairedMetric{Baseline: NaN(), Model: NaN(), Diff: NaN(), DiffStderr: NaN(), McNemarP: NaN()}
	if len(d) == 0 {
		return pm
	}
	var kb, km int
	for ex := range min(len(b), len(m)) {
		rb, rm := b[ex], m[ex]
		if rb.line == 0 || rm.line == 0 || rb.flags&rm.flags&recOK == 0 {
			continue
		}
		okB, okM := rb.flags&flag != 0, rm.flags&flag != 0
		if okB {
			kb++
		}
		if okM {
			km++
		}
		switch {
		case okB && !okM:
			pm.B++
		case !okB && okM:
			pm.C++
		}
	}
	n := float64(len(d))
	pm.Baseline, pm.Model = Float(float64(kb)/n), Float(float64(km)/n)
	diff, se := meanStderr(d)
	pm.Diff, pm.DiffStderr = Float(diff), Float(se)
	if !math.IsNaN(se) {
		pm.DiffCI95 = interval(diff-z975*se, diff+z975*se)
	}
	p := mcnemarExact(pm.B, pm.C)
	pm.McNemarP = Float(p)
	pm.Significant = p < 0.05
	return pm
}

func bit(flags, f uint8) float64 {
	if flags&f != 0 {
		return 1
	}
	return 0
}
