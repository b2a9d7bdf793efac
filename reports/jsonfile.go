package reports

import (
	"fmt"
	"io"
)

// WriteJSON writes report.json: the Report as JSON, with a final newline.
func WriteJSON(w io.Writer, r *Report) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("reports: write report.json: %w", err)
	}
	return nil
}
