package datasets

import "fmt"

// Example is one multiple-choice question.
type Example struct {
	ID       string   `json:"id"`
	Subject  string   `json:"subject,omitempty"`
	Question string   `json:"question"`
	Choices  []string `json:"choices"`
	Answer   int      `json:"answer"`
	// Labels are the choice labels: "A", "B", ... unless the dataset has its
	// own (ARC's "1".."4").
	Labels []string `json:"labels"`
	// Fields is the original record, for templates and reports.
	Fields map[string]any `json:"fields,omitempty"`
	Source Location       `json:"-"`
}

// Location is where a record came from.
type Location struct {
	File string // as shown in messages
	Line int    // 1-based line where the record starts (JSONL, JSON, CSV); 0 for Parquet
	Row  int    // 0-based data row within the file
}

func (l Location) String() string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return fmt.Sprintf("%s: row %d", l.File, l.Row)
}

// Layout names a dataset layout.
type Layout string

// Layouts.
const (
	LayoutMMLUHF    Layout = "mmlu-hf"
	LayoutMMLUCSV   Layout = "mmlu-csv"
	LayoutARC       Layout = "arc"
	LayoutHellaSwag Layout = "hellaswag"
	LayoutPIQA      Layout = "piqa"
	LayoutMMLUPro   Layout = "mmlu-pro"
	LayoutGeneric   Layout = "generic"
)

// Layouts lists every layout, for help text and validation.
var Layouts = []Layout{LayoutMMLUHF, LayoutMMLUCSV, LayoutARC, LayoutHellaSwag, LayoutPIQA, LayoutMMLUPro, LayoutGeneric}

// InvalidPolicy says what to do with a bad record.
type InvalidPolicy int

const (
	// Fail stops at the first bad record.
	Fail InvalidPolicy = iota
	// Skip counts and lists bad records and reads on.
	Skip
)

// ParseInvalidPolicy accepts "fail" (or "") and "skip".
func ParseInvalidPolicy(s string) (InvalidPolicy, error) {
	switch s {
	case "", "fail":
		return Fail, nil
	case "skip":
		return Skip, nil
	}
	return Fail, fmt.Errorf("datasets: on-invalid %q: want fail or skip", s)
}

// Options configure reading. The zero value detects the layout and fails on
// the first bad record.
type Options struct {
	Layout Layout
	// Fields maps logical fields (id, subject, question, choices, answer,
	// labels) to columns for the generic layout. "choices" may name one list
	// column or several columns separated by commas.
	Fields    map[string]string
	OnInvalid InvalidPolicy
	// MaxJSONBytes bounds .json array files, which are read whole; JSONL
	// has no limit. Default 256 MiB.
	MaxJSONBytes int64
}

const defaultMaxJSONBytes = 256 << 20

func (o Options) maxJSON() int64 {
	if o.MaxJSONBytes > 0 {
		return o.MaxJSONBytes
	}
	return defaultMaxJSONBytes
}
