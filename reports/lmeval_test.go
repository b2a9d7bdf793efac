package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/evalbench/evalbench/results"
)

// The leaf task configs say how evalbench prompted, in lm-eval's TaskConfig
// fields, and the versions are written as lm-eval writes them.
func TestLMEvalConfigs(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(*results.Settings)
		model   string
		task    string
		want    map[string]any // JSON values of configs[task]; nil = must be absent
	}{
		{
			name: "mmlu 5-shot letter", fixture: "testdata/run2", model: "demo", task: "mmlu_formal_logic",
			want: map[string]any{
				// lm_eval/tasks/mmlu/default: the description and template.
				"description":       "The following are multiple choice questions (with answers) about formal logic.\n\n",
				"doc_to_text":       "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
				"doc_to_choice":     []any{"A", "B", "C", "D"},
				"target_delimiter":  " ",
				"fewshot_delimiter": "\n\n",
				"test_split":        "testdata/mmlu/test.jsonl",
				"fewshot_split":     "testdata/mmlu/dev.jsonl",
				"fewshot_config":    map[string]any{"sampler": "first_n"},
				"num_fewshot":       5.0,
				"dataset_name":      "formal_logic",
				"tag":               "mmlu_humanities_tasks",
			},
		},
		{
			name: "mmlu 0-shot continuation", fixture: "testdata/groups", model: "m", task: "mmlu_abstract_algebra",
			want: map[string]any{
				// lm-eval's mmlu_continuation prompt.
				"description":   "The following are questions (with answers) about abstract algebra.\n\n",
				"doc_to_text":   "Question: {{question.strip()}}\nAnswer:",
				"doc_to_choice": "{{ choices }}",
				"test_split":    "mmlu/test.jsonl",
				"num_fewshot":   0.0,
				// 0-shot: no few-shot split or sampler.
				"fewshot_split": nil, "fewshot_config": nil,
			},
		},
		{
			name: "mmlu-pro letter", fixture: "testdata/hand", model: "m", task: "mmlu_pro",
			edit: func(s *results.Settings) { s.Layout = "mmlu-pro" },
			want: map[string]any{
				// One task over several categories: the description picks the
				// subject per question, and the choices are as many labels as
				// the question has.
				"description":      "{% if subject %}The following are multiple choice questions (with answers) about {{ subject.replace('_', ' ') }}.\n\n{% else %}The following are multiple choice questions (with answers).\n\n{% endif %}",
				"doc_to_text":      "{{question.strip()}}{% for c in choices %}\n{{ labels[loop.index0] }}. {{ c }}{% endfor %}\nAnswer:",
				"doc_to_choice":    "{{ labels }}",
				"fewshot_split":    nil,
				"fewshot_config":   nil,
				"target_delimiter": " ",
			},
		},
		{
			name: "hellaswag", fixture: "testdata/hand", model: "m", task: "hellaswag",
			edit: func(s *results.Settings) {
				s.Layout, s.Task, s.Template, s.Scoring = "hellaswag", "hellaswag", "hellaswag", "continuation"
			},
			want: map[string]any{"doc_to_text": "{{query}}", "doc_to_choice": "choices", "description": nil},
		},
		{
			name: "custom template", fixture: "testdata/hand", model: "m", task: "evalbench_mmlu",
			edit: func(s *results.Settings) { s.Layout, s.Template = "generic", "custom" },
			// Only the template's hash is recorded: its text is not guessed.
			want: map[string]any{"doc_to_text": nil, "description": nil, "doc_to_choice": "{{ labels }}", "fewshot_delimiter": "\n\n"},
		},
	}
	leafVersion := regexp.MustCompile(`"version": 1\.0[,\n]`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRun(t, tt.fixture)
			if tt.edit != nil {
				run, err := results.ReadRun(dir)
				if err != nil {
					t.Fatal(err)
				}
				tt.edit(&run.Settings)
				if err := results.WriteRun(dir, run); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Build(context.Background(), dir, Options{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteLMEval(&buf, r, tt.model); err != nil {
				t.Fatal(err)
			}
			var lm map[string]any
			if err := json.Unmarshal(buf.Bytes(), &lm); err != nil {
				t.Fatal(err)
			}
			cfg, ok := lm["configs"].(map[string]any)[tt.task].(map[string]any)
			if !ok {
				t.Fatalf("configs lack %s: %v", tt.task, sortedKeys(lm["configs"].(map[string]any)))
			}
			for key, want := range tt.want {
				got, present := cfg[key]
				if want == nil {
					if present && got != nil {
						t.Errorf("%s = %#v, want absent or null", key, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", key, got, want)
				}
			}
			// lm-eval writes a leaf task's version as the float 1.0, both in
			// versions and in the config's metadata.
			if got := lm["versions"].(map[string]any)[tt.task]; got != 1.0 {
				t.Errorf("versions[%s] = %v", tt.task, got)
			}
			if !bytes.Contains(buf.Bytes(), []byte(`"`+tt.task+`": 1.0`)) {
				t.Errorf("versions[%s] is not written 1.0", tt.task)
			}
			if !leafVersion.Match(buf.Bytes()) {
				t.Error(`config metadata version is not written "version": 1.0`)
			}
		})
	}
}

// A run with several models writes one lm-eval file per model, named after
// lm-eval's model_name_sanitized, and report.json says so.
func TestLMEvalFilePerModel(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	r, err := WriteAll(context.Background(), dir, Options{Version: "test", SkipPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"demo", "demo:lora-a"} {
		name := r.LMEvalFile(model)
		var lm map[string]any
		readJSON(t, filepath.Join(dir, name), &lm)
		if lm["model_name"] != model || "results_lmeval_"+lm["model_name_sanitized"].(string)+".json" != name {
			t.Errorf("%s: model_name %v, model_name_sanitized %v", name, lm["model_name"], lm["model_name_sanitized"])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results_lmeval.json")); err == nil {
		t.Error("a two-model run wrote results_lmeval.json, which names no model")
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if !bytes.Contains(md, []byte(`results_lmeval_\<model_name_sanitized>.json for each model`)) {
		t.Error("report.md does not say how the lm-eval files are named")
	}
}
