package reports

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/evalbench/evalbench/results"
)

// writeSyntheticRun writes a run directory with n MMLU-like samples per
// model over the 57 subjects, some failed and some redone, with requests.
func writeSyntheticRun(tb testing.TB, n int, models []string) string {
	tb.Helper()
	dir := tb.TempDir()
	var subjects []string
	for _, g := range displayGroups {
		subjects = append(subjects, mmluGroups[g]...)
	}
	run := &results.Run{
		Settings: results.Settings{Models: models, Task: "mmlu", Layout: "mmlu-hf", Dataset: []string{"synthetic"}, Shots: 5, Scoring: "letter"},
		Status:   results.RunComplete, Started: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		WallSeconds: 600, Examples: n,
	}
	if err := results.WriteRun(dir, run); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, results.JournalFile))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	enc := json.NewEncoder(w)
	start := run.Started
	for i := range n {
		for mi, m := range models {
			gold := rng.IntN(4)
			s := results.Sample{
				Model: m, ID: fmt.Sprintf("q%d", i), Subject: subjects[i%len(subjects)], Seq: i,
				Gold: gold, NumChoices: 4, Status: results.StatusOK, Method: "letter",
				Start: start, End: start.Add(80 * time.Millisecond),
				Requests: []results.Request{{Kind: "completions", LatencyMS: 20 + 200*rng.Float64(), Attempts: 1, Status: 200, PromptTokens: 500, CompletionTokens: 1}},
			}
			if i%500 == 7 {
				s.Status, s.Error = results.StatusFailed, "completions: status 503 after 3 attempts"
				s.Requests[0].Attempts, s.Requests[0].Errors = 3, []int{503, 503, 503}
			} else {
				s.LogLik = make([]float64, 4)
				for k := range s.LogLik {
					s.LogLik[k] = -0.1 - 4*rng.Float64()
				}
				if rng.Float64() < 0.5+0.1*float64(mi) {
					s.LogLik[gold] = -0.05
				}
				s.CharLen = []int{1, 1, 1, 1}
				s.Pred = 0
				for k, v := range s.LogLik {
					if v > s.LogLik[s.Pred] {
						s.Pred = k
					}
				}
				s.PredNorm = s.Pred
				s.Acc, s.AccNorm = s.Pred == gold, s.Pred == gold
			}
			if err := enc.Encode(&s); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return dir
}

// BenchmarkBuild measures Build on an MMLU-sized journal (14,042 samples
// per model), and on four times that to show memory stays flat: B/op is
// dominated by decoding each line (allocated and dropped line by line);
// peak-heap-MB is what is held at once, which grows with the compact
// per-sample records only, far below the journal's size.
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n      int
		models []string
	}{
		{"mmlu-1model", 14042, []string{"base"}},
		{"mmlu-2models", 14042, []string{"base", "base:lora"}},
		{"4xmmlu-1model", 4 * 14042, []string{"base"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := writeSyntheticRun(b, bc.n, bc.models)
			b.ReportAllocs()
			var r *Report
			for b.Loop() {
				var err error
				if r, err = Build(context.Background(), dir, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_ = r
			samples := float64(bc.n * len(bc.models))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/samples, "ns/sample")
			b.ReportMetric(peakHeapMB(b, dir), "peak-heap-MB")
			st, _ := os.Stat(filepath.Join(dir, results.JournalFile))
			b.ReportMetric(float64(st.Size())/1e6, "journal-MB")
		})
	}
}

// peakHeapMB runs Build once more and samples the live heap every
// millisecond: the high-water mark, less the heap before, is what Build
// holds at once (compact per-sample records, not the samples).
func peakHeapMB(b *testing.B, dir string) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	if _, err := Build(context.Background(), dir, Options{}); err != nil {
		b.Fatal(err)
	}
	close(done)
	<-sampled
	return math.Max(0, float64(peak)-float64(base)) / 1e6
}

// BenchmarkWriteAll adds writing every file but the charts (parquet, JSON,
// Markdown, CSV, lm-eval, HTML) to Build.
func BenchmarkWriteAll(b *testing.B) {
	dir := writeSyntheticRun(b, 14042, []string{"base", "base:lora"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WriteAll(context.Background(), dir, Options{SkipPlots: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFigures measures drawing every chart, as SVG and as PNG.
func BenchmarkFigures(b *testing.B) {
	dir := writeSyntheticRun(b, 14042, []string{"base", "base:lora"})
	r, err := Build(context.Background(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"svg", "png"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range r.Figures() {
					if _, err := f.Render(format); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
