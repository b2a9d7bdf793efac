package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

var (
	svgFontFamily = regexp.MustCompile(`font-family:([^;"]+);`)
	svgFontFace   = regexp.MustCompile(`@font-face\{\s*font-family:"([^"]+)";[^}]*src: url\(data:font/ttf;charset=utf-8;base64,([A-Za-z0-9+/=]+)\)`)
)

// Every SVG must carry the font its labels were laid out with: a viewer
// without Liberation Serif would otherwise substitute a wider font and cut
// labels off.
func TestSVGEmbedsItsFont(t *testing.T) {
	r, err := Build(context.Background(), "testdata/run2", Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	figs := r.Figures()
	if len(figs) < 6 {
		t.Fatalf("%d figures, want at least 6", len(figs))
	}
	for _, f := range figs {
		b, err := f.Render("svg")
		if err != nil {
			t.Fatal(err)
		}
		embedded := map[string]bool{}
		for _, m := range svgFontFace.FindAllSubmatch(b, -1) {
			ttf, err := base64.StdEncoding.DecodeString(string(m[2]))
			// A TrueType file starts with the sfnt version 1.0.
			if err != nil || len(ttf) < 10_000 || !bytes.HasPrefix(ttf, []byte{0, 1, 0, 0}) {
				t.Errorf("%s: @font-face %q does not hold a TrueType font (%d bytes, %v)", f.Name, m[1], len(ttf), err)
				continue
			}
			embedded[string(m[1])] = true
		}
		used := svgFontFamily.FindAllSubmatch(b, -1)
		if len(used) == 0 {
			t.Errorf("%s: no text with a font-family", f.Name)
		}
		for _, m := range used {
			if fam := string(m[1]); !embedded[fam] {
				t.Errorf("%s: text uses font-family %q, which the SVG does not embed", f.Name, fam)
				break
			}
		}
	}
}

// noLiberationFonts is a fontconfig configuration with the system's fonts
// but none of Liberation Serif or its metric twins, as on a machine that
// never installed them.
const noLiberationFonts = `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont>
    <rejectfont>
      <glob>*Liberation*</glob>
      <glob>*Tinos*</glob>
      <glob>*imes*</glob>
      <pattern><patelt name="family"><string>Liberation Serif</string></patelt></pattern>
      <pattern><patelt name="family"><string>Times New Roman</string></patelt></pattern>
      <pattern><patelt name="family"><string>Tinos</string></patelt></pattern>
    </rejectfont>
  </selectfont>
</fontconfig>
`

// svgProbeScript measures, once fonts are loaded, every text element of
// every SVG (each in its own frame, so one SVG's font cannot serve
// another): its rendered length in SVG units and its horizontal extent
// within the SVG.
const svgProbeScript = `<script>
window.addEventListener('load', async function () {
  var out = [];
  try {
    var frames = document.querySelectorAll('iframe');
    for (var i = 0; i < frames.length; i++) {
      var d = frames[i].contentDocument;
      await d.fonts.ready;
      var svg = d.querySelector('svg'), sb = svg.getBoundingClientRect();
      var texts = d.querySelectorAll('text');
      for (var j = 0; j < texts.length; j++) {
        var t = texts[j], r = t.getBoundingClientRect(), ctm = t.getCTM();
        out.push({fig: frames[i].id, text: t.textContent,
          size: parseFloat(d.defaultView.getComputedStyle(t).fontSize),
          len: t.getComputedTextLength(), rotated: Math.abs(ctm.b) > 1e-6,
          left: r.left - sb.left, right: r.right - sb.left, top: r.top - sb.top, bottom: r.bottom - sb.top,
          width: sb.width, height: sb.height});
      }
    }
  } catch (e) { out = String(e); }
  var m = document.createElement('pre');
  m.id = 'evalbench-svg';
  m.textContent = JSON.stringify(out);
  document.body.appendChild(m);
});
</script>`

// TestSVGInChromium renders every SVG in headless Chromium on a font
// configuration without Liberation Serif, Times New Roman or Tinos. Each
// label must come out as long as gonum laid it out (it measured with
// Liberation Serif) and inside the picture: a substituted font makes the
// x-axis label run off the edge, clips the last tick and pushes the
// "(n=25)" labels into the bars.
func TestSVGInChromium(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH: skipping the browser check of the SVG plots (CI installs chromium)")
	}
	if testing.Short() {
		t.Skip("-short: skipping the browser check")
	}
	r, err := Build(context.Background(), "testdata/run2", Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var page strings.Builder
	page.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
	figs := r.Figures()
	for i, f := range figs {
		b, err := f.Render("svg")
		if err != nil {
			t.Fatal(err)
		}
		// Drop the XML declaration: the SVG goes inline into an HTML frame.
		if i := bytes.Index(b, []byte("<svg")); i >= 0 {
			b = b[i:]
		}
		doc := `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">` + string(b) + `</body></html>`
		w, h := f.W.Points()*96/72+20, f.H.Points()*96/72+20
		fmt.Fprintf(&page, "<iframe id=\"f%d\" style=\"border:0\" width=\"%.0f\" height=\"%.0f\" srcdoc=\"%s\"></iframe>\n", i, w, h, html.EscapeString(doc))
	}
	page.WriteString(svgProbeScript + "</body></html>\n")
	probe := filepath.Join(dir, "svg-probe.html")
	conf := filepath.Join(dir, "fonts.conf")
	if err := os.WriteFile(probe, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(noLiberationFonts), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := chromiumEnv(t, bin, []string{"FONTCONFIG_FILE=" + conf}, "--virtual-time-budget=10000", "--dump-dom", "file://"+probe)
	m := regexp.MustCompile(`<pre id="evalbench-svg">([^<]*)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no measurements in Chromium's DOM:\n%.2000s", dom)
	}
	var texts []struct {
		Fig, Text                string
		Size, Len                float64
		Rotated                  bool
		Left, Right, Top, Bottom float64
		Width, Height            float64
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &texts); err != nil {
		t.Fatalf("measurements %.500s: %v", m[1], err)
	}
	if len(texts) < 5*len(figs) {
		t.Fatalf("%d text elements measured in %d figures", len(texts), len(figs))
	}
	bad, worst := 0, 0.0
	defer func() { t.Logf("%d labels in %d SVGs; largest length error %.2f%%", len(texts), len(figs), 100*worst) }()
	for _, x := range texts {
		fi, err := strconv.Atoi(strings.TrimPrefix(x.Fig, "f"))
		if err != nil || fi >= len(figs) {
			t.Fatalf("measurement of unknown figure %q", x.Fig)
		}
		name := figs[fi].Name
		if strings.TrimSpace(x.Text) == "" {
			continue
		}
		// gonum measured the label with Liberation Serif at this size, in
		// points, which are the SVG's units.
		face := font.DefaultCache.Lookup(plot.DefaultFont, vg.Points(x.Size))
		laid := face.Width(x.Text).Points()
		if math.Abs(x.Len-laid) > 0.02*laid+0.5 {
			t.Errorf("%s: %q renders %.1f pt long, laid out for %.1f pt", name, x.Text, x.Len, laid)
			bad++
		}
		// Along the text, its box must lie within the picture. (Across it,
		// the line box's ascent and descent may overhang a little; the
		// glyphs do not.)
		lo, hi, size := x.Left, x.Right, x.Width
		if x.Rotated {
			lo, hi, size = x.Top, x.Bottom, x.Height
		}
		if lo < -1 || hi > size+1 {
			t.Errorf("%s: %q spans %.1f..%.1f px of a %.1f px picture: clipped", name, x.Text, lo, hi, size)
			bad++
		}
		worst = max(worst, math.Abs(x.Len-laid)/laid)
		if bad > 10 {
			t.Fatal("too many misrendered labels")
		}
	}
}

// The latency histogram's axis leaves room beyond the outer bars, so the
// last bar does not sit against the frame and read as cut off.
func TestLatencyHistogramPadded(t *testing.T) {
	r, err := Build(context.Background(), "testdata/run2", Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for mi, run := range r.Runs {
		l := r.latencyOf(mi, KindCompletions)
		f := latencyHistFigure(run.Model, l, mi)
		bins := latencyBins(l, 40)
		if f == nil || len(bins) == 0 {
			t.Fatalf("%s: no histogram", run.Model)
		}
		lo, hi := bins[0].Min, bins[len(bins)-1].Max
		span := math.Log(hi) - math.Log(lo)
		// The axis is logarithmic: measure the margins in log units.
		left, right := math.Log(lo)-math.Log(f.plot.X.Min), math.Log(f.plot.X.Max)-math.Log(hi)
		if left < 0.01*span || right < 0.01*span || left > 0.1*span || right > 0.1*span {
			t.Errorf("%s: axis [%v, %v] around bins [%v, %v]: margins %.3f and %.3f of the span, want 1%%..10%%",
				run.Model, f.plot.X.Min, f.plot.X.Max, lo, hi, left/span, right/span)
		}
	}
}
