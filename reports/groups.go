package reports

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

// Groups lists the MMLU category groups in lm-eval's order for the mmlu
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
