package simulator

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHealthAndMetrics(t *testing.T) {
	cfg := fastConfig()
	cfg.Capacity = 7
	inst := start(t, cfg)
	resp, err := http.Get(inst.URL() + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", err, resp)
	}
	resp.Body.Close()
	post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"demo","prompt":"x","max_tokens":3,"min_tokens":3}`)
	post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"nope","prompt":"x"}`)
	post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"demo","prompt":"x","max_tokens":0}`)

	resp, err = http.Get(inst.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	for _, want := range []string{
		`simulator_requests_total{path="/dedicated/v1/completions",status="200"} 1`,
		`simulator_requests_total{path="/dedicated/v1/completions",status="404"} 1`,
		`simulator_requests_total{path="/dedicated/v1/completions",status="422"} 1`,
		`simulator_requests_total{path="/health",status="200"} 1`,
		"simulator_errors_total 2",
		"simulator_output_tokens_total 3",
		"simulator_capacity 7",
		"simulator_queued 0",
		"simulator_in_flight 1", // this scrape
		"# TYPE simulator_requests_total counter",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// Every sample line is "name{labels} value" or "name value".
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) != 2 || !strings.HasPrefix(f[0], "simulator_") {
			t.Errorf("malformed sample %q", line)
		}
	}
	st := inst.Server().Stats()
	if st.ByStatus[200] != 3 || st.ByStatus[404] != 1 || st.ByStatus[422] != 1 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
}
