// Package scorers turns multiple-choice examples into forced-token
// completions requests and their log-probabilities into per-sample results.
//
// Two methods are offered. "letter" scores the labels (" A", " B", ...) after
// an MMLU-style prompt and, when every label is a single token, reads all of
// them from one request: it forces the first label with logprobs=K and looks
// the others up in top_logprobs at position 0, sending one more forced request
// only for a label missing from the top K. "continuation" scores each choice's
// text, tokenized in context as lm-eval does, with one forced request per
// choice.
//
// Every response is checked (token count, token identity, finite and
// non-positive values). A response that fails a check fails the sample with
// the reason; nothing is ever scored from a guess.
package scorers
