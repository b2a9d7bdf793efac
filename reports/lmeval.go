package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/evalbench/evalbench/results"
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
// when it has several (so no model's file is mistaken for the run's). An
// lm-eval results file describes one model, as lm-eval writes one per
// model under <output>/<model_name_sanitized>/; there is no combined file.
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

// lmLeaf is one leaf task's tally. subject is the one subject the task
// covers, or "" for a task over the whole run.
type lmLeaf struct {
	task, alias, subject, group string
	k, kNorm, n, failed         int
}

// lmVersion is lm-eval's leaf task version, written as Python writes the
// float 1.0; encoding/json would write a float64 1.0 as 1.
const lmVersion = json.Number("1.0")

// lmTaskName names the one task of a run that is not MMLU. Never "mmlu":
// that is lm-eval's MMLU group, and a run on other data (MMLU-Pro, or a
// generic file under the mmlu prompt) must not be read as it.
func lmTaskName(st results.Settings) string {
	switch {
	case st.Layout == "mmlu-pro":
		return "mmlu_pro"
	case st.Task == "":
		return "evalbench"
	case st.Task == "mmlu":
		return "evalbench_mmlu"
	}
	return st.Task
}

// lmPromptConfig describes evalbench's prompt for a leaf task in lm-eval's
// TaskConfig terms (lm_eval/config/task.py): description, doc_to_text,
// doc_to_choice and the delimiters, as Jinja over evalbench's example
// fields (question, choices, labels, subject). subject is the leaf's one
// subject, or "" when the leaf spans the run. What run.json does not pin
// down (the text of a custom template) is left out rather than guessed.
func lmPromptConfig(st results.Settings, subject string, mmlu bool) map[string]any {
	cfg := map[string]any{
		// Every evalbench prompt joins shots and targets with lm-eval's
		// TaskConfig defaults (scorers.TargetDelimiter, FewShotDelimiter).
		"target_delimiter":  " ",
		"fewshot_delimiter": "\n\n",
	}
	// describe renders a description that depends on the subject: the
	// literal text for a one-subject task, else Jinja choosing per doc.
	describe := func(prefix, suffix, none string) string {
		if subject != "" {
			return prefix + " about " + strings.ReplaceAll(subject, "_", " ") + suffix
		}
		return "{% if subject %}" + prefix + " about {{ subject.replace('_', ' ') }}" + suffix + "{% else %}" + none + "{% endif %}"
	}
	letters := "{{ labels }}"
	switch st.Template {
	case "mmlu":
		cfg["description"] = describe("The following are multiple choice questions (with answers)", ".\n\n", "The following are multiple choice questions (with answers).\n\n")
		if mmlu {
			// MMLU has four choices: the prompt is lm-eval's byte for byte.
			cfg["doc_to_text"] = "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:"
			cfg["doc_to_choice"] = []string{"A", "B", "C", "D"}
		} else {
			cfg["doc_to_text"] = "{{question.strip()}}{% for c in choices %}\n{{ labels[loop.index0] }}. {{ c }}{% endfor %}\nAnswer:"
			cfg["doc_to_choice"] = letters
		}
	case "mmlu-continuation":
		cfg["description"] = describe("The following are questions (with answers)", ".\n\n", "")
		cfg["doc_to_text"] = "Question: {{question.strip()}}\nAnswer:"
		cfg["doc_to_choice"] = "{{ choices }}"
	case "arc", "piqa", "generic":
		cfg["doc_to_text"] = "Question: {{question}}\nAnswer:"
		cfg["doc_to_choice"] = "{{ choices }}"
	case "hellaswag":
		// lm-eval's hellaswag utils.process_docs builds query and choices.
		cfg["doc_to_text"] = "{{query}}"
		cfg["doc_to_choice"] = "choices"
	default: // custom: only its hash is recorded
		if st.Scoring == "letter" {
			cfg["doc_to_choice"] = letters
		} else {
			cfg["doc_to_choice"] = "{{ choices }}"
		}
	}
	return cfg
}

// WriteLMEval writes the results of one model of r in lm-eval's results
// layout. MMLU runs (see isMMLU) get leaf tasks mmlu_<subject> and groups
// mmlu, mmlu_stem, mmlu_humanities, mmlu_social_sciences and mmlu_other,
// with the figures of the report's groups; subjects outside lm-eval's
// mapping are leaf tasks in no group. Any other run is one task (see
// lmTaskName).
func WriteLMEval(w io.Writer, r *Report, model string) error {
	idx := slices.IndexFunc(r.Runs, func(m *ModelRun) bool { return m.Model == model })
	if idx < 0 {
		return fmt.Errorf("reports: lm-eval results: model %q is not in the run", model)
	}
	run := r.Runs[idx]
	st := r.Config
	shots := st.Shots
	mmlu := run.Groups != nil

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
	// The splits are the files evalbench read: lm-eval names a split of a
	// hub dataset, evalbench is given paths.
	var fewshotSplit any
	if shots > 0 && len(st.FewShot) > 0 {
		fewshotSplit = strings.Join(st.FewShot, ", ")
	}

	addLeaf := func(l lmLeaf) {
		acc, se := propStats(l.k, l.n)
		accN, seN := propStats(l.kNorm, l.n)
		resultsMap[l.task] = map[string]any{
			"name": l.task, "alias": l.alias, "sample_len": l.n,
			"acc,none": lmMetric(acc), "acc_stderr,none": lmMetric(se),
			"acc_norm,none": lmMetric(accN), "acc_norm_stderr,none": lmMetric(seN),
		}
		cfg := lmPromptConfig(st, l.subject, mmlu)
		maps.Copy(cfg, map[string]any{
			"task": l.task, "task_alias": l.alias,
			"dataset_path": datasetName(st), "num_fewshot": shots,
			"test_split": datasetName(st), "fewshot_split": fewshotSplit,
			"output_type": "multiple_choice", "metric_list": metricList, "repeats": 1,
			"should_decontaminate": false,
			"metadata": map[string]any{
				"version": lmVersion, "evalbench_template": st.Template, "evalbench_template_hash": st.TemplateHash,
				"evalbench_scoring": st.Scoring, "evalbench_layout": st.Layout,
			},
		})
		if fewshotSplit != nil {
			// datasets.FewShot.For takes the first k of the subject in
			// file order, as lm-eval's first_n sampler does.
			cfg["fewshot_config"] = map[string]any{"sampler": "first_n"}
		}
		if l.subject != "" {
			cfg["dataset_name"] = l.subject
		}
		if l.group != "" {
			cfg["tag"] = "mmlu_" + l.group + "_tasks"
		}
		configs[l.task] = cfg
		versions[l.task] = lmVersion
		nshot[l.task] = shots
		higher[l.task] = map[string]bool{"acc": true, "acc_norm": true}
		nsamples[l.task] = map[string]int{"original": l.n + l.failed, "effective": l.n}
	}
	// addGroup writes one of the report's groups, whose figures are
	// lm-eval's Group.aggregate over the leaves (see groupAcc).
	addGroup := func(name, alias string, gs *GroupStats, children []string) {
		g := map[string]any{
			"name": name, "alias": alias, "sample_len": gs.N,
			"acc,none": lmMetric(gs.Acc), "acc_stderr,none": lmMetric(gs.AccStderr),
			"acc_norm,none": lmMetric(gs.AccNorm), "acc_norm_stderr,none": lmMetric(gs.AccNormStderr),
			"sample_count": map[string]int{"acc,none": gs.N, "acc_norm,none": gs.N},
		}
		resultsMap[name] = g
		groupsMap[name] = g
		groupSubtasks[name] = children
		versions[name] = "2"
		nshot[name] = shots
		higher[name] = map[string]bool{"acc": true, "acc_norm": true}
	}

	if mmlu {
		byGroup := map[string][]string{}
		for _, name := range sortedKeys(run.Subjects) {
			s := run.Subjects[name]
			if s.N == 0 {
				continue // lm-eval has no result for a task without samples
			}
			l := lmLeaf{task: "mmlu_" + name, alias: name, subject: name, group: s.Group, k: s.correct(), kNorm: s.correctNorm(), n: s.N, failed: s.Failed}
			addLeaf(l)
			if l.group != "" {
				byGroup[l.group] = append(byGroup[l.group], l.task)
			}
		}
		var children []string
		for _, g := range groupOrder {
			if gs := run.Groups[g]; gs != nil && len(byGroup[g]) > 0 {
				addGroup("mmlu_"+g, groupAlias[g], gs, byGroup[g])
				children = append(children, "mmlu_"+g)
			}
		}
		if gs := run.Groups[GroupMMLU]; gs != nil && len(children) > 0 {
			addGroup("mmlu", "mmlu", gs, children)
		}
	} else if run.Scored > 0 {
		var k, kNorm int
		for _, s := range run.Subjects {
			k += s.correct()
			kNorm += s.correctNorm()
		}
		task := lmTaskName(st)
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
