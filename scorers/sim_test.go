package scorers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/simulator"
)

var (
	sampleTest = filepath.Join("..", "testdata", "samples", "mmlu_sample", "test.jsonl")
	sampleDev  = filepath.Join("..", "testdata", "samples", "mmlu_sample", "dev.jsonl")
	samplePIQA = filepath.Join("..", "testdata", "samples", "piqa_sample", "valid.jsonl")
)

// instantSim is the simulator with no latency, so tests measure behaviour,
// not time.
func instantSim(edit func(*simulator.Config)) simulator.Config {
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	cfg.Capacity = 0
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

// startSim serves the simulator on loopback and returns a client for its
// dedicated API.
func startSim(t testing.TB, edit func(*simulator.Config)) *endpoint.Client {
	t.Helper()
	srv, err := simulator.New(instantSim(edit))
	if err != nil {
		t.Fatal(err)
	}
	return clientFor(t, srv)
}

func clientFor(t testing.TB, h http.Handler) *endpoint.Client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c, err := endpoint.New(endpoint.Options{
		BaseURL:     ts.URL + "/dedicated",
		Concurrency: 8,
		Retry:       endpoint.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rewriting wraps the simulator and lets a test edit one kind of JSON reply,
// so a misbehaving server differs from a correct one in exactly one way.
func rewriting(t testing.TB, pathSuffix string, edit func(req, reply map[string]any)) http.Handler {
	t.Helper()
	srv, err := simulator.New(instantSim(nil))
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, pathSuffix) {
			srv.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		var reply map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &reply) != nil {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		edit(req, reply)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply)
	})
}

func readExamples(t testing.TB, path string, n int) []datasets.Example {
	t.Helper()
	r, err := datasets.Open(context.Background(), []string{path}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []datasets.Example
	for n <= 0 || len(out) < n {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ex)
	}
	return out
}

func fewShot(t testing.TB) *datasets.FewShot {
	t.Helper()
	fs, err := datasets.LoadFewShot(context.Background(), []string{sampleDev}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func newScorer(t testing.TB, api API, opts Options) *Scorer {
	t.Helper()
	model, err := endpoint.ParseModelID("demo")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Prompt == nil {
		opts.Prompt = mmluPrompt()
	}
	s, err := New(api, model, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
