package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/simulator"
)

// writeSynthetic writes n four-choice questions in the cais/mmlu layout.
func writeSynthetic(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "synthetic.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"the", "value", "of", "a", "field", "group", "which", "is", "true", "prime", "order", "ring", "map", "set"}
	subjects := []string{"abstract_algebra", "anatomy", "astronomy", "marketing", "philosophy", "virology"}
	enc := json.NewEncoder(w)
	for i := range n {
		q := ""
		for range 12 + rng.IntN(20) {
			q += words[rng.IntN(len(words))] + " "
		}
		choices := make([]string, 4)
		for k := range choices {
			choices[k] = fmt.Sprintf("%s %d", words[rng.IntN(len(words))], rng.IntN(100))
		}
		if err := enc.Encode(map[string]any{
			"id": fmt.Sprintf("q%d", i), "subject": subjects[i%len(subjects)],
			"question": q + "?", "choices": choices, "answer": rng.IntN(4),
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkLetterRun is the benchmark: 5,000 questions against the
// simulator at a fixed 20 ms latency with concurrency 64. It reports
// completions requests per question (target ≤ 1.05) and the wall time over
// the bound ⌈N/C⌉ × latency (target ≤ 1.15).
//
//	go test ./runner -run '^$' -bench LetterRun -benchtime 1x
//	GOMAXPROCS=2 go test ./runner -run '^$' -bench LetterRun -benchtime 1x   # without the embedded simulator's extra Ps
func BenchmarkLetterRun(b *testing.B) {
	const (
		questions   = 5000
		concurrency = 64
		latency     = 20 * time.Millisecond
	)
	data := writeSynthetic(b, questions)
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{TTFT: latency}
	cfg.Capacity = 0
	srv, err := simulator.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client, err := endpoint.New(endpoint.Options{BaseURL: ts.URL + "/dedicated", Concurrency: concurrency})
	if err != nil {
		b.Fatal(err)
	}
	bound := time.Duration(math.Ceil(float64(questions)/concurrency)) * latency
	// As `evalbench run --base-url sim` runs it (main.go's gcPercent,
	// connect.go's embedded-simulator procs), unless GOGC or GOMAXPROCS is
	// set.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if os.Getenv("GOMAXPROCS") == "" {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(simulator.EmbeddedProcs(runtime.GOMAXPROCS(0))))
	}
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		start := time.Now()
		sum, err := Run(context.Background(), client, Options{
			Models: models(b, "demo"), Dataset: []string{data},
			Concurrency: concurrency, Out: dir, Quiet: true,
		})
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Scored != questions {
			b.Fatalf("scored %d of %d", sum.Scored, questions)
		}
		completions, tokenize := 0, 0
		_, err = results.ReadJournal(context.Background(), filepath.Join(dir, results.JournalFile), func(s *results.Sample) error {
			for _, r := range s.Requests {
				switch r.Kind {
				case "completions":
					completions++
				case "tokenize":
					tokenize++
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(completions)/questions, "completions/question")
		b.ReportMetric(float64(completions+tokenize)/questions, "requests/question")
		b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
		b.ReportMetric(wall.Seconds(), "wall-s")
	}
}
