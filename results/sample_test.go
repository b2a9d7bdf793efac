package results

import (
	"math"
	"strings"
	"testing"
)

func TestSampleValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Sample)
		want   string // "" = valid
	}{
		{"ok", func(*Sample) {}, ""},
		{"failed with reason", func(s *Sample) { s.Status = StatusFailed; s.Error = "short logprobs"; s.LogLik = nil }, ""},
		{"failed without reason", func(s *Sample) { s.Status = StatusFailed }, `field "error"`},
		{"unknown status", func(s *Sample) { s.Status = "maybe" }, `unknown status "maybe"`},
		{"no id", func(s *Sample) { s.ID = "" }, `field "id"`},
		{"no model", func(s *Sample) { s.Model = "" }, `field "model"`},
		{"loglik count", func(s *Sample) { s.LogLik = s.LogLik[:3] }, "3 values for 4 choices"},
		{"charlen count", func(s *Sample) { s.CharLen = nil }, `field "char_len"`},
		{"greedy count", func(s *Sample) { s.Greedy = []bool{true} }, `field "greedy"`},
		{"NaN", func(s *Sample) { s.LogLik[2] = math.NaN() }, "choice 2: invalid log-likelihood NaN"},
		{"positive", func(s *Sample) { s.LogLik[0] = 0.5 }, "choice 0: invalid"},
		{"gold range", func(s *Sample) { s.Gold = 4 }, `field "gold": 4 out of range`},
		{"pred range", func(s *Sample) { s.Pred = -1 }, `field "pred"`},
		{"one choice", func(s *Sample) { s.NumChoices = 1 }, "1 choices"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := okSample("demo", "q0")
			tc.mutate(s)
			err := s.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSettingsMismatch(t *testing.T) {
	base := Settings{Models: []string{"demo"}, DatasetFingerprint: "abc", Scoring: "letter", TemplateHash: "t1", Shots: 5, Concurrency: 16}
	same := base
	same.Concurrency = 64 // operational settings may change between sessions
	same.Limit = 10
	if d := base.Mismatch(same); len(d) != 0 {
		t.Fatalf("unexpected mismatch %v", d)
	}
	other := base
	other.Scoring = "continuation"
	other.Shots = 0
	d := base.Mismatch(other)
	if len(d) != 2 || !strings.Contains(d[0], "scoring: journal has letter, this run has continuation") {
		t.Fatalf("mismatch %v", d)
	}
}

func TestRunRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := &Run{Status: RunComplete, Settings: Settings{Models: []string{"demo"}}, Examples: 7}
	if err := WriteRun(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != RunSchema || got.Examples != 7 || got.Status != RunComplete {
		t.Fatalf("%+v", got)
	}
	if _, err := ReadRun(t.TempDir()); err == nil {
		t.Fatal("missing run.json should fail")
	}
}
