// Package runner drives scorers over an endpoint: it fans requests out under
// a concurrency cap and an optional request rate, journals every finished
// sample, resumes from the journal, and stops cleanly on interrupt.
//
// The split follows vegeta's: a Limiter decides when a request may go, a
// Scorer decides what to send, and the run loop streams finished Samples to
// the journal.
package runner
