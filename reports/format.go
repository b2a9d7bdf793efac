package reports

import (
	"fmt"
	"strings"
)

// Text formatting shared by the Markdown, HTML and terminal writers.

func fmtP(f Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.4f", float64(f))
}

func fmtPM(v, se Float) string {
	if !v.Valid() {
		return "N/A"
	}
	return fmtP(v) + " ± " + fmtP(se)
}

func fmtCI(iv *Interval) string {
	if iv == nil {
		return "N/A"
	}
	return fmt.Sprintf("[%s, %s]", fmtP(iv[0]), fmtP(iv[1]))
}

func fmtSigned(f Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%+.4f", float64(f))
}

func fmtSignedCI(iv *Interval) string {
	if iv == nil {
		return "N/A"
	}
	return fmt.Sprintf("[%s, %s]", fmtSigned(iv[0]), fmtSigned(iv[1]))
}

func fmtPValue(f Float) string {
	switch {
	case !f.Valid():
		return "N/A"
	case f < 0.0001:
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", float64(f))
}

func fmtMS(f Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.2f", float64(f))
}

func fmtRate(f Float) string {
	if !f.Valid() {
		return "N/A"
	}
	return fmt.Sprintf("%.2f", float64(f))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fmtErrors renders errors_by_status as "429×3, 503×1", keys sorted.
func fmtErrors(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// reason puts why a run stopped (often an error) on one line for a banner,
// cut to 300 bytes.
func reason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// incompleteNote is the banner an incomplete run carries everywhere.
func (r *Report) incompleteNote() string {
	var missing, examples int
	for _, run := range r.Runs {
		missing += run.Missing
		examples += run.Examples
	}
	kind, what := "PARTIAL RUN", "interrupted"
	switch {
	case r.Run.Stopped != "":
		what = reason(r.Run.Stopped)
	case r.Status == "running":
		what = "still running"
	case r.Status != "partial":
		what = fmt.Sprintf("status %q", r.Status)
	}
	if r.Status == "failed" {
		kind = "FAILED RUN"
	}
	return fmt.Sprintf("%s (%s): %d of %d samples have no result yet; every figure covers finished samples only.", kind, what, missing, examples)
}

// mdText keeps text from journal or config (error messages, model ids) from
// turning into Markdown structure: newlines become spaces, and the
// characters that would start code, emphasis, HTML or a table cell are
// escaped. Intraword underscores (subject names) are left alone: CommonMark
// does not read them as emphasis, and the raw file stays readable.
func mdText(s string) string {
	return mdEscaper.Replace(s)
}

var mdEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ",
	"\\", "\\\\", "`", "\\`", "*", "\\*", "<", "\\<", "|", "\\|")

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string { return mdText(s) }

// plural counts n things with the right noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
