package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/evalbench/evalbench/results"
)

// The fixture is a real run against the simulator (two Poisson rate steps,
// seeded 500s, an SLO), kept so the renderings can be checked offline.
const (
	loadFixture         = "testdata/load/load.json"
	loadRequestsFixture = "testdata/load/requests.jsonl"
)

func loadFixtureReport(t *testing.T) *results.LoadReport {
	t.Helper()
	rep, err := ReadLoadJSON(loadFixture)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkLoadGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "load", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if intended):\n%s", name, got)
	}
}

func TestLoadMarkdownGolden(t *testing.T) {
	rep := loadFixtureReport(t)
	var buf bytes.Buffer
	if err := WriteLoadMarkdown(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkLoadGolden(t, "load.md", buf.Bytes())
	for _, want := range []string{"## Steps", "TTFT from intended (ms)", "TTFT from sent (ms)", "http_500 1", "Goodput", "## Definitions"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("load.md lacks %q", want)
		}
	}
}

func TestLoadTextGolden(t *testing.T) {
	rep := loadFixtureReport(t)
	var buf bytes.Buffer
	if err := WriteLoadText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkLoadGolden(t, "load.txt", buf.Bytes())
}

// load.json survives a round trip: what WriteLoadJSON writes reads back
// to the same report.
func TestLoadJSONRoundTrip(t *testing.T) {
	rep := loadFixtureReport(t)
	var a bytes.Buffer
	if err := WriteLoadJSON(&a, rep); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "load.json")
	os.WriteFile(path, a.Bytes(), 0o644)
	back, err := ReadLoadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	WriteLoadJSON(&b, back)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("load.json changed on a round trip")
	}
	orig, _ := os.ReadFile(loadFixture)
	if !bytes.Equal(orig, a.Bytes()) {
		t.Error("the fixture does not round-trip byte for byte")
	}
}

var dataURI = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// load.html is one self-contained file: charts inline as PNG, no script,
// no external asset, every section of the Markdown.
func TestLoadHTML(t *testing.T) {
	rep := loadFixtureReport(t)
	var buf bytes.Buffer
	if err := WriteLoadHTML(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(strings.ReplaceAll(page, rep.Config.BaseURL, ""), bad) {
			t.Errorf("load.html holds %q", bad)
		}
	}
	imgs := dataURI.FindAllStringSubmatch(page, -1)
	if len(imgs) != 3 {
		t.Fatalf("%d charts, want 3 (latency vs throughput, TTFT CDF, ITL CDF)", len(imgs))
	}
	for i, m := range imgs {
		b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(m[1], "&#43;", "+"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("chart %d is not a PNG: %v", i, err)
		}
	}
	for _, s := range loadSections(rep) {
		if !strings.Contains(page, `id="`+s.ID+`"`) {
			t.Errorf("load.html lacks section %s", s.ID)
		}
	}
}

func TestLoadFiguresNeedData(t *testing.T) {
	rep := loadFixtureReport(t)
	if n := len(LoadFigures(rep)); n != 3 {
		t.Fatalf("%d figures", n)
	}
	for i := range rep.Steps {
		rep.Steps[i].Histograms = nil
		rep.Steps[i].Throughput.RequestsPerSec = results.NaN()
	}
	if figs := LoadFigures(rep); len(figs) != 0 {
		t.Errorf("%d figures from a report without data", len(figs))
	}
	var buf bytes.Buffer
	if err := WriteLoadHTML(&buf, rep, false); err != nil || !strings.Contains(buf.String(), "No chart") {
		t.Errorf("no-data page: %v", err)
	}
}

// requests.parquet has one row per requests.jsonl line, with the step's
// label and the intended start on the wall clock.
func TestLoadParquet(t *testing.T) {
	rep := loadFixtureReport(t)
	var buf bytes.Buffer
	if err := WriteLoadParquet(context.Background(), &buf, rep, loadRequestsFixture); err != nil {
		t.Fatal(err)
	}
	var lines []results.LoadRequest
	if _, _, err := results.ReadLoadRequests(context.Background(), loadRequestsFixture, func(q *results.LoadRequest) error {
		lines = append(lines, *q)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.Read[LoadRequestRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"evalbench.schema": results.LoadSchema, "evalbench.status": rep.Status} {
		if got, ok := f.Lookup(k); !ok || got != want {
			t.Errorf("metadata %s = %q, want %q", k, got, want)
		}
	}
	if len(rows) != len(lines) {
		t.Fatalf("%d rows for %d lines", len(rows), len(lines))
	}
	for i, row := range rows {
		q := lines[i]
		if row.Seq != q.Seq || row.Status != q.Status || row.StepLabel != rep.Steps[q.Step].Label || row.OutputTokens != int32(q.OutputTokens) {
			t.Fatalf("row %d %+v, line %+v", i, row, q)
		}
		if (row.TTFTMS == nil) != (q.TTFTMS == nil) || (row.ErrorKind == nil) != (q.ErrorKind == "") {
			t.Fatalf("row %d nulls differ from the line", i)
		}
		want := rep.Steps[q.Step].Started.Add(msDuration(q.IntendedMS))
		if d := row.IntendedTime.Sub(want); d < -1e3 || d > 1e3 {
			t.Fatalf("row %d intended at %v, want %v", i, row.IntendedTime, want)
		}
	}
}

func TestWriteLoadAll(t *testing.T) {
	rep := loadFixtureReport(t)
	dir := t.TempDir()
	if err := WriteLoadAll(context.Background(), dir, rep, LoadOptions{Requests: loadRequestsFixture, SkipPlots: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{LoadJSONFile, LoadMarkdownFile, LoadHTMLFile, LoadParquetFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
