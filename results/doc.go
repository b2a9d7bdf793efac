// Package results defines what an evaluation run leaves on disk and how it is
// read back: the run description (run.json), one Sample per scored example and
// model (samples.jsonl, the journal), and the codec for both.
//
// It sits at a leaf of the import graph so that the runner, which writes these
// records, and reports, which only reads them and never touches the network,
// agree on one definition without importing each other.
package results
