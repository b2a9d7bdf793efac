package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
)

// htmlFigure is a chart embedded in report.html as a PNG data URI: the page
// stays one self-contained file with no external asset, and the chart looks
// exactly as drawn whatever fonts the viewer has. The SVGs look the same
// only because each carries its font (about 0.5 MB), which would multiply
// the page's size. The PNG is drawn at twice the CSS size so it stays sharp.
type htmlFigure struct {
	Title         string
	Src           template.URL
	Width, Height int // CSS pixels
}

type htmlPage struct {
	Banner   string
	Summary  []string
	Sections []section
	Figures  []htmlFigure
	// FiguresAfter is the section ID the figures follow.
	FiguresAfter string
	NoFigures    string
}

// WriteHTML writes report.html: one self-contained file (inline CSS, charts
// as PNG data URIs, no script, no external fonts or assets) that works
// offline.
func WriteHTML(w io.Writer, r *Report) error {
	page := htmlPage{Summary: r.summary(), Sections: r.sections()}
	// Charts go after the summary tables and before the long per-subject
	// one, so they are on the first screens.
	for _, s := range page.Sections {
		if s.ID == "headline" || s.ID == "groups" || s.ID == "comparisons" {
			page.FiguresAfter = s.ID
		}
	}
	if r.Incomplete() {
		page.Banner = r.incompleteNote()
	}
	if r.opts.SkipPlots {
		page.NoFigures = "Charts were not drawn for this report (SkipPlots)."
	} else {
		var err error
		if page.Figures, err = htmlFigures(r.Figures()); err != nil {
			return err
		}
		if len(page.Figures) == 0 {
			page.NoFigures = "No chart: no scored sample and no request yet."
		}
	}
	if err := htmlTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("reports: write report.html: %w", err)
	}
	return nil
}

// htmlFigures renders figures as PNG data URIs for a self-contained page.
func htmlFigures(figs []*Figure) ([]htmlFigure, error) {
	out := make([]htmlFigure, 0, len(figs))
	for _, f := range figs {
		png, err := f.Render("png")
		if err != nil {
			return nil, err
		}
		out = append(out, htmlFigure{
			Title: f.Title,
			// A base64 data URI of our own renderer's output: nothing from
			// the journal or load.json can reach the attribute unencoded.
			Src:    template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
			Width:  int(f.W.Points() * 96 / 72),
			Height: int(f.H.Points() * 96 / 72),
		})
	}
	return out, nil
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evalbench report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.summary { color: #57606a; margin: 0 0 1rem 0; padding-left: 1.2rem; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .7rem 1rem; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; white-space: nowrap; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fbfcfd; }
.note { color: #57606a; font-size: .9rem; }
figure { margin: 1rem 0 2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: .9rem; }
</style>
</head>
<body>
<h1>evalbench report</h1>
{{if .Banner}}<p class="banner" id="partial">{{.Banner}}</p>
{{end}}<ul class="summary">
{{range .Summary}}<li>{{.}}</li>
{{end}}</ul>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Paras}}<p>{{.}}</p>
{{end}}{{if .Header}}{{if and (not .Rows) .Empty}}<p class="note">{{.Empty}}</p>
{{else}}<div class="scroll"><table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{if .List}}<ul>
{{range .List}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</section>
{{if eq .ID $.FiguresAfter}}<section id="charts">
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
