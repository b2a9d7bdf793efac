package reports

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The page must not reach out for anything: no http(s) URL in an attribute
// or in CSS, no script, no link element.
func TestHTMLSelfContained(t *testing.T) {
	dir := copyRun(t, "testdata/run2")
	r, err := WriteAll(context.Background(), dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`),
		regexp.MustCompile(`(?i)url\(\s*['"]?(https?:)?//`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)<script`),
		regexp.MustCompile(`(?i)<link`),
	} {
		if loc := bad.FindIndex(b); loc != nil {
			t.Errorf("report.html has %q", b[loc[0]:min(loc[1]+40, len(b))])
		}
	}
	figs := r.Figures()
	if n := bytes.Count(b, []byte(`src="data:image/png;base64,`)); n != len(figs) || n < 6 {
		t.Errorf("%d embedded charts, want %d (at least 6)", n, len(figs))
	}
	for _, want := range []string{"Headline", "MMLU categories", "Comparisons", "Subjects", "Latency (ms)", "Failures", "demo:lora-a"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chromium runs a headless browser on a local file with networking and
// background services off, and returns its stdout and stderr.
func chromium(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	return chromiumEnv(t, bin, nil, args...)
}

// chromiumEnv is chromium with extra environment variables (NAME=value).
func chromiumEnv(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, errb.String())
	}
	return out.String(), errb.String()
}

// checkScript marks the page once every image has loaded and decoded.
const checkScript = `<script>
window.addEventListener('load', function () {
  var imgs = document.images, bad = [];
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].alt);
  }
  var m = document.createElement('div');
  m.id = 'evalbench-check';
  m.textContent = (imgs.length > 0 && bad.length === 0) ? 'IMAGES-OK ' + imgs.length : 'IMAGES-BAD ' + imgs.length + ' ' + bad.join(',');
  document.body.appendChild(m);
});
</script>`

// colouredPixels counts clearly non-grey pixels: plot bars and lines are
// coloured, text, tables and the page are grey.
func colouredPixels(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bl)>>8, min(r, g, bl)>>8
			if hi-lo > 60 {
				n++
			}
		}
	}
	return n
}

// TestHTMLInChromium opens report.html in headless Chromium: the page must
// log no console error, every chart must decode, and a screenshot must show
// the charts drawn (many coloured pixels, unlike the same page without
// charts).
func TestHTMLInChromium(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH: skipping the browser check of report.html (CI installs chromium)")
	}
	if testing.Short() {
		t.Skip("-short: skipping the browser check")
	}
	dir := copyRun(t, "testdata/run2")
	if _, err := WriteAll(context.Background(), dir, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, HTMLFile)

	// (1) Every image decodes, and the page logs no console error.
	b, _ := os.ReadFile(page)
	probe := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probe, bytes.Replace(b, []byte("</body>"), []byte(checkScript+"</body>"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := chromium(t, bin, "--virtual-time-budget=10000", "--dump-dom", "file://"+probe)
	// Match the marker element, not the script's own text.
	m := regexp.MustCompile(`<div id="evalbench-check">([^<]*)</div>`).FindStringSubmatch(dom)
	if m == nil || !strings.HasPrefix(m[1], "IMAGES-OK ") {
		t.Errorf("image check in Chromium: %q (want IMAGES-OK)", m)
	}
	_, logs := chromium(t, bin, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", "file://"+page)
	// Chromium logs console messages as "...:CONSOLE:<line>] ..." whatever
	// their level; the report has no script, so any is a fault.
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}

	// (2) A screenshot shows the charts.
	shot := filepath.Join(dir, "shot.png")
	chromium(t, bin, "--screenshot="+shot, "--window-size=1200,3000", "file://"+page)
	withCharts := colouredPixels(t, shot)

	plain := copyRun(t, "testdata/run2")
	if _, err := WriteAll(context.Background(), plain, Options{Version: "test", SkipPlots: true}); err != nil {
		t.Fatal(err)
	}
	plainShot := filepath.Join(plain, "shot.png")
	chromium(t, bin, "--screenshot="+plainShot, "--window-size=1200,3000", "file://"+filepath.Join(plain, HTMLFile))
	without := colouredPixels(t, plainShot)
	t.Logf("coloured pixels: %d with charts, %d without", withCharts, without)
	if withCharts < 50_000 || withCharts < 10*max(without, 1) {
		t.Errorf("screenshot has %d coloured pixels (%d without charts): the charts were not drawn", withCharts, without)
	}
}
