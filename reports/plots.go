package reports

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strconv"

	"git.sr.ht/~sbinet/gg"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one chart of the report, drawn with gonum/plot.
type Figure struct {
	// Name is the file stem under plots/ (Name.svg, Name.png).
	Name  string
	Title string
	W, H  vg.Length
	plot  *plot.Plot
}

// pngDPI renders PNGs at twice the CSS pixel density, so they stay sharp
// on high-density screens and when zoomed.
const pngDPI = 192

// pngPixels is a length in pixels at pngDPI, rounded as vgimg rounds it.
func pngPixels(l vg.Length) int { return int(l/vg.Inch*pngDPI + 0.5) }

// Render draws the figure as "svg" or as "png" (at pngDPI), both with the
// exact fonts it was laid out with.
//
// The SVG embeds its font (Liberation Serif, about 0.5 MB of base64): gonum
// places every label by that font's metrics, and a viewer without it
// substitutes a wider serif, which cuts off the axis label, clips the last
// tick and runs the subject labels into the bars. Naming metric-compatible
// fallbacks (Times New Roman, Tinos) does not help where none is installed,
// as on a headless server.
func (f *Figure) Render(format string) ([]byte, error) {
	var wt io.WriterTo
	switch format {
	case "svg":
		c := vgsvg.NewWith(vgsvg.UseWH(f.W, f.H), vgsvg.EmbedFonts(true))
		f.plot.Draw(draw.New(c))
		wt = c
	case "png":
		// vgimg.NewWith would allocate the image, then copy it into a
		// second one for its drawing context; at 192 DPI each is megabytes
		// of fresh memory. One image, drawn on in place, is the same
		// picture.
		img := image.NewRGBA(image.Rect(0, 0, pngPixels(f.W), pngPixels(f.H)))
		ctx := gg.NewContextForRGBA(img)
		ctx.SetLineCapButt()
		ctx.InvertY()
		c := vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(pngDPI))
		f.plot.Draw(draw.New(c))
		// Charts are flat colour: the fastest deflate level costs a few
		// percent in size and takes a fifth less time than the default.
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, c.Image()); err != nil {
			return nil, fmt.Errorf("reports: plot %s: %w", f.Name, err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("reports: plot %s: unknown format %q", f.Name, format)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("reports: plot %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// Figures builds the report's charts: accuracy by subject with 95% Wilson
// intervals (one per model), the completions latency histogram (one per
// model) and CDF, and the reliability diagram. Charts without data (no
// scored sample, no completions request) are left out, and so are the
// latency charts of a Report read back from JSON, which has no histograms.
func (r *Report) Figures() []*Figure {
	var figs []*Figure
	for mi, run := range r.Runs {
		if f := accuracyFigure(run, mi); f != nil {
			figs = append(figs, f)
		}
	}
	for mi, run := range r.Runs {
		if f := latencyHistFigure(run.Model, r.latencyOf(mi, KindCompletions), mi); f != nil {
			figs = append(figs, f)
		}
	}
	if f := r.latencyCDFFigure(); f != nil {
		figs = append(figs, f)
	}
	if f := r.reliabilityFigure(); f != nil {
		figs = append(figs, f)
	}
	return figs
}

// latencyOf is model mi's histogram of a request kind, nil if none.
func (r *Report) latencyOf(mi int, kind string) *latencyAcc {
	if mi >= len(r.latency) {
		return nil
	}
	return r.latency[mi][kind]
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// ciBars places Wilson intervals on a horizontal bar chart.
type ciBars struct{ acc, lo, hi []float64 }

func (c ciBars) Len() int                            { return len(c.acc) }
func (c ciBars) XY(i int) (float64, float64)         { return c.acc[i], float64(i) }
func (c ciBars) XError(i int) (float64, float64)     { return c.acc[i] - c.lo[i], c.hi[i] - c.acc[i] }
func (c ciBars) values() plotter.Values              { return plotter.Values(c.acc) }
func subjectLabel(name string, n int) string         { return fmt.Sprintf("%s (n=%d)", name, n) }
func figureColor(i int) color.Color                  { return plotutil.Color(i) }
func lighter(c color.Color, alpha uint8) color.NRGBA { return withAlpha(c, alpha) }

func withAlpha(c color.Color, alpha uint8) color.NRGBA {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

// accuracyFigure is a horizontal bar per subject (readable with MMLU's 57),
// alphabetical from the top, with the 95% Wilson interval as error bars.
func accuracyFigure(run *ModelRun, mi int) *Figure {
	var names []string
	for _, name := range sortedKeys(run.Subjects) {
		if run.Subjects[name].N > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Reverse(names) // the nominal axis counts from the bottom
	var bars ciBars
	labels := make([]string, len(names))
	for i, name := range names {
		s := run.Subjects[name]
		lo, hi := wilson(s.correct(), s.N)
		bars.acc = append(bars.acc, float64(s.Acc))
		bars.lo = append(bars.lo, lo)
		bars.hi = append(bars.hi, hi)
		labels[i] = fmt.Sprintf("%s (n=%d)", name, s.N)
	}
	p := newPlot(fmt.Sprintf("Accuracy by subject: %s", run.Model), "accuracy (bars: 95% Wilson interval)", "")
	rowH := vg.Points(13)
	bc, err := plotter.NewBarChart(plotter.Values(bars.acc), rowH*0.7)
	if err != nil {
		return nil // cannot happen: the width is positive
	}
	bc.Horizontal = true
	bc.Color = lighter(figureColor(mi), 200)
	bc.LineStyle.Width = 0
	eb, err := plotter.NewXErrorBars(bars)
	if err != nil {
		return nil
	}
	eb.LineStyle.Width = vg.Points(1)
	p.Add(bc, eb)
	if acc := float64(run.Metrics.Acc); run.Metrics.Acc.Valid() {
		overall, _ := plotter.NewLine(plotter.XYs{{X: acc, Y: -0.5}, {X: acc, Y: float64(len(names)) - 0.5}})
		overall.Color = color.Gray{Y: 90}
		overall.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(overall)
		p.X.Label.Text = fmt.Sprintf("accuracy (error bars: 95%% Wilson interval; dashed line: overall acc %s)", fmtP(run.Metrics.Acc))
	}
	p.NominalY(labels...)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	return &Figure{
		Name: "accuracy_by_subject_" + SanitizeModel(run.Model), Title: "Accuracy by subject — " + run.Model,
		W: 7.5 * vg.Inch, H: vg.Points(90) + rowH*vg.Length(len(names)), plot: p,
	}
}

// latencyBins re-bins an HDR histogram into n logarithmic bins (ms), so a
// long tail does not squash the bulk into one bar.
func latencyBins(l *latencyAcc, n int) []plotter.HistogramBin {
	if l == nil || l.n == 0 {
		return nil
	}
	dist := l.h.Distribution()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range dist {
		if b.Count > 0 {
			lo = min(lo, float64(b.From)/1000)
			hi = max(hi, float64(b.To+1)/1000)
		}
	}
	if !(hi > lo) {
		hi = lo * 1.1
	}
	llo, step := math.Log(lo), (math.Log(hi)-math.Log(lo))/float64(n)
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i].Min = math.Exp(llo + float64(i)*step)
		bins[i].Max = math.Exp(llo + float64(i+1)*step)
	}
	for _, b := range dist {
		if b.Count == 0 {
			continue
		}
		mid := (float64(b.From) + float64(b.To)) / 2000
		i := min(max(int((math.Log(mid)-llo)/step), 0), n-1)
		bins[i].Weight += float64(b.Count)
	}
	return bins
}

// histPad is the share of the histogram's span left empty at each end of
// its axis.
const histPad = 0.03

func latencyHistFigure(model string, l *latencyAcc, mi int) *Figure {
	bins := latencyBins(l, 40)
	if bins == nil {
		return nil
	}
	p := newPlot("Completions latency: "+model, "latency (ms, log scale)", "requests")
	h := &plotter.Histogram{Bins: bins, FillColor: lighter(figureColor(mi), 220), LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = vg.Points(0.5)
	p.Add(h)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ticks125{}
	// The axes would end exactly at the outer bins' edges and at the
	// tallest bar, so those bars would sit against the frame and read as
	// cut off: pad both ends of the (logarithmic) span, and the top.
	llo, lhi := math.Log(bins[0].Min), math.Log(bins[len(bins)-1].Max)
	pad := histPad * (lhi - llo)
	p.X.Min, p.X.Max = math.Exp(llo-pad), math.Exp(lhi+pad)
	p.Y.Max *= 1 + 2*histPad
	return &Figure{Name: "latency_hist_" + SanitizeModel(model), Title: "Completions latency histogram — " + model, W: 7 * vg.Inch, H: 4 * vg.Inch, plot: p}
}

// latencyCDFFigure overlays every model's completions latency CDF.
func (r *Report) latencyCDFFigure() *Figure {
	p := newPlot("Completions latency CDF", "latency (ms, log scale)", "fraction of requests ≤ x")
	drawn := 0
	for mi, run := range r.Runs {
		l := r.latencyOf(mi, KindCompletions)
		if l == nil || l.n == 0 {
			continue
		}
		var pts plotter.XYs
		var cum int64
		total := l.h.TotalCount()
		for _, b := range l.h.Distribution() {
			if b.Count == 0 {
				continue
			}
			cum += b.Count
			pts = append(pts, plotter.XY{X: float64(b.To+1) / 1000, Y: float64(cum) / float64(total)})
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.Color = figureColor(mi)
		line.Width = vg.Points(1.5)
		line.StepStyle = plotter.PostStep
		p.Add(line)
		p.Legend.Add(run.Model, line)
		drawn++
	}
	if drawn == 0 {
		return nil
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ticks125{}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	return &Figure{Name: "latency_cdf", Title: "Completions latency CDF", W: 7 * vg.Inch, H: 4 * vg.Inch, plot: p}
}

// reliabilityFigure plots each model's accuracy against mean confidence per
// bin, with the diagonal of perfect calibration.
func (r *Report) reliabilityFigure() *Figure {
	p := newPlot("Reliability diagram", "mean top-choice probability (10 bins)", "accuracy")
	diag, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	diag.Color = color.Gray{Y: 140}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("perfectly calibrated", diag)
	drawn := 0
	for mi, run := range r.Runs {
		var pts plotter.XYs
		for _, b := range run.Calibration.Bins {
			if b.Count > 0 {
				pts = append(pts, plotter.XY{X: float64(b.Confidence), Y: float64(b.Accuracy)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, scatter, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		line.Color = figureColor(mi)
		line.Width = vg.Points(1.5)
		scatter.Color = figureColor(mi)
		scatter.Shape = draw.CircleGlyph{}
		scatter.Radius = vg.Points(3)
		p.Add(line, scatter)
		p.Legend.Add(fmt.Sprintf("%s (ECE %s)", run.Model, fmtP(run.Calibration.ECE)), line, scatter)
		drawn++
	}
	if drawn == 0 {
		return nil
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Legend.YOffs = -vg.Points(8)
	return &Figure{Name: "reliability", Title: "Reliability diagram", W: 6 * vg.Inch, H: 6 * vg.Inch, plot: p}
}

// ticks125 labels a log axis at 1, 2 and 5 times powers of ten, with
// unlabelled minor ticks between: gonum's LogTicks labels only powers of
// ten, which leaves a latency axis spanning less than a decade bare.
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		dec := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * dec
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	// A range inside one step of 1-2-5 (say 27 to 42 ms) would show no label
	// at all: label every tick instead.
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled < 2 {
		for i := range ticks {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
	}
	return ticks
}
