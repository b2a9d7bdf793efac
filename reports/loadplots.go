package reports

import (
	"fmt"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/evalbench/evalbench/results"
)

// LoadFigures builds a load report's charts: latency against throughput
// over the steps, and the TTFT and ITL CDFs of every step (read back from
// the HDR histograms in load.json). Charts without data are left out.
func LoadFigures(r *results.LoadReport) []*Figure {
	var figs []*Figure
	if f := latencyThroughputFigure(r); f != nil {
		figs = append(figs, f)
	}
	if f := loadCDFFigure(r, "ttft", "TTFT CDF by step", "TTFT (ms, log scale; solid: from intended send, dashed: from actual send)",
		"fraction of measured requests ≤ x", "ttft_from_intended", "ttft_from_sent"); f != nil {
		figs = append(figs, f)
	}
	if f := loadCDFFigure(r, "itl", "ITL CDF by step (per token)", "inter-token latency (ms, log scale)",
		"fraction of tokens ≤ x", "itl", ""); f != nil {
		figs = append(figs, f)
	}
	return figs
}

// plotOrder puts a sweep's saturation step after its rate steps, so the
// line runs from light load to the maximum.
func plotOrder(r *results.LoadReport) []*results.LoadStep {
	var out, last []*results.LoadStep
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Role == "throughput" {
			last = append(last, s)
			continue
		}
		out = append(out, s)
	}
	return append(out, last...)
}

func latencyThroughputFigure(r *results.LoadReport) *Figure {
	p := newPlot("Latency vs throughput", "throughput (successful requests/s in the window)", "latency (ms, log scale; from intended send)")
	series := []struct {
		name string
		get  func(*results.LoadStep) results.Float
		dash bool
	}{
		{"TTFT p50", func(s *results.LoadStep) results.Float { return s.Latency.TTFT.FromIntended.P50 }, false},
		{"TTFT p99", func(s *results.LoadStep) results.Float { return s.Latency.TTFT.FromIntended.P99 }, true},
		{"E2E p50", func(s *results.LoadStep) results.Float { return s.Latency.E2E.FromIntended.P50 }, false},
		{"E2E p99", func(s *results.LoadStep) results.Float { return s.Latency.E2E.FromIntended.P99 }, true},
	}
	drawn := 0
	steps := plotOrder(r)
	ymax, xmax := 0.0, 0.0
	for i, sr := range series {
		var pts plotter.XYs
		for _, s := range steps {
			x, y := s.Throughput.RequestsPerSec, sr.get(s)
			if x.Valid() && y.Valid() && y > 0 {
				pts = append(pts, plotter.XY{X: float64(x), Y: float64(y)})
				ymax = math.Max(ymax, float64(y))
				xmax = math.Max(xmax, float64(x))
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, scatter, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		c := figureColor(i / 2)
		line.Color, line.Width = c, vg.Points(1.5)
		if sr.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		scatter.Color, scatter.Shape, scatter.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(line, scatter)
		p.Legend.Add(sr.name, line, scatter)
		drawn++
	}
	if drawn == 0 {
		return nil
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	// Headroom above the data for the legend.
	p.Y.Max = ymax * 3
	// A margin past the last step, so its markers are not cut in half.
	p.X.Min, p.X.Max = 0, xmax*1.05
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(8)
	return &Figure{Name: "load_latency_throughput", Title: "Latency vs throughput (from intended send time)", W: 7 * vg.Inch, H: 4.5 * vg.Inch, plot: p}
}

// cdfPoints turns a histogram of microseconds into CDF points in ms.
func cdfPoints(h *hdrhistogram.Histogram) plotter.XYs {
	total := h.TotalCount()
	if total == 0 {
		return nil
	}
	var pts plotter.XYs
	var cum int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		if len(pts) == 0 {
			pts = append(pts, plotter.XY{X: math.Max(float64(b.From), 1) / results.HistogramUnitsPerMS, Y: 0})
		}
		cum += b.Count
		pts = append(pts, plotter.XY{X: float64(b.To+1) / results.HistogramUnitsPerMS, Y: float64(cum) / float64(total)})
	}
	return pts
}

func loadCDFFigure(r *results.LoadReport, name, title, xlabel, ylabel, key, dashedKey string) *Figure {
	p := newPlot(title, xlabel, ylabel)
	drawn := 0
	for i := range r.Steps {
		s := &r.Steps[i]
		c := figureColor(i)
		for _, k := range []string{key, dashedKey} {
			if k == "" || s.Histograms[k] == "" {
				continue
			}
			h, err := results.DecodeHistogram(s.Histograms[k])
			if err != nil {
				continue
			}
			pts := cdfPoints(h)
			if len(pts) == 0 {
				continue
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			line.Color, line.Width, line.StepStyle = c, vg.Points(1.5), plotter.PostStep
			if k == dashedKey {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
				line.Color = lighter(c, 170)
			} else {
				p.Legend.Add(fmt.Sprintf("step %d: %s", s.Index+1, s.Label), line)
			}
			p.Add(line)
			drawn++
		}
	}
	if drawn == 0 {
		return nil
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return &Figure{Name: "load_" + name + "_cdf", Title: title, W: 7 * vg.Inch, H: 4.5 * vg.Inch, plot: p}
}

// logTicks labels a log axis at 1, 2 and 5 times powers of ten (ticks125),
// unless the axis spans less than a factor of 3 (latencies of a steady
// server often do): then those leave it bare, and plain ticks label it.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo > 0 && hi < 3*lo {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks125{}.Ticks(lo, hi)
}
