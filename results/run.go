package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names inside a run directory.
const (
	RunFile     = "run.json"
	JournalFile = "samples.jsonl"
)

// RunSchema versions run.json.
const RunSchema = "evalbench.run/v1"

// Run status values. run.json is rewritten when a session ends, however it
// ends, so only a process that died leaves "running" behind.
const (
	RunRunning  = "running"
	RunComplete = "complete"
	// RunPartial: some samples have no result yet, because the session
	// was interrupted, or because an interrupted earlier session left
	// examples that a later, smaller --limit no longer selects. Stopped
	// says which; running the command again resumes.
	RunPartial = "partial"
	// RunFailed: the session stopped on an error (a failed preflight
	// call, every first sample failing, a journal write); Stopped says
	// which.
	RunFailed = "failed"
)

// Run describes an evaluation run: what was asked for, and how far it got.
// It is written when a run starts and rewritten when it stops.
type Run struct {
	Schema   string   `json:"schema"`
	Version  string   `json:"evalbench_version,omitempty"`
	Settings Settings `json:"settings"`
	Status   string   `json:"status"`
	// Stopped says why the last session ended before every sample had a
	// result: "interrupted" (with the stage, when it was not scoring yet)
	// or the error. Empty when the run is complete or running.
	Stopped  string    `json:"stopped,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// WallSeconds adds up the time spent in every session of this run, so a
	// resumed run reports the work it really took.
	WallSeconds float64 `json:"wall_seconds"`
	// Examples is the number of dataset examples the run covers, per
	// model: those selected (after --limit), plus those an earlier session
	// journaled past a smaller --limit given since. The journal's examples
	// are always part of the run, so every journal line counts against
	// Examples and none is left out of the report.
	Examples int `json:"examples"`
	// Invalid lists dataset records skipped under --on-invalid skip.
	Invalid []Invalid `json:"invalid,omitempty"`
}

// Invalid is one dataset record that was skipped.
type Invalid struct {
	Error string `json:"error"`
}

// Settings are the resolved options of a run. Never holds the token.
type Settings struct {
	Models             []string `json:"models"`
	BaseURL            string   `json:"base_url"`
	Dataset            []string `json:"dataset"`
	DatasetFingerprint string   `json:"dataset_fingerprint"`
	Layout             string   `json:"layout"`
	Task               string   `json:"task"`
	FewShot            []string `json:"fewshot,omitempty"`
	FewShotFingerprint string   `json:"fewshot_fingerprint,omitempty"`
	Shots              int      `json:"shots"`
	Scoring            string   `json:"scoring"`
	Template           string   `json:"template"`
	TemplateHash       string   `json:"template_hash"`
	TopK               int      `json:"top_k"`
	Limit              int      `json:"limit,omitempty"`
	Concurrency        int      `json:"concurrency"`
	Rate               float64  `json:"rate,omitempty"`
	OnInvalid          string   `json:"on_invalid"`
}

// Mismatch lists, by name, the settings that change what a sample's result
// would be. A journal may only be resumed under identical values; anything
// else (concurrency, rate, limit, base URL) may change between sessions. A
// smaller limit never shrinks a run: what is journaled stays part of it
// (see Run.Examples).
func (s Settings) Mismatch(o Settings) []string {
	var diff []string
	add := func(name string, a, b any) {
		diff = append(diff, fmt.Sprintf("%s: journal has %v, this run has %v", name, a, b))
	}
	if !slices.Equal(s.Models, o.Models) {
		add("models", s.Models, o.Models)
	}
	if s.DatasetFingerprint != o.DatasetFingerprint {
		add("dataset fingerprint", short(s.DatasetFingerprint), short(o.DatasetFingerprint))
	}
	if s.Layout != o.Layout {
		add("layout", s.Layout, o.Layout)
	}
	if s.Scoring != o.Scoring {
		add("scoring", s.Scoring, o.Scoring)
	}
	if s.TemplateHash != o.TemplateHash {
		add("template", s.Template+"@"+short(s.TemplateHash), o.Template+"@"+short(o.TemplateHash))
	}
	if s.Shots != o.Shots {
		add("shots", s.Shots, o.Shots)
	}
	if s.FewShotFingerprint != o.FewShotFingerprint {
		add("fewshot fingerprint", short(s.FewShotFingerprint), short(o.FewShotFingerprint))
	}
	return diff
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// ReadRun loads run.json from a run directory.
func ReadRun(dir string) (*Run, error) {
	path := filepath.Join(dir, RunFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if r.Schema != RunSchema {
		return nil, fmt.Errorf("results: %s: field %q: unsupported schema %q (want %q)", path, "schema", r.Schema, RunSchema)
	}
	return &r, nil
}

// WriteRun writes run.json atomically, so a crash never leaves it half
// written.
func WriteRun(dir string, r *Run) error {
	r.Schema = RunSchema
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, RunFile), append(b, '\n'))
}

// WriteFileAtomic writes to a temporary file in the same directory, syncs it
// and renames it over path.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	tmp := f.Name()
	// CreateTemp makes the file owner-only; run files are meant to be read
	// by whoever reads the reports.
	cerr0 := f.Chmod(0o644)
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(cerr0, werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
