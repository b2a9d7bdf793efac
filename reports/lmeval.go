package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
)

// lm-evaluation-harness results layout (lm_eval/loggers/evaluation_tracker.py,
// EvalAcc._to_eval_results): leaf tasks and groups both under "results",
// groups repeated under "groups", metric keys "<metric>,<filter>" with the
// filter "none", stderr "N/A" when undefined.

// unsafeName is lm-eval's model-name sanitiser pattern.
var unsafeName = regexp.MustCompile(`["<>:/|\\?*\[\]]+`)

// SanitizeModel turns a model id into a file-name part the way lm-eval names
// model_name_sanitized: runs of `"<>:/|\?*[]` become "__".
func SanitizeModel(model string) string { return unsafeName.ReplaceAllString(model, "__") }

// LMEvalFile names the lm-eval results file of a model: results_lmeval.json
// when the run has one model, results_lmeval_<sanitized model>.json each
// when it has several (so no model's file is mistaken for the run's).
func (r *Report) LMEvalFile(model string) string {
	if len(r.Runs) == 1 {
		return "results_lmeval.json"
	}
	return "results_lmeval_" + SanitizeModel(model) + ".json"
}

// lmMetric is lm-eval's value for a figure: a number, or "N/A" when
// undefined (its convention for stderr).
func lmMetric(f Float) any {
	if !f.Valid() {
		return "N/A"
	}
	return float64(f)
}

// lmLeaf is one leaf task's tally.
type lmLeaf struct {
	task, alias, subject, group string
	k, kNorm, n, failed         int
}

// WriteLMEval writes the results of one model of r in lm-eval's results
// layout. MMLU runs (subjects in lm-eval's mapping) get leaf tasks
// mmlu_<subject> and groups mmlu, mmlu_stem, mmlu_humanities,
// mmlu_social_sciences and mmlu_other; any other run is one task named
// after settings.task. Subjects outside the mapping are leaf tasks in no
// group.
func WriteLMEval(w io.Writer, r *Report, model string) error {
	idx := slices.IndexFunc(r.Runs, func(m *ModelRun) bool { return m.Model == model })
	if idx < 0 {
		return fmt.Errorf("reports: lm-eval results: model %q is not in the run", model)
	}
	run := r.Runs[idx]
	st := r.Config
	task := cmp.Or(st.Task, "evalbench")
	shots := st.Shots

	resultsMap := map[string]any{}
	groupsMap := map[string]any{}
	groupSubtasks := map[string][]string{}
	configs := map[string]any{}
	versions := map[string]any{}
	nshot := map[string]int{}
	higher := map[string]any{}
	nsamples := map[string]any{}
	metricList := []map[string]any{
		{"metric": "acc", "aggregation": "mean", "higher_is_better": true},
		{"metric": "acc_norm", "aggregation": "mean", "higher_is_better": true},
	}

	addLeaf := func(l lmLeaf) {
		acc, se := propStats(l.k, l.n)
		accN, seN := propStats(l.kNorm, l.n)
		resultsMap[l.task] = map[string]any{
			"name": l.task, "alias": l.alias, "sample_len": l.n,
			"acc,none": lmMetric(acc), "acc_stderr,none": lmMetric(se),
			"acc_norm,none": lmMetric(accN), "acc_norm_stderr,none": lmMetric(seN),
		}
		cfg := map[string]any{
			"task": l.task, "task_alias": l.alias,
			"dataset_path": datasetName(st), "num_fewshot": shots,
			"output_type": "multiple_choice", "metric_list": metricList, "repeats": 1,
			"should_decontaminate": false,
			"metadata": map[string]any{
				"version": 1.0, "evalbench_template": st.Template, "evalbench_template_hash": st.TemplateHash,
				"evalbench_scoring": st.Scoring, "evalbench_layout": st.Layout,
			},
		}
		if l.subject != "" {
			cfg["dataset_name"] = l.subject
		}
		if l.group != "" {
			cfg["tag"] = "mmlu_" + l.group + "_tasks"
		}
		configs[l.task] = cfg
		versions[l.task] = 1.0
		nshot[l.task] = shots
		higher[l.task] = map[string]bool{"acc": true, "acc_norm": true}
		nsamples[l.task] = map[string]int{"original": l.n + l.failed, "effective": l.n}
	}
	// addGroup aggregates leaves as lm-eval's Group.aggregate does: accuracy
	// weighted by size, stderr pooled over the leaves.
	addGroup := func(name, alias string, leaves []lmLeaf, children []string) {
		var k, kNorm, n int
		var se, seN []float64
		var sizes []int
		for _, l := range leaves {
			k += l.k
			kNorm += l.kNorm
			n += l.n
			se = append(se, propStderr(l.k, l.n))
			seN = append(seN, propStderr(l.kNorm, l.n))
			sizes = append(sizes, l.n)
		}
		acc, accN := NaN(), NaN()
		if n > 0 {
			acc, accN = Float(float64(k)/float64(n)), Float(float64(kNorm)/float64(n))
		}
		g := map[string]any{
			"name": name, "alias": alias, "sample_len": n,
			"acc,none": lmMetric(acc), "acc_stderr,none": lmMetric(Float(pooledStderr(se, sizes))),
			"acc_norm,none": lmMetric(accN), "acc_norm_stderr,none": lmMetric(Float(pooledStderr(seN, sizes))),
			"sample_count": map[string]int{"acc,none": n, "acc_norm,none": n},
		}
		resultsMap[name] = g
		groupsMap[name] = g
		groupSubtasks[name] = children
		versions[name] = "2"
		nshot[name] = shots
		higher[name] = map[string]bool{"acc": true, "acc_norm": true}
	}

	if run.Groups != nil {
		byGroup := map[string][]lmLeaf{}
		var all []lmLeaf
		for _, name := range sortedKeys(run.Subjects) {
			s := run.Subjects[name]
			if s.N == 0 {
				continue // lm-eval has no result for a task without samples
			}
			l := lmLeaf{task: "mmlu_" + name, alias: name, subject: name, group: s.Group, k: s.correct(), kNorm: s.correctNorm(), n: s.N, failed: s.Failed}
			addLeaf(l)
			if l.group != "" {
				byGroup[l.group] = append(byGroup[l.group], l)
				all = append(all, l)
			}
		}
		var children []string
		for _, g := range groupOrder {
			if len(byGroup[g]) == 0 {
				continue
			}
			var tasks []string
			for _, l := range byGroup[g] {
				tasks = append(tasks, l.task)
			}
			addGroup("mmlu_"+g, groupAlias[g], byGroup[g], tasks)
			children = append(children, "mmlu_"+g)
		}
		if len(all) > 0 {
			addGroup("mmlu", "mmlu", all, children)
		}
	} else if run.Scored > 0 {
		var k, kNorm int
		for _, s := range run.Subjects {
			k += s.correct()
			kNorm += s.correctNorm()
		}
		addLeaf(lmLeaf{task: task, alias: task, k: k, kNorm: kNorm, n: run.Scored, failed: run.Failed})
	}

	date := r.Run.Finished
	if date.IsZero() {
		date = r.Run.Started
	}
	var limit any
	if st.Limit > 0 {
		limit = st.Limit
	}
	wall := ""
	if r.Run.WallSeconds.Valid() {
		wall = strconv.FormatFloat(float64(r.Run.WallSeconds), 'f', -1, 64)
	}
	modelArgs := "model=" + model
	if st.BaseURL != "" {
		modelArgs += ",base_url=" + st.BaseURL
	}
	out := map[string]any{
		"results":          resultsMap,
		"groups":           groupsMap,
		"group_subtasks":   groupSubtasks,
		"configs":          configs,
		"versions":         versions,
		"n-shot":           nshot,
		"higher_is_better": higher,
		"n-samples":        nsamples,
		"config": map[string]any{
			"model": "evalbench", "model_args": modelArgs, "batch_size": 1, "batch_sizes": []int{},
			"device": nil, "use_cache": nil, "limit": limit, "bootstrap_iters": r.opts.BootstrapIters,
			"gen_kwargs": nil, "random_seed": nil, "numpy_seed": nil, "torch_seed": nil, "fewshot_seed": nil,
		},
		"git_hash":                      nil,
		"date":                          float64(date.Unix()) + float64(date.Nanosecond())/1e9,
		"task_hashes":                   map[string]string{},
		"model_source":                  "evalbench",
		"model_name":                    model,
		"model_name_sanitized":          SanitizeModel(model),
		"system_instruction":            nil,
		"system_instruction_sha":        nil,
		"fewshot_as_multiturn":          false,
		"chat_template":                 nil,
		"chat_template_sha":             nil,
		"total_evaluation_time_seconds": wall,
		"evalbench_version":             r.Version,
		"evalbench_status":              r.Status,
		"evalbench_report_schema":       Schema,
	}
	if date.IsZero() {
		out["date"] = nil
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("reports: encode lm-eval results: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("reports: write %s: %w", r.LMEvalFile(model), err)
	}
	return nil
}
