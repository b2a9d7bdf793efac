package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evalbench/evalbench/results"
)

// TestGroupAggregation checks the MMLU groups of testdata/groups against
// figures computed by hand. The fixture has two or three subjects per group
// of unequal sizes, and acc and acc_norm differ within every subject, so a
// micro average taken as a macro one (or the reverse), a stderr that is not
// lm-eval's pooled one, or an acc_norm computed from acc's counts all show.
//
// Per subject (n scored, k right by acc, kn right by acc_norm):
//
//	stem:            abstract_algebra 5,3,4  anatomy 2,1,0  astronomy 3,2,3
//	humanities:      formal_logic 4,1,2  philosophy 6,4,5 (and 1 failed)
//	social_sciences: sociology 3,2,0  econometrics 2,0,1
//	other:           virology 2,2,1  nutrition 4,1,3
//	no group:        made_up_subject 2,1,2
//
// lm-eval's pooled stderr, with se_i² = p_i(1−p_i)/(n_i−1), has
// (n_i−1)·se_i²·n_i = k_i(n_i−k_i)/n_i, so
//
//	stderr = sqrt( Σ k_i(n_i−k_i)/n_i / (N − S) / N )
//
// over the S subjects and N questions of the group.
func TestGroupAggregation(t *testing.T) {
	r, err := Build(context.Background(), "testdata/groups", Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Runs[0]
	if m.Scored != 33 || m.Failed != 1 {
		t.Fatalf("scored/failed = %d/%d, want 33/1", m.Scored, m.Failed)
	}
	// The headline counts every subject, the ungrouped one too.
	near(t, "acc", float64(m.Metrics.Acc), 17.0/33, 1e-15)
	near(t, "acc_norm", float64(m.Metrics.AccNorm), 21.0/33, 1e-15)
	near(t, "acc_macro", float64(m.Metrics.AccMacro), (4.6+0.5)/10, 1e-15)

	subjects := []struct {
		name        string
		n, k, kn    int
		group       string
		accNormSE   float64
		failedCount int
	}{
		{"abstract_algebra", 5, 3, 4, GroupSTEM, math.Sqrt(0.8 * 0.2 / 4), 0},
		{"anatomy", 2, 1, 0, GroupSTEM, 0, 0},
		{"astronomy", 3, 2, 3, GroupSTEM, 0, 0},
		{"formal_logic", 4, 1, 2, GroupHumanities, math.Sqrt(0.5 * 0.5 / 3), 0},
		{"philosophy", 6, 4, 5, GroupHumanities, math.Sqrt(5.0 / 6 / 6 / 5), 1},
		{"sociology", 3, 2, 0, GroupSocialSciences, 0, 0},
		{"econometrics", 2, 0, 1, GroupSocialSciences, 0.5, 0},
		{"virology", 2, 2, 1, GroupOther, 0.5, 0},
		{"nutrition", 4, 1, 3, GroupOther, math.Sqrt(0.75 * 0.25 / 3), 0},
		{"made_up_subject", 2, 1, 2, "", 0, 0},
	}
	var buf bytes.Buffer
	if err := WriteLMEval(&buf, r, "m"); err != nil {
		t.Fatal(err)
	}
	var lm map[string]any
	if err := json.Unmarshal(buf.Bytes(), &lm); err != nil {
		t.Fatal(err)
	}
	for _, want := range subjects {
		s := m.Subjects[want.name]
		if s == nil {
			t.Errorf("subject %s missing", want.name)
			continue
		}
		if leaf, ok := lm["results"].(map[string]any)["mmlu_"+want.name].(map[string]any); !ok {
			t.Errorf("lm-eval results lack mmlu_%s", want.name)
		} else {
			near(t, want.name+" lm-eval acc", leaf["acc,none"].(float64), float64(want.k)/float64(want.n), 1e-15)
			near(t, want.name+" lm-eval acc_norm", leaf["acc_norm,none"].(float64), float64(want.kn)/float64(want.n), 1e-15)
			near(t, want.name+" lm-eval acc_norm_stderr", leaf["acc_norm_stderr,none"].(float64), want.accNormSE, 1e-15)
		}
		if s.N != want.n || s.Failed != want.failedCount || s.Group != want.group {
			t.Errorf("%s: n %d failed %d group %q, want %d %d %q", want.name, s.N, s.Failed, s.Group, want.n, want.failedCount, want.group)
		}
		near(t, want.name+" acc", float64(s.Acc), float64(want.k)/float64(want.n), 1e-15)
		near(t, want.name+" acc_norm", float64(s.AccNorm), float64(want.kn)/float64(want.n), 1e-15)
		near(t, want.name+" acc_norm_stderr", float64(s.AccNormStderr), want.accNormSE, 1e-15)
	}

	groups := []struct {
		name                    string
		n, subjects             int
		acc, accNorm, macro     float64
		accStderr, accNormStder float64
	}{
		// stem: k 6/10, kn 7/10; macro (3/5 + 1/2 + 2/3)/3;
		// Σk(n−k)/n = 6/5 + 1/2 + 2/3 = 71/30, Σkn(n−kn)/n = 4/5 + 0 + 0.
		{GroupSTEM, 10, 3, 0.6, 0.7, (0.6 + 0.5 + 2.0/3) / 3, math.Sqrt(71.0 / 30 / 7 / 10), math.Sqrt(0.8 / 7 / 10)},
		// humanities: k 5/10, kn 7/10; macro (1/4 + 4/6)/2;
		// Σ = 3/4 + 8/6 = 25/12 and 1 + 5/6 = 11/6.
		{GroupHumanities, 10, 2, 0.5, 0.7, (0.25 + 4.0/6) / 2, math.Sqrt(25.0 / 12 / 8 / 10), math.Sqrt(11.0 / 6 / 8 / 10)},
		// social_sciences: k 2/5, kn 1/5; macro (2/3 + 0)/2;
		// Σ = 2/3 + 0 and 0 + 1/2.
		{GroupSocialSciences, 5, 2, 0.4, 0.2, 1.0 / 3, math.Sqrt(2.0 / 3 / 3 / 5), math.Sqrt(0.5 / 3 / 5)},
		// other: k 3/6, kn 4/6; macro (1 + 1/4)/2; Σ = 0 + 3/4 and 1/2 + 3/4.
		{GroupOther, 6, 2, 0.5, 4.0 / 6, 0.625, math.Sqrt(0.75 / 4 / 6), math.Sqrt(1.25 / 4 / 6)},
		// mmlu: the nine grouped subjects, k 16/31, kn 19/31 (made_up_subject
		// is outside); macro 4.6/9; Σ = 71/30 + 25/12 + 2/3 + 3/4 = 88/15 and
		// 4/5 + 11/6 + 1/2 + 5/4 = 263/60.
		{GroupMMLU, 31, 9, 16.0 / 31, 19.0 / 31, 4.6 / 9, math.Sqrt(88.0 / 15 / 22 / 31), math.Sqrt(263.0 / 60 / 22 / 31)},
	}
	for _, want := range groups {
		g := m.Groups[want.name]
		if g == nil {
			t.Errorf("group %s missing", want.name)
			continue
		}
		if g.N != want.n || g.Subjects != want.subjects {
			t.Errorf("%s: n %d subjects %d, want %d %d", want.name, g.N, g.Subjects, want.n, want.subjects)
		}
		near(t, want.name+" acc", float64(g.Acc), want.acc, 1e-15)
		near(t, want.name+" acc_norm", float64(g.AccNorm), want.accNorm, 1e-15)
		near(t, want.name+" acc_macro", float64(g.AccMacro), want.macro, 1e-15)
		near(t, want.name+" acc_stderr", float64(g.AccStderr), want.accStderr, 1e-15)
		near(t, want.name+" acc_norm_stderr", float64(g.AccNormStderr), want.accNormStder, 1e-15)

		// The lm-eval file carries the same figures for its group.
		name := "mmlu_" + want.name
		if want.name == GroupMMLU {
			name = "mmlu"
		}
		lg, ok := lm["groups"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Errorf("lm-eval groups lack %s", name)
			continue
		}
		near(t, name+" lm-eval acc", lg["acc,none"].(float64), want.acc, 1e-15)
		near(t, name+" lm-eval acc_stderr", lg["acc_stderr,none"].(float64), want.accStderr, 1e-15)
		near(t, name+" lm-eval acc_norm", lg["acc_norm,none"].(float64), want.accNorm, 1e-15)
		near(t, name+" lm-eval acc_norm_stderr", lg["acc_norm_stderr,none"].(float64), want.accNormStder, 1e-15)
		if lg["sample_len"].(float64) != float64(want.n) {
			t.Errorf("%s lm-eval sample_len %v, want %d", name, lg["sample_len"], want.n)
		}
	}
	if !slices.Equal(m.UngroupedSubjects, []string{"made_up_subject"}) {
		t.Errorf("ungrouped = %v", m.UngroupedSubjects)
	}

	// report.md's category table has the overall mmlu row, with its pooled
	// stderr and macro, as lm-eval reports the group; acc_norm, which
	// differs from acc here, has its own column there and per subject.
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, wantRow := range []string{
		"| mmlu (overall) | " + fmtPM(Float(16.0/31), Float(math.Sqrt(88.0/15/22/31))) + " (31) | " + fmtP(Float(4.6/9)) +
			" | " + fmtPM(Float(19.0/31), Float(math.Sqrt(263.0/60/22/31))) + " |",
		"| anatomy | stem | 0.5000 ± 0.5000 (2, 0) | 0.0000 ± 0.0000 |",
	} {
		if !strings.Contains(md.String(), wantRow) {
			t.Errorf("report.md lacks the row %q", wantRow)
		}
	}
}

// The groups depend on the dataset layout run.json records, never on
// whether subject names match MMLU's: MMLU-Pro has a philosophy category.
func TestGroupsFollowLayout(t *testing.T) {
	tests := []struct {
		name       string
		layout     string
		rename     map[string]string // subject renames in the journal
		groups     bool
		lmevalTask string // the one task of a run without groups
	}{
		{"mmlu-hf", "mmlu-hf", nil, true, ""},
		{"mmlu-csv", "mmlu-csv", nil, true, ""},
		{"mmlu-pro with an MMLU-named category", "mmlu-pro",
			map[string]string{"anatomy": "philosophy", "formal_logic": "law"}, false, "mmlu_pro"},
		{"generic file under the mmlu prompt", "generic", nil, false, "evalbench_mmlu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRun(t, "testdata/hand")
			run, err := results.ReadRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			run.Settings.Layout = tt.layout // task stays mmlu, as the runner records MMLU-Pro
			if err := results.WriteRun(dir, run); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, results.JournalFile)
			b, _ := os.ReadFile(path)
			for from, to := range tt.rename {
				b = bytes.ReplaceAll(b, []byte(`"subject": "`+from+`"`), []byte(`"subject": "`+to+`"`))
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := WriteAll(context.Background(), dir, Options{Version: "test", SkipPlots: true})
			if err != nil {
				t.Fatal(err)
			}
			m := r.Runs[0]
			if got := m.Groups != nil; got != tt.groups {
				t.Fatalf("groups present = %v, want %v", got, tt.groups)
			}
			for name, s := range m.Subjects {
				if (s.Group != "") != tt.groups {
					t.Errorf("subject %s has group %q", name, s.Group)
				}
			}
			md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
			if got := bytes.Contains(md, []byte("## MMLU categories")); got != tt.groups {
				t.Errorf("report.md has the MMLU categories table: %v, want %v", got, tt.groups)
			}
			if !tt.groups && bytes.Contains(md, []byte("| humanities |")) {
				t.Error("report.md's subject table files a subject under an MMLU category")
			}
			f, _ := os.Open(filepath.Join(dir, CSVFile))
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows[1:] {
				if (row[2] != "") != tt.groups {
					t.Errorf("subjects.csv row %v: group %q", row, row[2])
				}
			}

			var lm map[string]any
			readJSON(t, filepath.Join(dir, "results_lmeval.json"), &lm)
			res := lm["results"].(map[string]any)
			_, hasMMLU := res["mmlu"]
			if hasMMLU != tt.groups {
				t.Errorf("lm-eval results have an mmlu group: %v, want %v", hasMMLU, tt.groups)
			}
			if tt.groups {
				if _, ok := res["mmlu_anatomy"]; !ok {
					t.Errorf("lm-eval results lack mmlu_anatomy: %v", sortedKeys(res))
				}
				return
			}
			if len(res) != 1 || res[tt.lmevalTask] == nil {
				t.Errorf("lm-eval results %v, want the one task %s", sortedKeys(res), tt.lmevalTask)
			}
			if len(lm["groups"].(map[string]any)) != 0 || len(lm["group_subtasks"].(map[string]any)) != 0 {
				t.Error("lm-eval file has groups for a run that is not MMLU")
			}
		})
	}
}
