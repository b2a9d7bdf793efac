package scorers

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"unicode"

	"github.com/evalbench/evalbench/datasets"
)

var update = flag.Bool("update", false, "rewrite golden files")

// documentedMMLU renders lm-eval's MMLU prompt straight from the template
// in lm_eval/tasks/mmlu/default/_default_template_yaml and the TaskConfig
// defaults (target_delimiter " ", fewshot_delimiter "\n\n"), written out
// independently of Prompt so the two can check each other.
func documentedMMLU(t *testing.T, ex datasets.Example, shots []datasets.Example) string {
	t.Helper()
	docToText := template.Must(template.New("doc").Funcs(template.FuncMap{"strip": strings.TrimSpace}).Parse(
		"{{strip .question}}\nA. {{index .choices 0}}\nB. {{index .choices 1}}\nC. {{index .choices 2}}\nD. {{index .choices 3}}\nAnswer:"))
	render := func(e datasets.Example) string {
		var b bytes.Buffer
		if err := docToText.Execute(&b, map[string]any{"question": e.Question, "choices": e.Choices}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	subject := strings.Join(strings.Split(ex.Subject, "_"), " ")
	out := "The following are multiple choice questions (with answers) about " + subject + ".\n\n"
	for _, s := range shots {
		out += render(s) + " " + []string{"A", "B", "C", "D"}[s.Answer] + "\n\n"
	}
	return out + render(ex)
}

func TestMMLUPromptMatchesDocumentedTemplate(t *testing.T) {
	fs := fewShot(t)
	exs := readExamples(t, sampleTest, 0)
	p := mmluPrompt()
	for _, shots := range []int{0, 5} {
		for _, ex := range exs {
			sh := fs.ForExample(&ex, shots)
			got, err := p.Context(&ex, sh, func(s *datasets.Example) string { return labelOf(s, s.Answer) })
			if err != nil {
				t.Fatal(err)
			}
			if want := documentedMMLU(t, ex, sh); got != want {
				t.Fatalf("%s, %d shots:\n got %q\nwant %q", ex.ID, shots, got, want)
			}
		}
	}
}

// The golden file pins the exact bytes of one 5-shot prompt, so a change to
// the template (or to the sample data) is seen in review.
func TestMMLUPromptGolden(t *testing.T) {
	ex := readExamples(t, sampleTest, 1)[0]
	sh := fewShot(t).ForExample(&ex, 5)
	got, err := mmluPrompt().Context(&ex, sh, func(s *datasets.Example) string { return labelOf(s, s.Answer) })
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "mmlu_abstract_algebra_5shot.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./scorers -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("prompt differs from %s:\n got %q\nwant %q", golden, got, want)
	}
	if !strings.HasPrefix(got, "The following are multiple choice questions (with answers) about abstract algebra.\n\nFind all c in Z_3") ||
		!strings.HasSuffix(got, "\nD. 6\nAnswer:") || strings.Count(got, "\nAnswer:") != 6 {
		t.Fatalf("prompt does not have the documented shape: %q", got)
	}
}

func TestPrompts(t *testing.T) {
	cases := []struct {
		name    string
		prompt  *Prompt
		ex      datasets.Example
		doc     string
		choices []string
	}{
		{
			name:    "arc",
			prompt:  questionAnswerPrompt("arc"),
			ex:      datasets.Example{Question: "Which gas do plants absorb?", Choices: []string{"oxygen", "carbon dioxide"}},
			doc:     "Question: Which gas do plants absorb?\nAnswer:",
			choices: []string{"oxygen", "carbon dioxide"},
		},
		{
			name:    "piqa",
			prompt:  questionAnswerPrompt("piqa"),
			ex:      datasets.Example{Question: "To open a jar,", Choices: []string{"twist the lid.", "freeze it."}},
			doc:     "Question: To open a jar,\nAnswer:",
			choices: []string{"twist the lid.", "freeze it."},
		},
		{
			name:   "hellaswag",
			prompt: hellaswagPrompt(),
			ex: datasets.Example{
				Subject: "Removing ice from car", Question: "ignored when ctx_a/ctx_b exist",
				Choices: []string{" then, the man writes over the snow [title] covering the window.", "the man stops  and cries."},
				Fields:  map[string]any{"ctx_a": "Then, the man writes over the snow covering the window of a car.", "ctx_b": "a WOMAN wearing winter clothes"},
			},
			doc:     "Removing ice from car: Then, the man writes over the snow covering the window of a car. A woman wearing winter clothes",
			choices: []string{"then, the man writes over the snow. covering the window.", "the man stops and cries."},
		},
		{
			// lm-eval's doc_to_text is "{{question.strip()}}\nA. {{choices[0]}}...":
			// Python's strip (which also strips U+001C..U+001F) on the question,
			// the choices exactly as they are.
			name:    "mmlu strips the question as Python does and never the choices",
			prompt:  mmluPrompt(),
			ex:      datasets.Example{Question: "\x1f What is 2+2?\u3000\x1c", Choices: []string{" 4", "5 ", "\t6", "7\n"}},
			doc:     "What is 2+2?\nA.  4\nB. 5 \nC. \t6\nD. 7\n\nAnswer:",
			choices: []string{" 4", "5 ", "\t6", "7\n"},
		},
		{
			// Expected values from CPython 3.11: lm-eval's hellaswag preprocess
			// and str.capitalize, which title-cases the first character.
			name:   "hellaswag strips and capitalizes as Python does",
			prompt: hellaswagPrompt(),
			ex: datasets.Example{
				Subject: "Jungle trip", Choices: []string{"\x1c the end [step] here.\x1d"},
				Fields: map[string]any{"ctx_a": "We walk in.\x1e", "ctx_b": "\u01c6ungle PATH\x1f"},
			},
			doc:     "Jungle trip: We walk in.\x1e \u01c5ungle path",
			choices: []string{"the end here."},
		},
		{
			name:    "mmlu continuation",
			prompt:  mmluContinuationPrompt(),
			ex:      datasets.Example{Subject: "high_school_geography", Question: "\x1d Where is Paris? \x1c", Choices: []string{"France", "Peru"}},
			doc:     "Question: Where is Paris?\nAnswer:",
			choices: []string{"France", "Peru"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.prompt.Doc(&tc.ex)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.doc {
				t.Errorf("doc:\n got %q\nwant %q", got, tc.doc)
			}
			if gc := tc.prompt.Choices(&tc.ex); strings.Join(gc, "|") != strings.Join(tc.choices, "|") {
				t.Errorf("choices: got %q want %q", gc, tc.choices)
			}
		})
	}
}

func TestCustomTemplate(t *testing.T) {
	desc := "Subject: {{.SubjectText}}\n\n"
	p, err := CustomPrompt("Q: {{strip .Question}}\n{{range $i, $c := .Choices}}{{index $.Labels $i}}) {{$c}}\n{{end}}A:", &desc, Letter)
	if err != nil {
		t.Fatal(err)
	}
	ex := datasets.Example{Subject: "world_religions", Question: " Who? ", Choices: []string{"x", "y"}, Labels: []string{"A", "B"}, Answer: 1}
	got, err := p.Context(&ex, []datasets.Example{ex}, func(s *datasets.Example) string { return labelOf(s, s.Answer) })
	if err != nil {
		t.Fatal(err)
	}
	want := "Subject: world religions\n\nQ: Who?\nA) x\nB) y\nA: B\n\nQ: Who?\nA) x\nB) y\nA:"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if other, _ := CustomPrompt("Q: {{.Question}}", nil, Letter); other.Hash() == p.Hash() {
		t.Fatal("different templates must hash differently: resume depends on it")
	}
	if _, err := CustomPrompt("{{.Nope", nil, Letter); err == nil || !strings.Contains(err.Error(), "scorers: template") {
		t.Fatalf("a broken template must fail to parse with its name: %v", err)
	}
	bad, _ := CustomPrompt("{{.Missing}}", nil, Letter)
	if _, err := bad.Doc(&ex); err == nil {
		t.Fatal("a template naming an unknown field must fail, not render <no value>")
	}
}

func TestSplitContext(t *testing.T) {
	cases := []struct{ ctx, cont, wantCtx, wantCont string }{
		{"Answer:", " A", "Answer:", " A"},
		{"Answer: ", "A", "Answer:", " A"},
		{"Q\n\n", "x", "Q", "\n\nx"},
		{"", " A", "", " A"},
		// Python's rstrip is Unicode-aware and counts U+001C..U+001F as
		// whitespace; a zero-width space is not whitespace to it.
		{"Answer:\x1c", " A", "Answer:", "\x1c A"},
		{"Answer:\u3000\u00a0", " A", "Answer:", "\u3000\u00a0 A"},
		{"Answer:\u2028", "x", "Answer:", "\u2028x"},
		{"Answer:\u200b", " A", "Answer:\u200b", " A"},
		{" \x1f\n", "x", "", " \x1f\nx"},
	}
	for _, tc := range cases {
		c, k := splitContext(tc.ctx, tc.cont)
		if c != tc.wantCtx || k != tc.wantCont {
			t.Errorf("splitContext(%q, %q) = %q, %q", tc.ctx, tc.cont, c, k)
		}
	}
}

func TestArgmaxTiesGoToLowestIndex(t *testing.T) {
	cases := []struct {
		v    []float64
		norm []int
		want int
	}{
		{[]float64{-1, -1, -2}, nil, 0},
		{[]float64{-3, -1, -1}, nil, 1},
		{[]float64{-4, -3}, []int{4, 1}, 0}, // -1 vs -3 per char
		{[]float64{-2, -2}, []int{1, 1}, 0},
	}
	for _, tc := range cases {
		if got := argmax(tc.v, tc.norm); got != tc.want {
			t.Errorf("argmax(%v, %v) = %d, want %d", tc.v, tc.norm, got, tc.want)
		}
	}
}

// Every code point Python's str.isspace accepts, and no other, is space to
// pyIsSpace: lm-eval strips and splits with Python's str methods.
func TestPyIsSpaceMatchesPython(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "python_isspace.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[rune]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r rune
		if _, err := fmt.Sscanf(line, "0x%x", &r); err != nil {
			t.Fatalf("python_isspace.txt: %q: %v", line, err)
		}
		want[r] = true
	}
	if len(want) < 25 {
		t.Fatalf("python_isspace.txt holds %d code points: damaged?", len(want))
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if pyIsSpace(r) != want[r] {
			t.Errorf("pyIsSpace(%U) = %v, Python's isspace says %v", r, pyIsSpace(r), want[r])
		}
	}
}

func TestPyStrip(t *testing.T) {
	cases := []struct{ in, strip, rstrip string }{
		{"  a b  ", "a b", "  a b"},
		{"\x1c\x1d a \x1e\x1f", "a", "\x1c\x1d a"},
		{"\u3000a\u2029", "a", "\u3000a"},
		{"\u200ba\u200b", "\u200ba\u200b", "\u200ba\u200b"},
		{"", "", ""},
	}
	for _, tc := range cases {
		if got := pyStrip(tc.in); got != tc.strip {
			t.Errorf("pyStrip(%q) = %q, want %q", tc.in, got, tc.strip)
		}
		if got := pyRstrip(tc.in); got != tc.rstrip {
			t.Errorf("pyRstrip(%q) = %q, want %q", tc.in, got, tc.rstrip)
		}
	}
}

// The template's strip is Python's, as lm-eval's {{question.strip()}} is.
func TestCustomTemplateStripIsPythons(t *testing.T) {
	p, err := CustomPrompt("{{strip .Question}}|", nil, Letter)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Doc(&datasets.Example{Question: "\x1f Who? \x1c", Choices: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got != "Who?|" {
		t.Fatalf("got %q", got)
	}
}

// A template that does not parse is refused with the part and the line, so
// a config can name the key before anything starts.
func TestCheckTemplate(t *testing.T) {
	bad := "{{upper .Subject"
	good := "About {{.SubjectText}}\n\n"
	cases := []struct {
		name string
		doc  string
		desc *string
		part string
		line int
		msg  string
	}{
		{"good", "Q: {{strip .Question}}\n{{join .Choices \", \"}}\nAnswer:", &good, "", 0, ""},
		{"unclosed action", "Q: {{.Question}}\n{{.Nope", nil, "template", 2, "unclosed action"},
		{"unknown function", "{{title .Question}}", nil, "template", 1, `function "title" not defined`},
		{"bad description", "{{.Question}}", &bad, "description", 1, "unclosed action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTemplate(tc.doc, tc.desc)
			if tc.part == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var te *TemplateError
			if !errors.As(err, &te) || te.Part != tc.part || te.Line != tc.line || te.Msg != tc.msg {
				t.Fatalf("got %#v (%v), want %s line %d: %s", te, err, tc.part, tc.line, tc.msg)
			}
			if _, err := CustomPrompt(tc.doc, tc.desc, Letter); err == nil || err.Error() != te.Error() {
				t.Fatalf("CustomPrompt says %v, CheckTemplate %v", err, te)
			}
		})
	}
}
