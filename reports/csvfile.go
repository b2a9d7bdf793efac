package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// WriteSubjectsCSV writes subjects.csv: one row per model and subject, models
// in settings order and subjects by name. Undefined figures are empty cells.
func WriteSubjectsCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"model", "subject", "group", "n", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "failed"}}
	for _, run := range r.Runs {
		for _, name := range sortedKeys(run.Subjects) {
			s := run.Subjects[name]
			rows = append(rows, []string{
				run.Model, name, s.Group, strconv.Itoa(s.N),
				csvFloat(s.Acc), csvFloat(s.AccStderr), csvFloat(s.AccNorm), csvFloat(s.AccNormStderr),
				strconv.Itoa(s.Failed),
			})
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("reports: write subjects.csv: %w", err)
	}
	return nil
}

func csvFloat(f Float) string {
	if !f.Valid() {
		return ""
	}
	return strconv.FormatFloat(float64(f), 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
