package simulator

// Reply bodies and stream chunks, in the shapes of the API notes (§2.2,
// §2.3, §2.5 and §3). Every appender writes one JSON value.

// appendUsage writes {"prompt_tokens","completion_tokens","total_tokens"}.
func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, prompt)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, completion)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, prompt+completion)
	return append(b, '}')
}

// appendCompletionLogprobs writes the logprobs of q's pending tokens:
//
//	{"text_offset":[..],"token_logprobs":[..],"tokens":[..],"top_logprobs":[{tok:lp,..},..]}
//
// or, with Quirks.LegacyLogprobs, the flat list of token logprobs. Top-k
// dictionaries are written in rank order.
func (s *Server) appendCompletionLogprobs(b []byte, q *seq) []byte {
	qk := &s.cfg.Quirks
	lps := q.lps
	if qk.FewerLogprobs && len(lps) > 0 {
		lps = lps[:len(lps)-1]
	}
	writeLPs := func(b []byte) []byte {
		b = append(b, '[')
		for i, v := range lps {
			if i > 0 {
				b = append(b, ',')
			}
			if qk.NaNLogprob && i == 0 {
				b = append(b, "NaN"...)
				continue
			}
			b = s.lm.lpText.append(b, v)
		}
		return append(b, ']')
	}
	if qk.LegacyLogprobs {
		return writeLPs(b)
	}
	toks := q.pendingToks()
	b = append(b, `{"text_offset":`...)
	b = appendInts(b, q.offsets)
	b = append(b, `,"token_logprobs":`...)
	b = writeLPs(b)
	b = append(b, `,"tokens":[`...)
	for i, t := range toks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s.tok.TokenString(t))
	}
	b = append(b, `],"top_logprobs":[`...)
	k := q.r.topK
	for i := range toks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for j, e := range q.tops[i*k : (i+1)*k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s.tok.TokenString(e.tok))
			b = append(b, ':')
			b = s.lm.lpText.append(b, e.lp)
		}
		if qk.TopLogprobsWithChosen && !q.chosen[i] {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s.tok.TokenString(toks[i]))
			b = append(b, ':')
			b = s.lm.lpText.append(b, q.lps[i])
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendChatLogprobs writes OpenAI's {"content":[{"token","logprob","bytes","top_logprobs":[..]}]}
// for q's pending tokens.
func (s *Server) appendChatLogprobs(b []byte, q *seq) []byte {
	b = append(b, `{"content":[`...)
	k := q.r.topK
	entry := func(b []byte, t int, lp float64) []byte {
		b = append(b, `{"token":`...)
		b = appendString(b, s.tok.TokenString(t))
		b = append(b, `,"logprob":`...)
		b = s.lm.lpText.append(b, lp)
		b = append(b, `,"bytes":[`...)
		for i, c := range s.tok.TokenBytes(t) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendInt(b, int(c))
		}
		return append(b, ']')
	}
	for i, t := range q.pendingToks() {
		if i > 0 {
			b = append(b, ',')
		}
		b = entry(b, t, q.lps[i])
		b = append(b, `,"top_logprobs":[`...)
		for j, e := range q.tops[i*k : (i+1)*k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = entry(b, e.tok, e.lp)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// appendReplyTokens writes choices[].tokens, applying the WrongTokens
// misbehaviour.
func (s *Server) appendReplyTokens(b []byte, toks []int) []byte {
	if s.cfg.Quirks.WrongTokens && len(toks) > 0 {
		b = append(b, '[')
		b = appendInt(b, (toks[0]+1)%s.tok.VocabSize())
		for _, t := range toks[1:] {
			b = append(b, ',')
			b = appendInt(b, t)
		}
		return append(b, ']')
	}
	return appendInts(b, toks)
}

// appendCompletionChoice writes one non-streaming choice:
// {"index","seed","text","tokens","finish_reason"[,"logprobs"]}.
func (s *Server) appendCompletionChoice(b []byte, q *seq) []byte {
	b = append(b, `{"index":`...)
	b = appendInt(b, q.index)
	b = append(b, `,"seed":`...)
	b = appendUint(b, q.seed)
	b = append(b, `,"text":`...)
	b = appendString(b, q.text)
	if !s.cfg.Quirks.NoTokens {
		b = append(b, `,"tokens":`...)
		b = s.appendReplyTokens(b, q.toks)
	}
	b = append(b, `,"finish_reason":`...)
	b = appendString(b, q.finish)
	if q.r.topK >= 0 {
		b = append(b, `,"logprobs":`...)
		b = s.appendCompletionLogprobs(b, q)
	}
	return append(b, '}')
}

func (j *job) completionTokens() int {
	n := 0
	for _, q := range j.seqs {
		n += len(q.toks)
	}
	return n
}

// appendCompletionsBody writes the non-streaming completions result. The
// schema has no "created" here (streamed chunks have one), so none is sent.
func (s *Server) appendCompletionsBody(b []byte, j *job) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, j.id)
	b = append(b, `,"object":"text_completion"`...)
	b = j.appendModel(b)
	b = append(b, `,"choices":[`...)
	for i, q := range j.seqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendCompletionChoice(b, q)
	}
	b = append(b, `],"usage":`...)
	b = appendUsage(b, len(j.gr.prompt), j.completionTokens())
	return append(b, '}')
}

func (j *job) appendModel(b []byte) []byte {
	if j.modelName == "" {
		return b
	}
	b = append(b, `,"model":`...)
	return appendString(b, j.modelName)
}

// appendChatBody writes the non-streaming chat result.
func (s *Server) appendChatBody(b []byte, j *job) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, j.id)
	b = append(b, `,"object":"chat.completion"`...)
	b = j.appendModel(b)
	b = append(b, `,"choices":[`...)
	for i, q := range j.seqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = appendInt(b, q.index)
		b = append(b, `,"message":{"role":"assistant","content":`...)
		b = appendString(b, q.text)
		b = append(b, `},"finish_reason":`...)
		b = appendString(b, q.finish)
		if j.chatLogprobs {
			b = append(b, `,"logprobs":`...)
			b = s.appendChatLogprobs(b, q)
		}
		b = append(b, '}')
	}
	b = append(b, `],"usage":`...)
	b = appendUsage(b, len(j.gr.prompt), j.completionTokens())
	b = append(b, `,"created":`...)
	b = appendInt(b, int(j.created))
	return append(b, '}')
}

// Stream chunks. Each is written as "data: <json>\n\n".

func (j *job) appendChunkHead(b []byte, object string) []byte {
	b = append(b, `data: {"id":`...)
	b = appendString(b, j.id)
	b = append(b, `,"object":"`...)
	b = append(b, object...)
	b = append(b, '"')
	b = j.appendModel(b)
	return b
}

func (j *job) appendChunkTail(b []byte) []byte {
	b = append(b, `,"created":`...)
	b = appendInt(b, int(j.created))
	return append(b, "}\n\n"...)
}

func (s *Server) appendNullFinish(b []byte) []byte {
	if s.cfg.Quirks.NullFinishString {
		return append(b, `"null"`...)
	}
	return append(b, "null"...)
}

// appendCompletionChunk writes a chunk with q's pending tokens:
// {"index","text","token","finish_reason":null,"logprobs"}. A chunk of
// several tokens (Quirks.ChunkTokens > 1) also lists them all in "tokens",
// and "token" is the last of them.
func (s *Server) appendCompletionChunk(b []byte, j *job, q *seq, text []byte) []byte {
	toks := q.pendingToks()
	b = j.appendChunkHead(b, "text_completion")
	b = append(b, `,"choices":[{"index":`...)
	b = appendInt(b, q.index)
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	b = append(b, `,"token":`...)
	b = appendInt(b, toks[len(toks)-1])
	if len(toks) > 1 {
		b = append(b, `,"tokens":`...)
		b = appendInts(b, toks)
	}
	b = append(b, `,"finish_reason":`...)
	b = s.appendNullFinish(b)
	b = append(b, `,"logprobs":`...)
	if q.r.topK >= 0 {
		b = s.appendCompletionLogprobs(b, q)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, "}]"...)
	return j.appendChunkTail(b)
}

// appendCompletionFinish writes the finish chunk: no "token" key, the
// finish_reason, and empty text unless held-back text (a partial stop
// string that never completed, or a partial character) remains.
func (s *Server) appendCompletionFinish(b []byte, j *job, q *seq, text []byte) []byte {
	b = j.appendChunkHead(b, "text_completion")
	b = append(b, `,"choices":[{"index":`...)
	b = appendInt(b, q.index)
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	b = append(b, `,"finish_reason":`...)
	b = appendString(b, q.finish)
	b = append(b, `,"logprobs":null}]`...)
	return j.appendChunkTail(b)
}

// appendUsageChunk writes {"choices":[],"usage":{..}}.
func (s *Server) appendUsageChunk(b []byte, j *job, object string) []byte {
	b = j.appendChunkHead(b, object)
	b = append(b, `,"choices":[],"usage":`...)
	b = appendUsage(b, len(j.gr.prompt), j.completionTokens())
	return j.appendChunkTail(b)
}

// appendChatChunk writes {"index","delta":{["role":"assistant",]"content"},"finish_reason":null,"logprobs"}.
func (s *Server) appendChatChunk(b []byte, j *job, q *seq, text []byte, first bool) []byte {
	b = j.appendChunkHead(b, "chat.completion.chunk")
	b = append(b, `,"choices":[{"index":`...)
	b = appendInt(b, q.index)
	b = append(b, `,"delta":{`...)
	if first {
		b = append(b, `"role":"assistant",`...)
	}
	b = append(b, `"content":`...)
	b = appendString(b, text)
	b = append(b, `},"finish_reason":`...)
	b = s.appendNullFinish(b)
	b = append(b, `,"logprobs":`...)
	if j.chatLogprobs && len(q.pendingToks()) > 0 {
		b = s.appendChatLogprobs(b, q)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `}],"usage":null`...)
	return j.appendChunkTail(b)
}

// appendChatFinish writes the finish chunk: delta {} (or the held-back
// text), finish_reason.
func (s *Server) appendChatFinish(b []byte, j *job, q *seq, text []byte) []byte {
	b = j.appendChunkHead(b, "chat.completion.chunk")
	b = append(b, `,"choices":[{"index":`...)
	b = appendInt(b, q.index)
	b = append(b, `,"delta":{`...)
	if len(text) > 0 {
		b = append(b, `"content":`...)
		b = appendString(b, text)
	}
	b = append(b, `},"finish_reason":`...)
	b = appendString(b, q.finish)
	b = append(b, `,"logprobs":null}],"usage":null`...)
	return j.appendChunkTail(b)
}

// Legacy stream (pre-2024-12): one event per token, then one "complete"
// event holding the whole result, and no [DONE].

func appendLegacyToken(b []byte, index, tok int, text []byte) []byte {
	b = append(b, "event: token_sampled\ndata: {\"event\":\"token_sampled\",\"index\":"...)
	b = appendInt(b, index)
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	b = append(b, `,"token":`...)
	b = appendInt(b, tok)
	return append(b, "}\n\n"...)
}

func (s *Server) appendLegacyComplete(b []byte, j *job) []byte {
	b = append(b, "event: complete\ndata: {\"event\":\"complete\",\"choices\":["...)
	for i, q := range j.seqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendCompletionChoice(b, q)
	}
	b = append(b, `],"usage":`...)
	b = appendUsage(b, len(j.gr.prompt), j.completionTokens())
	return append(b, "}\n\n"...)
}
