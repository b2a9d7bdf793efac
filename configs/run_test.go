package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestLoadRunGood(t *testing.T) {
	r, err := LoadRun("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r.Defaults()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := []string(r.Models); len(got) != 2 || got[1] != "demo:lora-a" {
		t.Fatalf("models %v", got)
	}
	// Relative paths resolve against the config's directory.
	if r.Dataset[0] != filepath.Join("testdata", "..", "data", "test.jsonl") && r.Dataset[0] != "data/test.jsonl" {
		t.Fatalf("dataset %v", r.Dataset)
	}
	if r.Simulator.TTFT != 20*time.Millisecond || r.Timeout != 30*time.Second || r.Rate != 50 {
		t.Fatalf("durations/rate: %+v", r)
	}
	if r.Where("scoring") != "testdata/good.yaml:7" {
		t.Fatalf("where scoring = %q", r.Where("scoring"))
	}
	if r.Where("simulator.ttft") != "testdata/good.yaml:16" {
		t.Fatalf("where simulator.ttft = %q", r.Where("simulator.ttft"))
	}
}

func TestLoadRunErrors(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"unknown_key.yaml", []string{"testdata/unknown_key.yaml", "line 3", "field scorng not found"}},
		{"wrong_type.yaml", []string{"testdata/wrong_type.yaml", "line 3", "many"}},
		{"empty.yaml", []string{"testdata/empty.yaml: empty config"}},
		{"missing.yaml", []string{"missing.yaml", "no such file"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadRun(filepath.Join("testdata", tc.file))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateNamesEveryKeyAndPlace(t *testing.T) {
	r, err := LoadRun("testdata/invalid_values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r.Defaults()
	r.Concurrency = 0
	r.SetBy("concurrency", "concurrency")
	err = r.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	want := []string{
		`configs: flag --concurrency: key "concurrency": 0 must be at least 1`,
		`configs: testdata/invalid_values.yaml:3: key "scoring": "lettr" is not one of letter, continuation`,
		`configs: testdata/invalid_values.yaml:4: key "shots": 3 shots need a few-shot source (--fewshot PATH)`,
		`configs: testdata/invalid_values.yaml:6: key "simulator.rate_429": 2 is not a fraction in [0, 1]`,
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

func TestValidateMissingEssentials(t *testing.T) {
	var r Run
	r.Defaults()
	err := r.Validate()
	if err == nil || !strings.Contains(err.Error(), `key "models": no model given`) || !strings.Contains(err.Error(), `key "dataset": no dataset given`) {
		t.Fatalf("got %v", err)
	}
}

// Every shipped config must load and validate. Configs for real endpoints
// leave the model to --model, as their comments say; the demo names its own.
func TestShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	want := []string{"demo.yaml", "mmlu-5shot.yaml", "piqa.yaml"}
	for _, w := range want {
		if !slices.Contains(files, w) {
			t.Errorf("shipped config %s is missing", w)
		}
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			r, err := LoadRun(f)
			if err != nil {
				t.Fatal(err)
			}
			if f == "demo.yaml" && (r.BaseURL != "sim" || len(r.Models) == 0) {
				t.Fatalf("the demo must run on the embedded simulator with its own models: %+v", r)
			}
			if len(r.Models) == 0 {
				r.Models = StringList{"endpoint-id"}
				r.SetBy("models", "model")
			}
			r.Defaults()
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, d := range append(append([]string{}, r.Dataset...), r.FewShot...) {
				if strings.HasPrefix(d, filepath.Join("..", "..", "shared")) {
					continue // full data beside the checkout, not shipped
				}
				if _, err := os.Stat(d); err != nil {
					t.Errorf("dataset %s: %v", d, err)
				}
			}
		})
	}
}

// parseCheck parses the template keys with text/template alone; the real
// check, with the scorers' functions, is wired in the command (cmd_run.go).
func parseCheck(r *Run) (string, string) {
	for _, kv := range []struct{ key, text string }{{"template", r.Template}, {"description", deref(r.Description)}} {
		if _, err := template.New(kv.key).Funcs(template.FuncMap{"strip": strings.TrimSpace, "upper": strings.ToUpper}).Parse(kv.text); err != nil {
			return kv.key, err.Error()
		}
	}
	return "", ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Checks given to Validate report against the key's place, with every other
// problem, in one pass.
func TestValidateRunsChecksAtTheKeysLine(t *testing.T) {
	r, err := LoadRun("testdata/bad_template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r.Defaults()
	r.Rate = -1
	r.SetBy("rate", "rate")
	err = r.Validate(parseCheck)
	want := `configs: flag --rate: key "rate": -1 is negative` + "\n" +
		`configs: testdata/bad_template.yaml:5: key "template": template: template:2: unclosed action`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	r.Rate = 0
	r.Template = "Q: {{strip .Question}}"
	if err := r.Validate(parseCheck); err != nil {
		t.Fatalf("a good template: %v", err)
	}
	// A description is the opening line of a custom template; without one
	// it would be silently ignored.
	r.Template = ""
	want = `configs: testdata/bad_template.yaml:8: key "description": replaces the opening line of a custom template; set template too`
	if err := r.Validate(parseCheck); err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}
