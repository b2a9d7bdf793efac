// Package endpoint is the HTTP client for FriendliAI Dedicated Endpoints,
// Friendli Container and OpenAI-compatible servers: completions (with
// forced_output_tokens and integer logprobs), chat, tokenize and detokenize,
// plain and streamed.
//
// Every call returns a Call that records each attempt (status, latency,
// backoff), so reports can count retries and errors by status. Failed
// attempts are retried per RetryPolicy: 429, 500, 502, 503, 504 and
// connection errors, honouring Retry-After and retry-after-ms.
//
// Replies are decoded strictly where a wrong number would be silently wrong:
// a null, string or missing value among logprobs or token IDs is an error
// naming the field and index, never a zero.
//
// The bearer token never appears in an error, an APIError field or a Call:
// every string taken from a reply or an error is scrubbed of it.
//
// The API facts this package follows are in ../shared/reference/friendli-api.md.
package endpoint
