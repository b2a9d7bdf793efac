// Package reports turns a run directory's journal into the statistics and
// files evaluation engineers act on: report.json (a versioned contract,
// schema "evalbench.report/v1"), report.md, report.html, subjects.csv,
// samples.parquet, plots/ and lm-evaluation-harness shaped results files:
// results_lmeval.json for a one-model run, and one
// results_lmeval_<model_name_sanitized>.json per model otherwise, as
// lm-eval writes one results file per model.
//
// MMLU's category groups (and the overall mmlu group) are computed only
// when run.json's layout says the data is MMLU (mmlu-hf or mmlu-csv), never
// from subject names: MMLU-Pro shares the mmlu prompt family and has a
// philosophy category, and must not be reported as MMLU.
//
// It reads only what the results package defines (run.json and
// samples.jsonl) and never touches the network, so any report can be rebuilt
// offline at any time with `evalbench report DIR`.
//
// Build reads and computes; it writes nothing. WriteAll builds and then
// writes every file, each atomically (temporary file + rename), so a reader
// never sees a half-written report. Each output format is a small function
// taking an io.Writer and a *Report (markdown.go, html.go, csvfile.go,
// parquetfile.go, lmeval.go, plots.go, jsonfile.go); the statistics live in
// stats.go, calibration.go, latency.go, groups.go and compare.go.
//
// The journal is streamed once to compute everything: each (model, example)
// keeps a compact record (a few bytes of outcome bits and two floats) so the
// last line for a key can replace an earlier one and so models can be paired
// per example; full samples are never held. samples.parquet is written by a
// second streaming pass that keeps exactly the lines the first pass kept.
package reports
