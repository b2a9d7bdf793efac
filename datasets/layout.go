package datasets

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// detect picks the layout from a first record's columns.
func detect(r *raw, opts Options) (Layout, error) {
	if r.cols != nil {
		return LayoutMMLUCSV, nil
	}
	f := r.fields
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := f[k]; !ok {
				return false
			}
		}
		return true
	}
	if len(opts.Fields) > 0 {
		return LayoutGeneric, nil
	}
	switch {
	case has("goal", "sol1", "sol2"):
		return LayoutPIQA, nil
	case has("endings") && (has("ctx") || has("ctx_a", "ctx_b")):
		return LayoutHellaSwag, nil
	case has("question", "choices", "answerKey"):
		return LayoutARC, nil
	case has("question", "option_0") || (has("question", "options") && (has("answer_index") || has("category"))):
		return LayoutMMLUPro, nil
	case has("question", "choices", "answer"):
		return LayoutMMLUHF, nil
	case has("question", "A", "B", "answer"):
		return LayoutMMLUCSV, nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "", fmt.Errorf("cannot tell the layout from the columns [%s]; use --layout (%s) or map the fields with --field question=... --field choices=... --field answer=...",
		strings.Join(keys, ", "), layoutNames())
}

func layoutNames() string {
	s := make([]string, len(Layouts))
	for i, l := range Layouts {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// converter turns raw records of one file into examples.
type converter struct {
	layout Layout
	opts   Options
	file   string // full path, for the subject of headerless MMLU files
}

func (c *converter) example(r *raw) (Example, *RecordError) {
	var ex Example
	var rerr *RecordError
	switch c.layout {
	case LayoutMMLUCSV:
		ex, rerr = c.mmluCSV(r)
	case LayoutMMLUHF:
		ex, rerr = c.mmluHF(r)
	case LayoutARC:
		ex, rerr = c.arc(r)
	case LayoutHellaSwag:
		ex, rerr = c.hellaswag(r)
	case LayoutPIQA:
		ex, rerr = c.piqa(r)
	case LayoutMMLUPro:
		ex, rerr = c.mmluPro(r)
	case LayoutGeneric:
		ex, rerr = c.generic(r)
	default:
		return Example{}, recordErr(r.loc, "", "unknown layout %q", c.layout)
	}
	if rerr != nil {
		return ex, rerr
	}
	if ex.ID, rerr = c.id(r); rerr != nil {
		return ex, rerr
	}
	clearUnsupported(ex.Fields)
	return ex, nil
}

// id returns a record's ID as its layout defines it. It depends on the
// record alone, so the reader can re-derive the ID of an earlier row from
// the file to confirm a duplicate.
func (c *converter) id(r *raw) (string, *RecordError) {
	key := "id"
	switch c.layout {
	case LayoutMMLUCSV:
		if r.cols != nil {
			return fmt.Sprintf("%s:%d", stem(c.file), r.loc.Row), nil
		}
	case LayoutHellaSwag:
		if _, ok := r.fields["id"]; !ok {
			if _, ok := r.fields["ind"]; ok {
				key = "ind"
			}
		}
	case LayoutMMLUPro:
		if _, ok := r.fields["question_id"]; ok {
			key = "question_id"
		}
	case LayoutGeneric:
		key = cmpOr(c.opts.Fields["id"], "id")
	}
	return idOf(r, key)
}

// clearUnsupported replaces the stand-ins for unreadable columns with nil
// once a record has converted without needing them: templates and the
// fields column see only the documented value types.
func clearUnsupported(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case unsupported:
			m[k] = nil
		case map[string]any:
			clearUnsupported(x)
		}
	}
}

// mmluHF reads cais/mmlu's columns, and evalbench's own (what Convert
// writes): a labels column, and the original record in a fields column.
// A labels column marks evalbench's own files: there the answer is an
// index by construction, and only there is a fields column taken as the
// original record (another dataset's "fields" may mean anything).
func (c *converter) mmluHF(r *raw) (Example, *RecordError) {
	fm := fieldMap{question: "question", choices: []string{"choices"}, answer: "answer", subject: "subject", labels: "labels"}
	_, own := r.fields["labels"]
	fm.indexFirst = own
	ex, rerr := c.mapped(r, fm)
	if rerr != nil {
		return ex, rerr
	}
	if v, ok := r.fields["fields"]; ok && own {
		orig, rerr := originalFields(r, v)
		if rerr != nil {
			return ex, rerr
		}
		ex.Fields = orig
	}
	return ex, nil
}

// originalFields decodes the fields column Convert writes: a JSON object
// (in JSONL) or its text (in CSV and Parquet); null or "" when there was
// none.
func originalFields(r *raw, v any) (map[string]any, *RecordError) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		m, rerr := decodeObject(nil, []byte(x), r.loc)
		if rerr != nil {
			return nil, recordErr(r.loc, "fields", "%v", rerr.Err)
		}
		return m, nil
	}
	return nil, recordErr(r.loc, "fields", "want an object, got %s", typeName(v))
}

// fieldMap names the columns of a mapped layout.
type fieldMap struct {
	id, subject, question string
	choices               []string // one list column, or one column per choice
	answer                string
	labels                string
	indexFirst            bool // a digit-string answer is an index (see parseAnswer)
}

func (c *converter) mapped(r *raw, fm fieldMap) (Example, *RecordError) {
	f := r.fields
	ex := Example{Fields: f, Source: r.loc}
	var rerr *RecordError
	if ex.Question, rerr = str(r, fm.question, true); rerr != nil {
		return ex, rerr
	}
	if fm.subject != "" {
		if ex.Subject, rerr = str(r, fm.subject, false); rerr != nil {
			return ex, rerr
		}
	}
	if len(fm.choices) == 1 {
		if ex.Choices, rerr = strList(r, fm.choices[0]); rerr != nil {
			return ex, rerr
		}
	} else {
		for _, col := range fm.choices {
			s, rerr := str(r, col, true)
			if rerr != nil {
				return ex, rerr
			}
			ex.Choices = append(ex.Choices, s)
		}
	}
	choiceField := strings.Join(fm.choices, ",")
	if rerr := checkChoices(r.loc, choiceField, ex.Choices); rerr != nil {
		return ex, rerr
	}
	ex.Labels = letters(len(ex.Choices))
	if fm.labels != "" {
		if _, ok := f[fm.labels]; ok {
			if ex.Labels, rerr = strList(r, fm.labels); rerr != nil {
				return ex, rerr
			}
			if rerr := checkLabels(r.loc, fm.labels, ex.Labels, len(ex.Choices)); rerr != nil {
				return ex, rerr
			}
		}
	}
	av, ok := f[fm.answer]
	if !ok {
		return ex, recordErr(r.loc, fm.answer, "missing")
	}
	a, err := parseAnswer(av, ex.Choices, ex.Labels, fm.indexFirst)
	if err != nil {
		return ex, recordErr(r.loc, fm.answer, "%v", err)
	}
	ex.Answer = a
	return ex, nil
}

// checkLabels wants one label per choice, each different: with a repeated
// label an answer given as a label would mean two choices.
func checkLabels(loc Location, field string, labels []string, choices int) *RecordError {
	if len(labels) != choices {
		return recordErr(loc, field, "%d labels for %d choices", len(labels), choices)
	}
	for i, l := range labels {
		for _, m := range labels[:i] {
			if l == m {
				return recordErr(loc, field, "label %q appears twice", l)
			}
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *converter) mmluCSV(r *raw) (Example, *RecordError) {
	if r.cols == nil {
		// A CSV with a header naming question, A, B, ... and answer.
		cols := []string{}
		for _, l := range letters(26) {
			if _, ok := r.fields[l]; !ok {
				break
			}
			cols = append(cols, l)
		}
		ex, rerr := c.mapped(r, fieldMap{question: "question", choices: cols, answer: "answer", subject: "subject"})
		if rerr == nil && ex.Subject == "" {
			ex.Subject = subjectFromFile(c.file)
		}
		return ex, rerr
	}
	if len(r.cols) != 6 {
		return Example{}, recordErr(r.loc, "", "%d fields, the MMLU CSV layout has 6 (question, A, B, C, D, answer)", len(r.cols))
	}
	fields := make(map[string]any, 6)
	for i, name := range mmluColumns {
		fields[name] = r.cols[i]
	}
	ex := Example{
		Subject:  subjectFromFile(c.file),
		Question: r.cols[0],
		Choices:  append([]string(nil), r.cols[1:5]...),
		Labels:   letters(4),
		Fields:   fields,
		Source:   r.loc,
	}
	a := strings.TrimSpace(r.cols[5])
	if len(a) != 1 || a[0] < 'A' || a[0] > 'D' {
		return ex, recordErr(r.loc, "answer", "unknown answer letter %q (want A, B, C or D)", r.cols[5])
	}
	ex.Answer = int(a[0] - 'A')
	return ex, nil
}

// subjectFromFile reads the subject from MMLU's <subject>_<split>.csv.
func subjectFromFile(path string) string {
	s := stem(path)
	for _, split := range []string{"_test", "_dev", "_val", "_validation", "_train", "_auxiliary_train"} {
		if strings.HasSuffix(s, split) {
			return strings.TrimSuffix(s, split)
		}
	}
	return s
}

func (c *converter) arc(r *raw) (Example, *RecordError) {
	ex := Example{Fields: r.fields, Source: r.loc}
	var rerr *RecordError
	if ex.Question, rerr = str(r, "question", true); rerr != nil {
		return ex, rerr
	}
	// HF ARC: choices {text: [...], label: [...]}. Some copies flatten it
	// to choices.text / choices.label columns.
	ch, ok := r.fields["choices"].(map[string]any)
	if !ok {
		if s, isStr := r.fields["choices"].(string); isStr && strings.HasPrefix(strings.TrimSpace(s), "{") {
			return ex, recordErr(r.loc, "choices", "a JSON object inside a CSV cell is not supported; convert to JSONL")
		}
		return ex, recordErr(r.loc, "choices", "want an object {text: [...], label: [...]}, got %s", typeName(r.fields["choices"]))
	}
	sub := &raw{fields: ch, loc: r.loc}
	if ex.Choices, rerr = strList(sub, "text"); rerr != nil {
		rerr.Field = "choices.text"
		return ex, rerr
	}
	if rerr := checkChoices(r.loc, "choices.text", ex.Choices); rerr != nil {
		return ex, rerr
	}
	if ex.Labels, rerr = strList(sub, "label"); rerr != nil {
		rerr.Field = "choices.label"
		return ex, rerr
	}
	if rerr := checkLabels(r.loc, "choices.label", ex.Labels, len(ex.Choices)); rerr != nil {
		return ex, rerr
	}
	key, rerr := str(r, "answerKey", true)
	if rerr != nil {
		return ex, rerr
	}
	ex.Answer = -1
	for i, l := range ex.Labels {
		if strings.TrimSpace(key) == l {
			ex.Answer = i
		}
	}
	if ex.Answer < 0 {
		return ex, recordErr(r.loc, "answerKey", "unknown answer label %q (labels are %s)", key, strings.Join(ex.Labels, ", "))
	}
	return ex, nil
}

func (c *converter) hellaswag(r *raw) (Example, *RecordError) {
	ex := Example{Fields: r.fields, Source: r.loc}
	var rerr *RecordError
	if _, ok := r.fields["ctx"]; ok {
		if ex.Question, rerr = str(r, "ctx", true); rerr != nil {
			return ex, rerr
		}
	} else {
		a, rerr := str(r, "ctx_a", true)
		if rerr != nil {
			return ex, rerr
		}
		b, rerr := str(r, "ctx_b", true)
		if rerr != nil {
			return ex, rerr
		}
		ex.Question = a + " " + b
	}
	if ex.Subject, rerr = str(r, "activity_label", false); rerr != nil {
		return ex, rerr
	}
	if ex.Choices, rerr = strList(r, "endings"); rerr != nil {
		return ex, rerr
	}
	if rerr := checkChoices(r.loc, "endings", ex.Choices); rerr != nil {
		return ex, rerr
	}
	ex.Labels = letters(len(ex.Choices))
	a, err := parseAnswer(r.fields["label"], ex.Choices, nil, false)
	if err != nil {
		return ex, recordErr(r.loc, "label", "%v", err)
	}
	ex.Answer = a
	return ex, nil
}

func (c *converter) piqa(r *raw) (Example, *RecordError) {
	ex := Example{Fields: r.fields, Source: r.loc}
	var rerr *RecordError
	if ex.Question, rerr = str(r, "goal", true); rerr != nil {
		return ex, rerr
	}
	for _, k := range []string{"sol1", "sol2"} {
		s, rerr := str(r, k, true)
		if rerr != nil {
			return ex, rerr
		}
		ex.Choices = append(ex.Choices, s)
	}
	ex.Labels = letters(2)
	label, field := r.fields["label"], "label"
	if r.hasLabel {
		if r.labelErr != nil {
			return ex, recordErr(r.loc, "label", "%v", r.labelErr)
		}
		label, field = r.label, "label ("+r.labelFrom+")"
	}
	a, err := parseAnswer(label, ex.Choices, nil, false)
	if err != nil {
		return ex, recordErr(r.loc, field, "%v", err)
	}
	ex.Answer = a
	return ex, nil
}

func (c *converter) mmluPro(r *raw) (Example, *RecordError) {
	ex := Example{Fields: r.fields, Source: r.loc}
	var rerr *RecordError
	if ex.Question, rerr = str(r, "question", true); rerr != nil {
		return ex, rerr
	}
	if ex.Subject, rerr = str(r, "category", false); rerr != nil {
		return ex, rerr
	}
	var opts []any
	var names []string
	if v, ok := r.fields["options"]; ok {
		list, ok := v.([]any)
		if !ok {
			return ex, recordErr(r.loc, "options", "want a list, got %s", typeName(v))
		}
		opts = list
		for i := range list {
			names = append(names, fmt.Sprintf("options[%d]", i))
		}
	} else {
		for i := 0; ; i++ {
			k := "option_" + strconv.Itoa(i)
			v, ok := r.fields[k]
			if !ok {
				break
			}
			opts = append(opts, v)
			names = append(names, k)
		}
	}
	// MMLU-Pro pads questions with fewer than ten options with empty or
	// "N/A" entries at the end; those are not choices. A gap followed by a
	// real option is an error, since the letters would shift.
	end := len(opts)
	for end > 0 && isPadding(opts[end-1]) {
		end--
	}
	for i := 0; i < end; i++ {
		if isPadding(opts[i]) {
			return ex, recordErr(r.loc, names[i], "empty option before option %d", end-1)
		}
		s, err := textOf(opts[i])
		if err != nil {
			return ex, recordErr(r.loc, names[i], "%v", err)
		}
		ex.Choices = append(ex.Choices, s)
	}
	if rerr := checkChoices(r.loc, "options", ex.Choices); rerr != nil {
		return ex, rerr
	}
	ex.Labels = letters(len(ex.Choices))
	idx, hasIdx := r.fields["answer_index"]
	letter, hasLetter := r.fields["answer"]
	if !hasIdx && !hasLetter {
		return ex, recordErr(r.loc, "answer", "missing (and no answer_index)")
	}
	ex.Answer = -1
	if hasIdx && idx != nil {
		a, err := parseAnswer(idx, ex.Choices, nil, false)
		if err != nil {
			return ex, recordErr(r.loc, "answer_index", "%v", err)
		}
		ex.Answer = a
	}
	if hasLetter && letter != nil {
		a, err := parseAnswer(letter, ex.Choices, ex.Labels, false)
		if err != nil {
			return ex, recordErr(r.loc, "answer", "%v", err)
		}
		if ex.Answer >= 0 && a != ex.Answer {
			return ex, recordErr(r.loc, "answer", "%v disagrees with answer_index %v", letter, idx)
		}
		ex.Answer = a
	}
	if ex.Answer < 0 {
		return ex, recordErr(r.loc, "answer", "missing")
	}
	return ex, nil
}

func isPadding(v any) bool {
	s, ok := v.(string)
	if v == nil {
		return true
	}
	return ok && (strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "N/A")
}

func (c *converter) generic(r *raw) (Example, *RecordError) {
	f := c.opts.Fields
	fm := fieldMap{
		id:       f["id"],
		subject:  f["subject"],
		question: cmpOr(f["question"], "question"),
		answer:   cmpOr(f["answer"], "answer"),
		labels:   f["labels"],
	}
	if ch := f["choices"]; ch != "" {
		for _, col := range strings.Split(ch, ",") {
			fm.choices = append(fm.choices, strings.TrimSpace(col))
		}
	} else {
		fm.choices = []string{"choices"}
	}
	return c.mapped(r, fm)
}

// str reads a string field. Numbers are accepted as their text, since CSV
// and JSON exports disagree on whether "42" is a number.
func str(r *raw, key string, required bool) (string, *RecordError) {
	v, ok := r.fields[key]
	if !ok || v == nil {
		if required {
			return "", recordErr(r.loc, key, "missing")
		}
		return "", nil
	}
	s, err := textOf(v)
	if err != nil {
		return "", recordErr(r.loc, key, "%v", err)
	}
	return s, nil
}

func textOf(v any) (string, error) {
	switch x := v.(type) {
	case unsupported:
		return "", fmt.Errorf("%s", string(x))
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "", fmt.Errorf("%v is not text", x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case nil:
		return "", fmt.Errorf("null")
	}
	return "", fmt.Errorf("want a string, got %s", typeName(v))
}

// strList reads a list of strings. A CSV cell holding a JSON array (as
// Convert writes them) is decoded.
func strList(r *raw, key string) ([]string, *RecordError) {
	v, ok := r.fields[key]
	if !ok || v == nil {
		return nil, recordErr(r.loc, key, "missing")
	}
	if u, ok := v.(unsupported); ok {
		return nil, recordErr(r.loc, key, "%s", string(u))
	}
	if s, isStr := v.(string); isStr {
		t := []byte(strings.TrimSpace(s))
		if len(t) == 0 || t[0] != '[' {
			return nil, recordErr(r.loc, key, "want a list, got a string")
		}
		d, err := decodeValue(t)
		if err != nil {
			return nil, recordErr(r.loc, key, "not a JSON list: invalid JSON: %v", err)
		}
		if bad, esc := loneSurrogateAt(t); bad >= 0 {
			return nil, recordErr(r.loc, key, "invalid UTF-16: lone surrogate %s", esc)
		}
		v = d
	}
	list, ok := v.([]any)
	if !ok {
		return nil, recordErr(r.loc, key, "want a list, got %s", typeName(v))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, err := textOf(e)
		if err != nil {
			return nil, recordErr(r.loc, key, "item %d: %v", i, err)
		}
		out[i] = s
	}
	return out, nil
}

func checkChoices(loc Location, field string, choices []string) *RecordError {
	switch len(choices) {
	case 0:
		return recordErr(loc, field, "no choices")
	case 1:
		return recordErr(loc, field, "only one choice")
	}
	return nil
}

// idOf returns the record's own id, or "<file stem>:<row>".
func idOf(r *raw, key string) (string, *RecordError) {
	v, ok := r.fields[key]
	if ok && v != nil {
		s, err := textOf(v)
		if err != nil {
			return "", recordErr(r.loc, key, "%v", err)
		}
		if strings.TrimSpace(s) != "" {
			return s, nil
		}
	}
	return fmt.Sprintf("%s:%d", stem(r.loc.File), r.loc.Row), nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case unsupported:
		return "a column that cannot be read (" + string(v.(unsupported)) + ")"
	}
	return fmt.Sprintf("%T", v)
}
