// Package simulator is a local HTTP server that speaks the FriendliAI
// inference API (../shared/reference/friendli-api.md) from a deterministic
// tokenizer and language model, with a latency model, a capacity limit and
// seeded faults. It lets the harness run, be demonstrated and be tested
// with no token and no network, and it is the counterpart of the load
// tests. It imports nothing of the project's: its wire shapes are written
// from the API notes, so a client mistake cannot hide in a shared type.
//
// # Paths
//
//	POST /dedicated/v1/{completions,chat/completions,tokenize,detokenize,chat/render}
//	     model "ENDPOINT" or "ENDPOINT:ADAPTER" (required; unknown: 404)
//	POST /serverless/v1/{completions,chat/completions,tokenize,detokenize,chat/render}
//	     model = a serverless model code (required; unknown: 404)
//	POST /serverless/tools/v1/chat/completions
//	     tools [{"type":"math:calculator"}] evaluates the arithmetic of the
//	     last user message; other tool types: 422
//	POST /v1/{completions,chat/completions,tokenize,detokenize}  (container)
//	     model optional: an adapter route, "ENDPOINT:ADAPTER" or an endpoint
//	     ID; absent means the first endpoint's base model
//	GET  /health   200 {"status":"ok"}
//	GET  /metrics  Prometheus text: simulator_requests_total{path,status},
//	     simulator_errors_total, simulator_faults_total{kind},
//	     simulator_in_flight, simulator_queued, simulator_generating, ...
//
// With Config.Token set, every POST path needs "Authorization: Bearer
// <Token>" (401 otherwise; the body never echoes the token).
//
// # Tokenizer
//
// See Tokenizer. BOS (ID 1) starts every tokenization, as the notes'
// tokenize example does; EOS is ID 2. Byte tokens for 0x80-0xFF are written
// "<0xNN>" wherever a token string appears (logprobs.tokens, top_logprobs
// keys, chat logprobs "token"); their raw bytes are in chat's "bytes".
//
// # Model
//
// See model.go: an exact log-softmax over the whole vocabulary, a pure
// function of (seed, endpoint, adapter, context tokens). The prompt given as
// text or as the same token IDs scores identically.
//
// # Replies
//
// Completions (non-streaming), with no "created" (the schema has none):
//
//	{"id":"cmpl-…","object":"text_completion","model":"<endpoint>",
//	 "choices":[{"index":0,"seed":S,"text":"…","tokens":[…],"finish_reason":"stop|length",
//	             "logprobs":{"text_offset":[…],"token_logprobs":[…],"tokens":["…"],
//	                         "top_logprobs":[{"<token>":lp,…}]}}],
//	 "usage":{"prompt_tokens":P,"completion_tokens":C,"total_tokens":P+C}}
//
// "logprobs" appears when the request has the integer "logprobs" = k: one
// entry per output token, top_logprobs dictionaries of exactly k entries in
// rank order (the chosen token is not added unless
// Quirks.TopLogprobsWithChosen), and a token's own logprob bit-identical to
// its dictionary entry. text_offset counts characters (code points) of the
// completion text; a token that starts inside a character gets the offset
// of that character. Logprobs are of the model's raw distribution,
// whatever the sampling settings.
//
// A choice's "seed" replays it with n = 1. A seed list gives one seed per
// choice; a single seed with n > 1 seeds the first choice and derives the
// others' (the n results are independent, not copies). Without a seed, each
// choice draws one.
//
// Sampling follows HF transformers and vLLM: tokens that may not be
// generated (PAD, BOS; EOS and eos_token before min_tokens) are removed
// first, then temperature, top_k, top_p of the renormalised top-k mass, and
// min_p; temperature 0 or top_k 1 is greedy.
//
// With forced_output_tokens the output is exactly those tokens: max_tokens,
// when given, must be at least their number; finish_reason is "length" when
// they fill the allowed output (max_tokens = their number) and "stop"
// otherwise. Both prompt and tokens: 422. A prompt list of one string is
// that string; longer lists (batches): 422.
//
// Completions stream (text/event-stream), one "data: {json}\n\n" per chunk:
//
//	{"id","object":"text_completion","model","choices":[{"index":0,"text":" such","token":1778,
//	  "finish_reason":null,"logprobs":null}],"created":T}
//	… then {"choices":[{"index":0,"text":"","finish_reason":"length","logprobs":null}]} (no "token")
//	… then, with stream_options.include_usage, {"choices":[],"usage":{…}}
//	data: [DONE]
//
// The first chunk carries the first token alone, at TTFT. With
// Quirks.ChunkTokens = c > 1 each later chunk carries c tokens (speculative
// decoding): "text" is their concatenation, "tokens" lists all their IDs,
// and "token" is the last of them. A chunk's "logprobs" (when asked for)
// covers its tokens. Text that might still become a stop string, or an
// incomplete UTF-8 character, is held back to a later chunk; what is left
// at the end goes in the finish chunk's "text".
//
// Chat: {"object":"chat.completion","choices":[{"index","message":{"role":"assistant","content"},
// "finish_reason","logprobs":{"content":[{"token","logprob","bytes","top_logprobs":[…]}]}}],
// "usage","created"}; chunks are "chat.completion.chunk" with "delta"
// ({"role":"assistant","content":…} on a choice's first chunk, {"content":…}
// after, {} on the finish chunk) and "usage":null, then the usage chunk
// with "choices":[] and [DONE], as for completions.
//
// Legacy completions stream (Quirks.LegacyStream): per token "event:
// token_sampled" + data {"event":"token_sampled","index","text","token"},
// then "event: complete" + data {"event":"complete","choices":[<non-stream
// choices>],"usage":{…}}, and no [DONE].
//
// Errors are JSON in the Quirks.ErrorShape envelope; validation failures
// are 422 and name the field (OpenAI "param", FastAPI "loc"). Unknown
// fields are ignored; documented options the simulator cannot honour
// (penalties, response_format other than text, bad words, embeddings,
// XTC, logit_bias) are refused with 422 unless neutral. 429 carries
// Retry-After (whole seconds, rounded up) and retry-after-ms.
//
// # Timing
//
// A request waits FIFO for capacity (Config.Capacity sequences; n choices
// take n), then its first token is due TTFT + PerPromptToken×prompt tokens
// after it arrived (or after it got its slot, if it queued), each later one
// ITL after the previous, each ×(1±Jitter), all against absolute deadlines.
// A non-streaming reply is sent at the last step's deadline. Timers fire
// early by the server's own median write lateness (see lead), so output
// leaves at its deadline even on a loaded machine. Tokenize and detokenize
// take Latency.Tokenize and no slot.
//
// # Faults
//
// The n-th request (completions, chat, tokenize, detokenize, render) draws
// its fault from hash(seed, n): 429, 500, 503 or a reset (RST before any
// byte) are exclusive outcomes; generation requests may also be cut (a
// stream closed after a seeded number of chunks, never with [DONE]; a
// reply closed half-way through its body) and slowed (SlowDelay before the
// first token).
package simulator
