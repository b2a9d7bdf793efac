package results

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestFloatJSON(t *testing.T) {
	type doc struct{ A, B, C Float }
	b, err := json.Marshal(doc{A: 1.5, B: NaN(), C: Float(math.Inf(1))})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"A":1.5,"B":null,"C":null}` {
		t.Errorf("got %s", b)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.A != 1.5 || d.B.Valid() || d.C.Valid() {
		t.Errorf("read back %+v", d)
	}
}

func f64(v float64) *float64 { return &v }

func sampleRequests() []LoadRequest {
	good := true
	return []LoadRequest{
		{Step: 0, Seq: 0, Phase: PhaseMeasure, Status: LoadOK, HTTPStatus: 200, IntendedMS: 12.5, SentMS: f64(12.75),
			FirstTokenMS: f64(112.001), LastTokenMS: f64(300.5), EndMS: 301, TTFTMS: f64(99.251), TTFTIntendedMS: f64(99.501),
			E2EMS: f64(287.75), E2EIntendedMS: f64(288), TPOTMS: f64(12.5), ITLMeanMS: f64(12.5), InputTokens: 128,
			OutputTokens: 16, StreamTokens: 16, Usage: true, Chunks: 18, FinishReason: "length", Good: &good},
		{Step: 2, Seq: 7, Phase: PhaseWarmup, Status: LoadError, HTTPStatus: 503, ErrorKind: "http_503",
			Error: "endpoint: /v1/completions: 503 Service Unavailable: \"busy\" <html> \u2028 \x01", IntendedMS: 0, SentMS: f64(0.2), EndMS: 1.5, QueueMS: 3.25},
		{Step: 1, Seq: 3, Phase: PhaseCooldown, Status: LoadCancelled, IntendedMS: 5, EndMS: 9},
	}
}

// AppendJSON writes what json.Marshal would: same fields, same values.
func TestLoadRequestAppendJSON(t *testing.T) {
	for _, q := range sampleRequests() {
		fast := q.AppendJSON(nil)
		std, err := json.Marshal(&q)
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("AppendJSON wrote invalid JSON %s: %v", fast, err)
		}
		if err := json.Unmarshal(std, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("AppendJSON:\n%s\njson.Marshal:\n%s", fast, std)
		}
		var back LoadRequest
		if err := json.Unmarshal(fast, &back); err != nil || !reflect.DeepEqual(back, q) {
			t.Errorf("round trip: %+v, %v; want %+v", back, err, q)
		}
	}
}

func TestLoadRequestValidate(t *testing.T) {
	for _, c := range []struct {
		mod  func(*LoadRequest)
		want string
	}{
		{func(q *LoadRequest) { q.Phase = "later" }, `phase "later"`},
		{func(q *LoadRequest) { q.Status = "fine" }, `status "fine"`},
		{func(q *LoadRequest) { q.Status, q.ErrorKind = LoadError, "" }, "without error_kind"},
		{func(q *LoadRequest) { q.Seq = -1 }, "negative step"},
		{func(q *LoadRequest) { q.OutputTokens = -2 }, "negative token"},
		{func(q *LoadRequest) { q.TTFTMS = f64(math.NaN()) }, "not a finite number"},
	} {
		q := sampleRequests()[0]
		c.mod(&q)
		if err := q.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func writeLines(t *testing.T, reqs []LoadRequest, tail string) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewLoadRequestWriter(&buf)
	for i := range reqs {
		if err := w.Write(&reqs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	buf.WriteString(tail)
	path := filepath.Join(t.TempDir(), LoadRequestsFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadLoadRequests(t *testing.T) {
	reqs := sampleRequests()
	read := func(path string) ([]LoadRequest, bool, error) {
		var got []LoadRequest
		_, torn, err := ReadLoadRequests(context.Background(), path, func(q *LoadRequest) error {
			got = append(got, *q)
			return nil
		})
		return got, torn, err
	}
	got, torn, err := read(writeLines(t, reqs, ""))
	if err != nil || torn || !reflect.DeepEqual(got, reqs) {
		t.Fatalf("got %+v, torn %v, err %v", got, torn, err)
	}
	// A crash mid-write leaves a torn last line: skipped and reported.
	got, torn, err = read(writeLines(t, reqs, `{"step":0,"seq":9,"pha`))
	if err != nil || !torn || len(got) != 3 {
		t.Errorf("torn tail: %d lines, torn %v, err %v", len(got), torn, err)
	}
	// A bad line in the middle is damage: an error naming the line.
	path := writeLines(t, reqs[:1], "{\"step\":0,\"seq\":1,\"phase\":\"soon\",\"status\":\"ok\"}\n")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(append(b, reqs[0].AppendJSON(nil)...), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err = read(path); err == nil || !strings.Contains(err.Error(), LoadRequestsFile+":2:") || !strings.Contains(err.Error(), `phase "soon"`) {
		t.Errorf("bad middle line: %v", err)
	}
}

func TestDecodeHistogram(t *testing.T) {
	h := hdrhistogram.New(1, 3600*1000*1000, 3)
	for _, v := range []int64{100, 2000, 20000, 20016, 5_000_000} {
		h.RecordValue(v)
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeHistogram(b64(enc))
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalCount() != 5 || got.ValueAtQuantile(50) != h.ValueAtQuantile(50) || got.Max() != h.Max() {
		t.Errorf("decoded %d values, p50 %d, max %d", got.TotalCount(), got.ValueAtQuantile(50), got.Max())
	}
	if _, err := DecodeHistogram("not base64!"); err == nil || !strings.HasPrefix(err.Error(), "results: histogram") {
		t.Errorf("bad input: %v", err)
	}
}

func TestReadLoadReport(t *testing.T) {
	dir := t.TempDir()
	rep := LoadReport{Schema: LoadSchema, Status: LoadComplete, Steps: []LoadStep{{Label: "rate 2/s", Latency: LoadLatency{TPOT: EmptyDist()}}}}
	b, _ := json.Marshal(rep)
	path := filepath.Join(dir, LoadFile)
	os.WriteFile(path, b, 0o644)
	got, err := ReadLoadReport(path)
	if err != nil || got.Steps[0].Label != "rate 2/s" || got.Steps[0].Latency.TPOT.P50.Valid() {
		t.Fatalf("%+v %v", got, err)
	}
	os.WriteFile(path, []byte(`{"schema":"evalbench.report/v1"}`), 0o644)
	if _, err := ReadLoadReport(path); err == nil || !strings.Contains(err.Error(), `want "evalbench.load/v1"`) {
		t.Errorf("wrong schema: %v", err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestAppendMS(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {12.5, "12.5"}, {0.001, "0.001"}, {1.0004, "1"}, {1.0005, "1.001"}, {99.99951, "100"},
		{-2.25, "-2.25"}, {-0.0004, "0"}, {123456.78, "123456.78"}, {math.NaN(), "null"}, {math.Inf(-1), "null"},
	} {
		got := string(appendMS(nil, "k", c.v))
		if want := `,"k":` + c.want; got != want {
			t.Errorf("appendMS(%v) = %s, want %s", c.v, got, want)
		}
	}
}
