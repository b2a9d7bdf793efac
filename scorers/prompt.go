package scorers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/evalbench/evalbench/datasets"
)

// Prompt builds the text of a question and its choices, as lm-eval's task
// configs do (description, doc_to_text, doc_to_choice, delimiters).
type Prompt struct {
	Name string
	// describe returns the opening line (lm-eval's description), or "".
	describe func(ex *datasets.Example) (string, error)
	// doc returns the question text, lm-eval's doc_to_text.
	doc func(ex *datasets.Example) (string, error)
	// choices returns the choice texts scored by the continuation method,
	// lm-eval's doc_to_choice.
	choices func(ex *datasets.Example) []string
	// source is hashed into the run fingerprint, so a changed template is
	// never resumed onto old samples.
	source string
}

// Delimiters, as lm-eval's TaskConfig defaults.
const (
	TargetDelimiter  = " "
	FewShotDelimiter = "\n\n"
)

// Hash identifies the prompt's definition.
func (p *Prompt) Hash() string {
	h := sha256.Sum256([]byte(p.Name + "\x00" + p.source))
	return hex.EncodeToString(h[:])
}

// Doc renders one example's question text.
func (p *Prompt) Doc(ex *datasets.Example) (string, error) { return p.doc(ex) }

// Description renders the opening line for an example's subject.
func (p *Prompt) Description(ex *datasets.Example) (string, error) {
	if p.describe == nil {
		return "", nil
	}
	return p.describe(ex)
}

// Choices returns the choice texts of an example.
func (p *Prompt) Choices(ex *datasets.Example) []string { return p.choices(ex) }

// Context assembles description, few-shot examples and the question:
// description + Σ(doc(shot) + " " + target(shot) + "\n\n") + doc(ex).
// target gives the text that answers a shot (its label or its choice text).
func (p *Prompt) Context(ex *datasets.Example, shots []datasets.Example, target func(*datasets.Example) string) (string, error) {
	var b strings.Builder
	d, err := p.Description(ex)
	if err != nil {
		return "", err
	}
	b.WriteString(d)
	for i := range shots {
		s := &shots[i]
		q, err := p.doc(s)
		if err != nil {
			return "", fmt.Errorf("few-shot %s: %w", s.ID, err)
		}
		b.WriteString(q)
		b.WriteString(TargetDelimiter)
		b.WriteString(target(s))
		b.WriteString(FewShotDelimiter)
	}
	q, err := p.doc(ex)
	if err != nil {
		return "", err
	}
	b.WriteString(q)
	return b.String(), nil
}

// PromptFor returns the built-in prompt of a task for a scoring method.
// Letter scoring always uses the lettered MMLU layout; continuation scoring
// uses the task's cloze prompt.
func PromptFor(task string, method Method) (*Prompt, error) {
	if method == Letter {
		return mmluPrompt(), nil
	}
	switch task {
	case "mmlu":
		return mmluContinuationPrompt(), nil
	case "arc", "piqa", "generic":
		return questionAnswerPrompt(task), nil
	case "hellaswag":
		return hellaswagPrompt(), nil
	}
	return nil, fmt.Errorf("scorers: unknown task %q", task)
}

// subjectText turns "high_school_us_history" into "high school us history",
// as lm-eval's _generate_configs.py does.
func subjectText(s string) string { return strings.Join(strings.Split(s, "_"), " ") }

func choiceTexts(ex *datasets.Example) []string { return ex.Choices }

// mmluPrompt is lm-eval's default MMLU template, generalised from four
// choices to however many labels the example has.
func mmluPrompt() *Prompt {
	return &Prompt{
		Name: "mmlu",
		describe: func(ex *datasets.Example) (string, error) {
			if ex.Subject == "" {
				return "The following are multiple choice questions (with answers).\n\n", nil
			}
			return "The following are multiple choice questions (with answers) about " + subjectText(ex.Subject) + ".\n\n", nil
		},
		doc: func(ex *datasets.Example) (string, error) {
			var b strings.Builder
			// lm-eval strips the question ({{question.strip()}}), never the
			// choices.
			b.WriteString(pyStrip(ex.Question))
			for i, c := range ex.Choices {
				b.WriteString("\n")
				b.WriteString(labelOf(ex, i))
				b.WriteString(". ")
				b.WriteString(c)
			}
			b.WriteString("\nAnswer:")
			return b.String(), nil
		},
		choices: choiceTexts,
		source:  "v1",
	}
}

// mmluContinuationPrompt is lm-eval's mmlu_continuation (cloze) variant.
func mmluContinuationPrompt() *Prompt {
	return &Prompt{
		Name: "mmlu-continuation",
		describe: func(ex *datasets.Example) (string, error) {
			if ex.Subject == "" {
				return "", nil
			}
			return "The following are questions (with answers) about " + subjectText(ex.Subject) + ".\n\n", nil
		},
		doc: func(ex *datasets.Example) (string, error) {
			return "Question: " + pyStrip(ex.Question) + "\nAnswer:", nil
		},
		choices: choiceTexts,
		source:  "v1",
	}
}

// questionAnswerPrompt is lm-eval's ARC and PIQA prompt:
// "Question: {{question}}\nAnswer:" with the choice texts as continuations.
func questionAnswerPrompt(task string) *Prompt {
	return &Prompt{
		Name: task,
		doc: func(ex *datasets.Example) (string, error) {
			return "Question: " + ex.Question + "\nAnswer:", nil
		},
		choices: choiceTexts,
		source:  "v1",
	}
}

// hellaswagPrompt follows lm-eval's hellaswag utils.py: the query is
// preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()) and the
// choices are the preprocessed endings.
func hellaswagPrompt() *Prompt {
	return &Prompt{
		Name: "hellaswag",
		doc: func(ex *datasets.Example) (string, error) {
			ctx := ex.Question
			a, aok := ex.Fields["ctx_a"].(string)
			b, bok := ex.Fields["ctx_b"].(string)
			if aok && bok {
				ctx = a + " " + pyCapitalize(b)
			}
			if ex.Subject != "" {
				ctx = ex.Subject + ": " + ctx
			}
			return hellaswagPreprocess(ctx), nil
		},
		choices: func(ex *datasets.Example) []string {
			out := make([]string, len(ex.Choices))
			for i, c := range ex.Choices {
				out[i] = hellaswagPreprocess(c)
			}
			return out
		},
		source: "v1",
	}
}

var bracketed = regexp.MustCompile(`\[.*?\]`)

func hellaswagPreprocess(s string) string {
	s = pyStrip(s)
	// Brackets are artifacts of the WikiHow part of HellaSwag.
	s = strings.ReplaceAll(s, " [title]", ". ")
	s = bracketed.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "  ", " ")
}

// pyCapitalize mirrors Python's str.capitalize: the first character in
// title case (Python 3.8 and later: "ǆ" becomes "ǅ", not "Ǆ"), the rest lower.
// Matching it matters, since lm-eval's prompts are built with it. Python
// also applies the full mappings of SpecialCasing.txt ("ß" becomes "Ss", a
// final "Σ" becomes "ς", "İ" becomes "i̇"); Go's simple mappings do not, which
// only matters for text outside HellaSwag's English.
func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
}

func labelOf(ex *datasets.Example, i int) string {
	if i < len(ex.Labels) && ex.Labels[i] != "" {
		return ex.Labels[i]
	}
	return string(rune('A' + i))
}

// TemplateData is what a custom template sees.
type TemplateData struct {
	Subject     string // as in the data, e.g. "high_school_biology"
	SubjectText string // "high school biology"
	Question    string // as in the data; use {{strip .Question}} to trim
	Choices     []string
	Labels      []string
	Fields      map[string]any
}

// TemplateError is a custom prompt template that does not parse.
type TemplateError struct {
	// Part is "template" or "description", the config keys of the two.
	Part string
	// Line is the line within that text, or 0 when the parser gave none.
	Line int
	Msg  string
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("scorers: %s line %d: %s", e.Part, e.Line, e.Msg)
	}
	return fmt.Sprintf("scorers: %s: %s", e.Part, e.Msg)
}

// templateFuncs are the functions a custom template may call.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// Python's strip, as lm-eval's {{question.strip()}}.
		"strip": pyStrip,
		"join":  strings.Join,
		"add":   func(a, b int) int { return a + b },
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
	}
}

// parseErrLine takes text/template's "template: NAME:LINE: message" apart.
var parseErrLine = regexp.MustCompile(`^template: [^:]*:(\d+): (.*)$`)

func parseTemplate(part, text string) (*template.Template, error) {
	t, err := template.New(part).Funcs(templateFuncs()).Option("missingkey=error").Parse(text)
	if err != nil {
		te := &TemplateError{Part: part, Msg: err.Error()}
		if m := parseErrLine.FindStringSubmatch(err.Error()); m != nil {
			te.Line, _ = strconv.Atoi(m[1])
			te.Msg = m[2]
		}
		return nil, te
	}
	return t, nil
}

// CheckTemplate parses a custom template and description as CustomPrompt
// does, so that a config can be refused before anything starts. The error
// is a *TemplateError.
func CheckTemplate(doc string, description *string) error {
	if _, err := parseTemplate("template", doc); err != nil {
		return err
	}
	if description != nil {
		if _, err := parseTemplate("description", *description); err != nil {
			return err
		}
	}
	return nil
}

// CustomPrompt builds a prompt from Go text/templates: doc renders one
// question (lm-eval's doc_to_text) and description, if non-nil, the opening
// line. Functions: strip (Python's str.strip), join, add, upper, lower. A
// template that does not parse is a *TemplateError.
func CustomPrompt(doc string, description *string, method Method) (*Prompt, error) {
	dt, err := parseTemplate("template", doc)
	if err != nil {
		return nil, err
	}
	base, err := PromptFor("generic", method)
	if err != nil {
		return nil, err
	}
	p := &Prompt{Name: "custom", choices: base.choices, source: doc}
	render := func(t *template.Template, ex *datasets.Example) (string, error) {
		labels := make([]string, len(ex.Choices))
		for i := range labels {
			labels[i] = labelOf(ex, i)
		}
		var buf bytes.Buffer
		err := t.Execute(&buf, TemplateData{
			Subject: ex.Subject, SubjectText: subjectText(ex.Subject),
			Question: ex.Question, Choices: ex.Choices, Labels: labels, Fields: ex.Fields,
		})
		if err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
		return buf.String(), nil
	}
	p.doc = func(ex *datasets.Example) (string, error) { return render(dt, ex) }
	if description != nil {
		desc, err := parseTemplate("description", *description)
		if err != nil {
			return nil, err
		}
		p.describe = func(ex *datasets.Example) (string, error) { return render(desc, ex) }
		p.source += "\x00" + *description
	} else if method == Letter {
		p.describe = mmluPrompt().describe
	}
	return p, nil
}
