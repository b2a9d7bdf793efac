package datasets

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// maxListedInvalid caps how many bad records a summary lists; the count is
// always exact.
const maxListedInvalid = 50

// Summary describes a dataset: what Inspect reports.
type Summary struct {
	Layout   Layout      `json:"layout"`
	Files    []string    `json:"files"`
	Rows     int         `json:"rows"`
	Valid    int         `json:"valid"`
	Invalid  int         `json:"invalid"`
	Errors   []string    `json:"errors"`
	Subjects []Count     `json:"subjects"`
	Choices  []Count     `json:"choices_per_question"`
	Answers  []Count     `json:"answers"`
	Samples  []SampleRow `json:"samples"`
	Fatal    string      `json:"fatal,omitempty"`
}

// Count is one bucket of a distribution.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// SampleRow is an example as shown by inspect.
type SampleRow struct {
	ID       string   `json:"id"`
	Subject  string   `json:"subject,omitempty"`
	Question string   `json:"question"`
	Choices  []string `json:"choices"`
	Answer   string   `json:"answer"`
}

// InvalidCount is the number of bad records, fatal ones included.
func (s *Summary) InvalidCount() int {
	if s.Fatal != "" {
		return s.Invalid + 1
	}
	return s.Invalid
}

// Inspect reads every record and summarises the dataset. Under Skip (what
// the inspect command uses) every bad record is counted and listed; a
// problem with a whole file (or with the paths, or the options) ends the
// listing and is reported as Fatal, so the summary is always complete and
// a JSON consumer always gets a whole document. The error is non-nil only
// when ctx is done.
func Inspect(ctx context.Context, paths []string, opts Options) (*Summary, error) {
	s := &Summary{Files: []string{}, Errors: []string{}, Subjects: []Count{}, Choices: []Count{}, Answers: []Count{}, Samples: []SampleRow{}}
	files, err := resolve(paths)
	if err != nil {
		s.Fatal = err.Error()
		return s, nil
	}
	for _, f := range files {
		s.Files = append(s.Files, displayName(f))
	}
	r, err := Open(ctx, paths, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.Fatal = err.Error()
		return s, nil
	}
	defer r.Close()
	subjects := map[string]int{}
	choices := map[string]int{}
	answers := map[string]int{}
	for {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			s.Fatal = err.Error()
			break
		}
		s.Valid++
		subjects[ex.Subject]++
		choices[fmt.Sprint(len(ex.Choices))]++
		answers[ex.Labels[ex.Answer]]++
		if len(s.Samples) < 3 {
			s.Samples = append(s.Samples, SampleRow{ID: ex.ID, Subject: ex.Subject, Question: ex.Question, Choices: ex.Choices, Answer: ex.Labels[ex.Answer]})
		}
	}
	s.Layout = r.Layout()
	for _, e := range r.Skipped() {
		s.Invalid++
		if len(s.Errors) < maxListedInvalid {
			s.Errors = append(s.Errors, e.Error())
		}
	}
	s.Rows = s.Valid + s.Invalid
	s.Subjects = sorted(subjects, false)
	s.Choices = sorted(choices, true)
	s.Answers = sorted(answers, true)
	return s, nil
}

// sorted orders a distribution by key (numerically when byKey and the keys
// are numbers) or by count, largest first.
func sorted(m map[string]int, byKey bool) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if byKey {
			if len(out[i].Key) != len(out[j].Key) {
				return len(out[i].Key) < len(out[j].Key)
			}
			return out[i].Key < out[j].Key
		}
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// WriteText writes the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("layout\t%s\n", orNone(string(s.Layout)))
	p("files\t%d\n", len(s.Files))
	for _, f := range s.Files {
		p("\t%s\n", f)
	}
	p("rows\t%d (%d valid, %d invalid)\n", s.Rows, s.Valid, s.Invalid)
	tw.Flush()

	fmt.Fprintf(w, "\nsubjects (%d)\n", len(s.Subjects))
	for _, c := range s.Subjects {
		p("  %s\t%d\n", orNone(c.Key), c.N)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nchoices per question")
	histogram(tw, s.Choices, s.Valid)
	fmt.Fprintln(w, "\nanswer distribution")
	histogram(tw, s.Answers, s.Valid)

	fmt.Fprintln(w, "\nsamples")
	for _, r := range s.Samples {
		fmt.Fprintf(w, "  [%s] %s\n", r.ID, oneLine(r.Question, 100))
		for i, c := range r.Choices {
			fmt.Fprintf(w, "      %d. %s\n", i, oneLine(c, 80))
		}
		fmt.Fprintf(w, "      answer: %s\n", r.Answer)
	}
	fmt.Fprintln(w, "\nvalidation")
	if s.Invalid == 0 && s.Fatal == "" {
		fmt.Fprintln(w, "  all records valid")
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if n := s.Invalid - len(s.Errors); n > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", n)
	}
	if s.Fatal != "" {
		fmt.Fprintf(w, "  stopped: %s\n", s.Fatal)
	}
	return nil
}

func histogram(tw *tabwriter.Writer, cs []Count, total int) {
	for _, c := range cs {
		bar := 0
		if total > 0 {
			bar = c.N * 40 / total
		}
		fmt.Fprintf(tw, "  %s\t%d\t%5.1f%%\t%s\n", c.Key, c.N, 100*float64(c.N)/float64(max(total, 1)), strings.Repeat("#", bar))
	}
	tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
