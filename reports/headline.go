package reports

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteHeadline writes the terminal summary: per model acc ± stderr,
// acc_norm, macro, n and failed, the paired comparisons, and a banner when
// the run is incomplete.
func (r *Report) WriteHeadline(w io.Writer) error {
	e := &errWriter{w: w}
	if r.Incomplete() {
		e.printf("%s\n", r.incompleteNote())
	}
	st := r.Config
	e.printf("%s (layout %s) · %d-shot · %s scoring · %s · status %s\n", st.Task, st.Layout, st.Shots, st.Scoring,
		plural(r.Run.Examples, "example", "examples"), r.Status)
	if e.err != nil {
		return e.err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	t := &errWriter{w: tw}
	t.printf("MODEL\tACC ± STDERR\tACC_NORM ± STDERR\tMACRO\tN\tFAILED\n")
	for _, run := range r.Runs {
		m := run.Metrics
		n := fmt.Sprint(run.Scored)
		if run.Missing > 0 {
			n = fmt.Sprintf("%d (partial: %d missing)", run.Scored, run.Missing)
		}
		t.printf("%s\t%s\t%s\t%s\t%s\t%d\n", run.Model, fmtPM(m.Acc, m.AccStderr), fmtPM(m.AccNorm, m.AccNormStderr), fmtP(m.AccMacro), n, run.Failed)
	}
	if t.err != nil {
		return t.err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Comparisons {
		verdict := "not significant at 0.05"
		if c.Acc.Significant {
			verdict = "significant at 0.05"
		}
		e.printf("%s vs %s: Δacc %s ± %s, 95%% CI %s, n=%d paired, McNemar p=%s (b=%d, c=%d): %s\n",
			c.Model, c.Baseline, fmtSigned(c.Acc.Diff), fmtP(c.Acc.DiffStderr), fmtSignedCI(c.Acc.DiffCI95),
			c.NPaired, fmtPValue(c.Acc.McNemarP), c.Acc.B, c.Acc.C, verdict)
	}
	return e.err
}
