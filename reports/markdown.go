package reports

import (
	"fmt"
	"io"
	"strings"
)

// displayGroups is the order groups are shown in tables.
var displayGroups = []string{GroupSTEM, GroupHumanities, GroupSocialSciences, GroupOther}

// errWriter remembers the first write error so writers can print freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// WriteMarkdown writes report.md.
func WriteMarkdown(w io.Writer, r *Report) error {
	banner := ""
	if r.Incomplete() {
		banner = r.incompleteNote()
	}
	return writeMarkdownDoc(w, "evalbench report", banner, r.summary(), r.sections())
}

// writeMarkdownDoc writes a report page: its title, a banner if any, the
// summary as bullets, and each section: paragraphs, bullets, its table
// (or what to say when it has no rows) and its notes.
func writeMarkdownDoc(w io.Writer, title, banner string, summary []string, secs []section) error {
	e := &errWriter{w: w}
	e.printf("# %s\n\n", title)
	if banner != "" {
		e.printf("> **%s**\n\n", mdText(banner))
	}
	for _, line := range summary {
		e.printf("- %s\n", mdText(line))
	}
	e.printf("\n")
	for _, s := range secs {
		e.printf("## %s\n\n", mdText(s.Title))
		for _, p := range s.Paras {
			e.printf("%s\n\n", mdText(p))
		}
		for _, item := range s.List {
			e.printf("- %s\n", mdText(item))
		}
		if len(s.List) > 0 {
			e.printf("\n")
		}
		if s.Header != nil {
			if len(s.Rows) == 0 && s.Empty != "" {
				e.printf("%s\n\n", mdText(s.Empty))
			} else {
				mdTable(e, s.Header, s.Rows)
			}
		}
		for _, n := range s.Notes {
			e.printf("%s\n\n", mdText(n))
		}
	}
	return e.err
}

func mdTable(e *errWriter, header []string, rows [][]string) {
	cells := func(row []string) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = mdCell(c)
		}
		return strings.Join(out, " | ")
	}
	e.printf("| %s |\n", cells(header))
	e.printf("|%s|\n", strings.Repeat("---|", len(header))[:len(header)*4-1])
	for _, row := range rows {
		e.printf("| %s |\n", cells(row))
	}
	e.printf("\n")
}
