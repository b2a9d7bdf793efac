package reports

import "github.com/evalbench/evalbench/results"

// MMLU category groups, as lm-evaluation-harness defines them
// (SUBJECTS in lm_eval/tasks/mmlu/_generate_configs.py; 19/13/12/13).
// simple-evals files anatomy under "other"; lm-eval's mapping is used here so
// group numbers line up with lm-eval leaderboards.
const (
	GroupSTEM           = "stem"
	GroupHumanities     = "humanities"
	GroupSocialSciences = "social_sciences"
	GroupOther          = "other"
)

// GroupMMLU is lm-eval's top-level mmlu group: every subject of the four
// categories pooled, as lm-eval reports it next to them.
const GroupMMLU = "mmlu"

// groupOrder lists the MMLU category groups in lm-eval's order for the mmlu
// group's children.
var groupOrder = []string{GroupSTEM, GroupOther, GroupSocialSciences, GroupHumanities}

// groupAlias is lm-eval's display alias of each group.
var groupAlias = map[string]string{
	GroupSTEM:           "stem",
	GroupHumanities:     "humanities",
	GroupSocialSciences: "social sciences",
	GroupOther:          "other",
}

var mmluGroups = map[string][]string{
	GroupSTEM: {
		"abstract_algebra", "anatomy", "astronomy", "college_biology", "college_chemistry",
		"college_computer_science", "college_mathematics", "college_physics", "computer_security",
		"conceptual_physics", "electrical_engineering", "elementary_mathematics", "high_school_biology",
		"high_school_chemistry", "high_school_computer_science", "high_school_mathematics",
		"high_school_physics", "high_school_statistics", "machine_learning",
	},
	GroupHumanities: {
		"formal_logic", "high_school_european_history", "high_school_us_history",
		"high_school_world_history", "international_law", "jurisprudence", "logical_fallacies",
		"moral_disputes", "moral_scenarios", "philosophy", "prehistory", "professional_law",
		"world_religions",
	},
	GroupSocialSciences: {
		"econometrics", "high_school_geography", "high_school_government_and_politics",
		"high_school_macroeconomics", "high_school_microeconomics", "high_school_psychology",
		"human_sexuality", "professional_psychology", "public_relations", "security_studies",
		"sociology", "us_foreign_policy",
	},
	GroupOther: {
		"business_ethics", "clinical_knowledge", "college_medicine", "global_facts", "human_aging",
		"management", "marketing", "medical_genetics", "miscellaneous", "nutrition",
		"professional_accounting", "professional_medicine", "virology",
	},
}

// mmluGroupOf maps each of the 57 subjects to its group. It is built from a
// literal each call site shares read-only, never mutated after init.
var mmluGroupOf = func() map[string]string {
	m := make(map[string]string, 57)
	for g, subjects := range mmluGroups {
		for _, s := range subjects {
			m[s] = g
		}
	}
	return m
}()

// MMLUGroup returns the lm-eval category group of an MMLU subject, or "" for
// a subject outside the 57.
func MMLUGroup(subject string) string { return mmluGroupOf[subject] }

// mmluLayouts are the dataset layouts that hold MMLU itself (cais/mmlu and
// the original per-subject CSVs). Whether a run is MMLU is a property of its
// data, recorded in run.json, never guessed from subject names: MMLU-Pro
// (layout mmlu-pro) uses the same prompt family (task mmlu) and has
// categories named like MMLU subjects (philosophy), and grouping those
// would report a different benchmark as MMLU.
var mmluLayouts = map[string]bool{"mmlu-hf": true, "mmlu-csv": true}

// isMMLU reports whether a run's data is MMLU, so that its subjects fall
// into lm-eval's category groups.
func isMMLU(st results.Settings) bool { return mmluLayouts[st.Layout] }

// groupAcc folds subjects into one group the way lm-eval's Group.aggregate
// does with weight_by_size: acc is correct / questions over the members
// (a micro average), and the stderr is pooled_sample_stderr over the
// members' own stderrs and sizes. acc_macro, which lm-eval leaves out, is
// the unweighted mean of member accuracies, the figure model cards quote.
type groupAcc struct {
	k, kNorm, n int
	se, seNorm  []float64
	sizes       []int
	macroSum    float64
}

// add takes one subject with k right by acc and kNorm by acc_norm out of n
// scored. A subject without scored samples has no result in lm-eval and is
// left out, so it cannot make the pooled stderr undefined.
func (g *groupAcc) add(k, kNorm, n int) {
	if n == 0 {
		return
	}
	g.k += k
	g.kNorm += kNorm
	g.n += n
	g.se = append(g.se, propStderr(k, n))
	g.seNorm = append(g.seNorm, propStderr(kNorm, n))
	g.sizes = append(g.sizes, n)
	g.macroSum += float64(k) / float64(n)
}

func (g *groupAcc) result() *GroupStats {
	gs := &GroupStats{N: g.n, Subjects: len(g.sizes), Acc: NaN(), AccStderr: NaN(), AccNorm: NaN(), AccNormStderr: NaN(), AccMacro: NaN()}
	if g.n == 0 {
		return gs
	}
	gs.Acc = Float(float64(g.k) / float64(g.n))
	gs.AccNorm = Float(float64(g.kNorm) / float64(g.n))
	gs.AccStderr = Float(pooledStderr(g.se, g.sizes))
	gs.AccNormStderr = Float(pooledStderr(g.seNorm, g.sizes))
	gs.AccMacro = Float(g.macroSum / float64(len(g.sizes)))
	return gs
}
