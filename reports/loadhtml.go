package reports

import (
	"fmt"
	"html/template"
	"io"

	"github.com/evalbench/evalbench/results"
)

type loadPage struct {
	Banner    string
	Summary   []string
	Sections  []section
	Figures   []htmlFigure
	NoFigures string
}

// WriteLoadHTML writes load.html: one self-contained file (inline CSS,
// charts as PNG data URIs, no script, no external asset).
func WriteLoadHTML(w io.Writer, r *results.LoadReport, skipPlots bool) error {
	page := loadPage{Summary: loadSummary(r), Sections: loadSections(r)}
	if r.Status == results.LoadPartial {
		page.Banner = loadPartialText(r)
	}
	if skipPlots {
		page.NoFigures = "Charts were not drawn for this report."
	} else {
		var err error
		if page.Figures, err = htmlFigures(LoadFigures(r)); err != nil {
			return err
		}
		if len(page.Figures) == 0 {
			page.NoFigures = "No chart: no request was measured."
		}
	}
	if err := loadHTMLTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("reports: write load.html: %w", err)
	}
	return nil
}

var loadHTMLTemplate = template.Must(template.New("load").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evalbench load report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.summary { color: #57606a; margin: 0 0 1rem 0; padding-left: 1.2rem; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .7rem 1rem; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f8fa; white-space: normal; vertical-align: bottom; min-width: 3.5em; }
tbody tr:nth-child(even) { background: #fbfcfd; }
.note { color: #57606a; font-size: .9rem; }
figure { margin: 1rem 0 2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: .9rem; }
</style>
</head>
<body>
<h1>evalbench load report</h1>
{{if .Banner}}<p class="banner" id="partial">{{.Banner}}</p>
{{end}}<ul class="summary">
{{range .Summary}}<li>{{.}}</li>
{{end}}</ul>
{{range $i, $s := .Sections}}<section id="{{$s.ID}}">
<h2>{{$s.Title}}</h2>
{{if $s.List}}<ul>
{{range $s.List}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{if $s.Header}}{{if and (not $s.Rows) $s.Empty}}<p class="note">{{$s.Empty}}</p>
{{else}}<div class="scroll"><table>
<thead><tr>{{range $s.Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $s.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{end}}{{range $s.Notes}}<p class="note">{{.}}</p>
{{end}}</section>
{{if eq $i 0}}<section id="charts">
<h2>Charts</h2>
{{if $.NoFigures}}<p class="note">{{$.NoFigures}}</p>
{{end}}{{range $.Figures}}<figure>
<img alt="{{.Title}}" width="{{.Width}}" height="{{.Height}}" src="{{.Src}}">
<figcaption>{{.Title}}</figcaption>
</figure>
{{end}}</section>
{{end}}{{end}}</body>
</html>
`))
