// Package loadgen is the engine of `evalbench load`: it loads a streaming
// completions or chat endpoint with closed-loop (N in flight) or open-loop
// (arrival-rate) steps, or a sweep that finds the saturation knee, and
// measures every request from its stream. It returns a results.LoadReport
// and writes one results.LoadRequest line per request as it ends; the
// reports package renders both.
//
// # Schedules
//
// An open-loop step builds one seeded, absolute schedule (Schedule:
// constant, Poisson, or gamma with vLLM's burstiness convention) and
// dispatches each arrival at its offset from the step's start on the
// monotonic clock, in its own goroutine, so a slow request never holds the
// schedule back and a late dispatcher catches up instead of stretching it.
// With MaxConcurrency the request then waits for a slot; that wait is
// client queue time and counts in the from-intended latencies. A
// closed-loop step runs N clients, each starting its next request when the
// previous ends (RampUp spreads their first starts).
//
// # Windows
//
// Each step has a warm-up, a measurement window (Duration, or until
// Requests requests started) and a cool-down. A request is measured iff
// its intended start time falls inside the window (the GuideLLM #1078
// fix: a warm-up request that ends inside the window is not measured).
// The cool-down keeps the load on while the last measured requests finish;
// once they have, requests still running from the cool-down are cancelled
// and logged as cancelled. Throughput counts what successful requests did
// inside the window: completions (at their last token), output tokens as
// they arrived (a request's usage count spread over its streamed tokens),
// and prompt tokens at the first token.
//
// # Metrics
//
// Every request asks for stream_options.include_usage and, unless
// NaturalOutput is set, min_tokens = max_tokens = OutputTokens. From the
// stream (chunk times are taken when the event's last line was read,
// before JSON decoding):
//
//   - TTFT: to the first chunk that carries a token (endpoint.Chunk.Tokens
//     > 0: text, token IDs or reasoning; a tool-call delta counts as one
//     token), never to an empty or role-only chunk.
//   - ITL: one sample per token. A chunk of k tokens, g after the previous
//     token-carrying chunk, gives k samples of g/k. Tokens beyond the first
//     in the first chunk give none: they arrived with the first token and
//     their time is inside TTFT.
//   - E2E: to the last token-carrying chunk (not the trailing usage chunk
//     or [DONE]), so that E2E − TTFT is the decode time of tokens 2..n.
//   - TPOT: (E2E − TTFT) / (output tokens − 1), only when output > 1.
//   - Output tokens: usage.completion_tokens; counted from the stream when
//     the reply has no usage. Requests where the two disagree are counted.
//   - Schedule lag: sent − intended. Dispatch lag: how late the client
//     started the request; client queue: the wait for a slot.
//
// TTFT and E2E are reported from the intended send time (correcting
// coordinated omission) and from the actual send time, labelled. Latency
// distributions cover the measured requests that succeeded; errors are
// counted by kind. Each request makes one attempt: a retry would hide an
// error and distort latency. Distributions are HDR histograms (3
// significant digits), kept per step and written into load.json so they
// can be merged and re-plotted.
//
// Goodput under an SLO: a request is good iff it succeeded and every
// objective holds (TTFT and E2E from the intended time); goodput is the
// step's requests/s times the share of its measured successes that were
// good (errors are already out of requests/s), and a step meets the SLOs
// when the good fraction of all its measured requests (errors count as
// not good) reaches the attainment target.
//
// # The client's own cost
//
// Each step records the process's CPU time (getrusage) per wall second and
// its lags; load.json warns when the client used more than 80% of a core
// or its schedule lag p99 exceeded 5 ms (its dispatch lag under
// MaxConcurrency, where the schedule lag also holds the wait for a slot),
// so a saturated client is not mistaken for a slow server.
package loadgen
