package reports

import (
	"fmt"
	"strings"
)

// section is one titled part of the human-readable report: paragraphs, an
// optional table, notes under it. Markdown and HTML render the same
// sections, so the two never disagree.
type section struct {
	ID     string
	Title  string
	Paras  []string
	Header []string
	Rows   [][]string
	Notes  []string
	// Empty is said instead of the table when it has no rows.
	Empty string
	// List is rendered as bullet points (definitions, skipped records).
	List []string
}

// summary is the lines describing the run, above the sections.
func (r *Report) summary() []string {
	st := r.Config
	torn := ""
	if r.Journal.Torn {
		torn = "; its torn last line was left out"
	}
	return []string{
		fmt.Sprintf("Task %s · layout %s · dataset %s · %d-shot · scoring %s · template %s", st.Task, st.Layout, datasetName(st), st.Shots, st.Scoring, st.Template),
		fmt.Sprintf("Status %s · %s · %d examples per model · wall %s s · evalbench %s",
			r.Status, plural(len(r.Runs), "model", "models"), r.Run.Examples, fmtRate(r.Run.WallSeconds), r.Version),
		fmt.Sprintf("Journal: %d lines, %d superseded by a later line for the same sample%s", r.Journal.Lines, r.Journal.Superseded, torn),
	}
}

func (r *Report) sections() []section {
	var out []section
	var rows [][]string

	for _, run := range r.Runs {
		m := run.Metrics
		rows = append(rows, []string{
			run.Model, fmtPM(m.Acc, m.AccStderr), fmtCI(m.AccCI95), fmtPM(m.AccNorm, m.AccNormStderr),
			fmtP(m.AccMacro), fmtCI(m.AccMacroCI95),
			fmt.Sprint(run.Scored), fmt.Sprint(run.Failed), fmt.Sprint(run.Missing),
		})
	}
	out = append(out, section{ID: "headline", Title: "Headline",
		Header: []string{"model", "acc ± stderr", "acc 95% CI (Wilson)", "acc_norm ± stderr", "macro acc", "macro 95% CI (bootstrap)", "scored", "failed", "missing"},
		Rows:   rows, Empty: "No model in the run."})

	// acc_norm gets its own columns where it tells something: with
	// continuation scoring it can differ from acc in any subject, and a
	// table of acc alone would hide the metric cloze tasks are read by.
	norm := r.accNormDiffers()

	if len(r.Runs) > 0 && r.Runs[0].Groups != nil {
		header := []string{"group"}
		for _, run := range r.Runs {
			header = append(header, run.Model+" acc ± stderr (n)", run.Model+" macro")
			if norm {
				header = append(header, run.Model+" acc_norm ± stderr")
			}
		}
		rows = nil
		for _, g := range append(displayGroups[:len(displayGroups):len(displayGroups)], GroupMMLU) {
			label := g
			if g == GroupMMLU {
				label = "mmlu (overall)"
			}
			row := []string{label}
			for _, run := range r.Runs {
				cells := []string{"—", "—", "—"}
				if gs := run.Groups[g]; gs != nil {
					cells = []string{fmt.Sprintf("%s (%d)", fmtPM(gs.Acc, gs.AccStderr), gs.N), fmtP(gs.AccMacro), fmtPM(gs.AccNorm, gs.AccNormStderr)}
				}
				if !norm {
					cells = cells[:2]
				}
				row = append(row, cells...)
			}
			rows = append(rows, row)
		}
		notes := []string{"acc is correct / questions over the group's subjects and its stderr is pooled as lm-eval pools it; macro is the unweighted mean of the subjects' acc. mmlu is lm-eval's overall mmlu group."}
		for _, run := range r.Runs {
			if len(run.UngroupedSubjects) > 0 {
				notes = append(notes, fmt.Sprintf("%s: subjects outside lm-eval's MMLU mapping, in no group: %s.", run.Model, strings.Join(run.UngroupedSubjects, ", ")))
			}
		}
		out = append(out, section{ID: "groups", Title: "MMLU categories", Header: header, Rows: rows, Notes: notes})
	}

	if len(r.Comparisons) > 0 {
		rows = nil
		for _, c := range r.Comparisons {
			for _, pm := range []struct {
				name string
				m    PairedMetric
			}{{"acc", c.Acc}, {"acc_norm", c.AccNorm}} {
				rows = append(rows, []string{
					c.Model, pm.name, fmt.Sprint(c.NPaired), fmtP(pm.m.Baseline), fmtP(pm.m.Model),
					fmtSigned(pm.m.Diff), fmtP(pm.m.DiffStderr), fmtSignedCI(pm.m.DiffCI95),
					fmt.Sprint(pm.m.B), fmt.Sprint(pm.m.C), fmtPValue(pm.m.McNemarP), yesNo(pm.m.Significant),
				})
			}
		}
		out = append(out, section{ID: "comparisons", Title: fmt.Sprintf("Comparisons (paired, vs baseline %s)", r.Runs[0].Model),
			Header: []string{"model", "metric", "n paired", "baseline", "model", "diff", "stderr", "95% CI", "b", "c", "McNemar p", "significant at 0.05"},
			Rows:   rows,
			Notes:  []string{"b: baseline right, model wrong; c: baseline wrong, model right. Only the overall difference is tested; per-subject deltas are descriptive."}})
	}

	header := []string{"subject", "group"}
	for _, run := range r.Runs {
		header = append(header, run.Model+" acc ± stderr (n, failed)")
		if norm {
			header = append(header, run.Model+" acc_norm ± stderr")
		}
	}
	for _, c := range r.Comparisons {
		header = append(header, "Δ "+c.Model)
	}
	rows = nil
	for _, name := range r.subjectNames() {
		row := []string{name, r.subjectGroup(name)}
		for _, run := range r.Runs {
			cells := []string{"—", "—"}
			if s := run.Subjects[name]; s != nil {
				cells = []string{fmt.Sprintf("%s (%d, %d)", fmtPM(s.Acc, s.AccStderr), s.N, s.Failed), fmtPM(s.AccNorm, s.AccNormStderr)}
			}
			if !norm {
				cells = cells[:1]
			}
			row = append(row, cells...)
		}
		for _, c := range r.Comparisons {
			if d := c.Subjects[name]; d != nil {
				row = append(row, fmt.Sprintf("%s (n=%d)", fmtSigned(d.Diff), d.N))
			} else {
				row = append(row, "—")
			}
		}
		rows = append(rows, row)
	}
	out = append(out, section{ID: "subjects", Title: "Subjects", Header: header, Rows: rows, Empty: "No samples yet."})

	rows = nil
	for _, run := range r.Runs {
		c := run.Calibration
		rows = append(rows, []string{run.Model, fmt.Sprint(c.N), fmtP(c.ECE), fmtP(c.Brier)})
	}
	out = append(out, section{ID: "calibration", Title: "Calibration", Header: []string{"model", "n", "ECE (10 bins)", "Brier (multiclass)"}, Rows: rows})

	rows = nil
	for _, run := range r.Runs {
		for _, kind := range sortedKeys(run.LatencyMS) {
			l := run.LatencyMS[kind]
			rows = append(rows, []string{run.Model, kind, fmt.Sprint(l.Count), fmtMS(l.Mean), fmtMS(l.Std), fmtMS(l.Min),
				fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P95), fmtMS(l.P99), fmtMS(l.Max)})
		}
	}
	out = append(out, section{ID: "latency", Title: "Latency (ms)", Header: []string{"model", "kind", "count", "mean", "std", "min", "p50", "p90", "p95", "p99", "max"}, Rows: rows})

	rows = nil
	for _, run := range r.Runs {
		q := run.Requests
		rows = append(rows, []string{run.Model, fmt.Sprint(q.Completions), fmt.Sprint(q.Tokenize), fmt.Sprint(q.Other),
			fmt.Sprint(q.Retries), fmtErrors(q.ErrorsByStatus), fmt.Sprint(q.PromptTokens), fmt.Sprint(q.CompletionTokens),
			fmtRate(run.Throughput.ExamplesPerS), fmtRate(run.Throughput.RequestsPerS), fmtRate(run.Throughput.TokensPerS)})
	}
	out = append(out, section{ID: "requests", Title: "Requests and throughput",
		Header: []string{"model", "completions", "tokenize", "other", "retries", "errors by status", "prompt tokens", "completion tokens", "examples/s", "requests/s", "tokens/s"}, Rows: rows})

	rows = nil
	for _, run := range r.Runs {
		for _, m := range sortedKeys(run.Methods) {
			rows = append(rows, []string{run.Model, m, fmt.Sprint(run.Methods[m])})
		}
	}
	out = append(out, section{ID: "methods", Title: "Scoring methods", Header: []string{"model", "method", "scored samples"}, Rows: rows, Empty: "No scored samples."})

	rows = nil
	for _, run := range r.Runs {
		for _, f := range run.Failures {
			rows = append(rows, []string{run.Model, fmt.Sprint(f.Count), f.FirstID, f.Reason})
		}
		if n := run.FailureReasons - len(run.Failures); n > 0 {
			rows = append(rows, []string{run.Model, "", "", fmt.Sprintf("… and %d more distinct reasons (see samples.parquet)", n)})
		}
	}
	out = append(out, section{ID: "failures", Title: "Failures", Header: []string{"model", "count", "first id", "reason"}, Rows: rows, Empty: "No failed samples."})

	if len(r.Invalid) > 0 {
		s := section{ID: "invalid", Title: "Skipped dataset records"}
		for _, inv := range r.Invalid {
			s.List = append(s.List, inv.Error)
		}
		out = append(out, s)
	}

	d := r.Definitions
	def := section{ID: "definitions", Title: "Definitions"}
	for _, kv := range [][2]string{
		{"acc", d.Acc}, {"acc_norm", d.AccNorm}, {"stderr", d.Stderr}, {"95% CI", d.CI95}, {"macro", d.Macro}, {"groups", d.Groups},
		{"ECE", d.ECE}, {"Brier", d.Brier}, {"latency", d.Latency}, {"requests", d.Requests},
		{"errors by status", d.ErrorsByStatus}, {"throughput", d.Throughput}, {"comparisons", d.Comparisons},
		{"superseded", d.LastLineWins}, {"lm-eval results", d.LMEval},
	} {
		def.List = append(def.List, kv[0]+": "+kv[1])
	}
	out = append(out, def)
	return out
}

// subjectNames is every subject any model has, sorted.
func (r *Report) subjectNames() []string {
	seen := map[string]bool{}
	for _, run := range r.Runs {
		for s := range run.Subjects {
			seen[s] = true
		}
	}
	return sortedKeys(seen)
}

// subjectGroup is a subject's MMLU category as the run recorded it: empty
// for a run whose data is not MMLU, whatever the subject is called.
func (r *Report) subjectGroup(name string) string {
	for _, run := range r.Runs {
		if s := run.Subjects[name]; s != nil && s.Group != "" {
			return s.Group
		}
	}
	return ""
}

// accNormDiffers reports whether acc_norm differs from acc in any subject
// of any model (it cannot with one-character choices, as with letters).
func (r *Report) accNormDiffers() bool {
	for _, run := range r.Runs {
		for _, s := range run.Subjects {
			if s.correct() != s.correctNorm() {
				return true
			}
		}
	}
	return false
}
