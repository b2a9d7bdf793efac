// Package datasets reads multiple-choice benchmarks in the layouts they are
// published in (cais/mmlu, the original MMLU CSVs, ARC, HellaSwag, PIQA,
// MMLU-Pro, or a field mapping) from JSONL, JSON, CSV and Parquet, and turns
// them into typed Examples one at a time. Memory grows only by the set that
// catches duplicate IDs, about 14 bytes a row.
//
// Every bad record becomes a RecordError naming the file, the line (JSONL,
// CSV) or row (Parquet) and the field. Under the Skip policy reading goes on
// and the errors are kept for the report.
package datasets
