package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"
)

// Chunk is one streamed piece of a reply that carries something: text,
// token IDs, a finish reason, usage, tool calls or reasoning.
type Chunk struct {
	// Arrived is when the event's terminating line was read, before JSON
	// decoding (monotonic clock).
	Arrived time.Time
	// Text is the completions text delta, or the chat delta's content.
	Text string
	// TokenIDs are the chunk's token IDs: choices[].tokens if given, else
	// choices[].token.
	TokenIDs []int
	// Tokens is how many tokens the chunk carries: len(TokenIDs) if any;
	// else the number of logprobs entries if any; else 1 if it has text or
	// reasoning; else 0. Servers that batch tokens per event (speculative
	// decoding) make this more than 1.
	Tokens int
	// FinishReason is "" until the choice finishes (JSON null and the
	// string "null" both mean not finished).
	FinishReason string
	// Usage is set on the usage chunk (choices: []) and the legacy
	// "complete" event.
	Usage *Usage
	// Event is "token_sampled" or "complete" in the legacy stream format,
	// "" otherwise. A "complete" chunk carries usage and the finish reason
	// but not the text again.
	Event string
	// Index is the choice index.
	Index        int
	Logprobs     *Logprobs
	ChatLogprobs *ChatLogprobs
	ToolCalls    []ToolCall
	// Reasoning is the chat delta's reasoning_content (or reasoning).
	Reasoning string

	one [1]int // backs TokenIDs for the usual single token: no allocation
}

func (ch *Chunk) carries() bool {
	return ch.Text != "" || len(ch.TokenIDs) > 0 || ch.FinishReason != "" || ch.Usage != nil ||
		len(ch.ToolCalls) > 0 || ch.Reasoning != "" || ch.Event == "complete" ||
		ch.Logprobs != nil || (ch.ChatLogprobs != nil && len(ch.ChatLogprobs.Content) > 0)
}

func (ch *Chunk) count() {
	switch {
	case len(ch.TokenIDs) > 0:
		ch.Tokens = len(ch.TokenIDs)
	case ch.Logprobs != nil && max(len(ch.Logprobs.Tokens), len(ch.Logprobs.TokenLogprobs)) > 0:
		ch.Tokens = max(len(ch.Logprobs.Tokens), len(ch.Logprobs.TokenLogprobs))
	case ch.ChatLogprobs != nil && len(ch.ChatLogprobs.Content) > 0:
		ch.Tokens = len(ch.ChatLogprobs.Content)
	case ch.Text != "" || ch.Reasoning != "":
		ch.Tokens = 1
	}
}

func (ch *Chunk) setTokens(t tokenIDs, list []int) {
	switch {
	case len(list) > 0:
		ch.TokenIDs = list
	case len(t.list) > 0:
		ch.TokenIDs = t.list
	case t.has:
		ch.one[0] = t.one
		ch.TokenIDs = ch.one[:]
	}
}

// Stream is a streamed completions or chat reply. It is not safe for
// concurrent use; cancel the request's context to interrupt a blocked Next.
type Stream struct {
	c      *Client
	path   apiPath
	chat   bool
	ctx    context.Context // the caller's
	actx   context.Context // the attempt's: the caller's plus the timeout
	cancel context.CancelFunc
	body   io.ReadCloser
	sse    *SSEReader

	queue []*Chunk // chunks decoded from the last event, from head on
	head  int
	// Chunks are recycled: the one Next returned last goes back to free
	// at the next call, so a stream allocates a chunk or two, not one per
	// event.
	last     *Chunk
	free     []*Chunk
	events   int
	complete bool // the legacy "complete" event was seen
	err      error
	closed   bool

	wc   completionChunkWire
	wh   chatChunkWire
	scan *scanner // the fast path (fastchunk.go), from the client's pool

	// One strict decoder per stream, fed one event at a time: json.Unmarshal
	// would allocate its decoding state afresh for every event.
	dec  *json.Decoder
	feed eventFeed
	fed  int64
}

// eventFeed hands the decoder the current event's data, then EOF.
type eventFeed struct{ data []byte }

func (f *eventFeed) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// decode decodes one event's data (trimmed) into v, as strictly as
// json.Unmarshal: one value, nothing after it.
func (s *Stream) decode(data []byte, v any) error {
	if s.dec == nil {
		s.dec = json.NewDecoder(&s.feed)
	}
	s.feed.data = data
	s.fed += int64(len(data))
	if err := s.dec.Decode(v); err != nil {
		// The decoder counts offsets from the start of the stream;
		// validating the event alone gives offsets within it.
		if serr := json.Unmarshal(data, new(json.RawMessage)); serr != nil {
			return serr
		}
		return err
	}
	if s.dec.InputOffset() != s.fed {
		return errors.New("invalid JSON after the event's value")
	}
	return nil
}

var errStreamClosed = errors.New("endpoint: stream closed")

// Next returns the next chunk that carries anything. The chunk is valid
// until the next call to Next, which reuses its memory (TokenIDs included):
// copy what must outlive it. Its Usage, Logprobs and ToolCalls are not
// reused. It returns io.EOF after
// "[DONE]" (or the end of the body after a legacy "complete" event). A body
// that ends before either is an error wrapping io.ErrUnexpectedEOF ("stream
// cut"). A cancelled context ends the stream promptly with its error.
func (s *Stream) Next() (*Chunk, error) {
	if s.last != nil {
		s.free = append(s.free, s.last)
		s.last = nil
	}
	for {
		if s.head < len(s.queue) {
			ch := s.queue[s.head]
			s.queue[s.head] = nil
			s.head++
			s.last = ch
			return ch, nil
		}
		s.queue, s.head = s.queue[:0], 0
		if s.err != nil {
			return nil, s.err
		}
		ev, err := s.sse.Next()
		if err != nil {
			s.err = s.endError(err)
			continue
		}
		s.events++
		data := trimWS(ev.Data)
		switch {
		case len(data) == 0:
			continue
		case string(data) == "[DONE]":
			s.err = io.EOF
			continue
		case ev.Name == "error":
			s.err = s.eventError(data)
			continue
		}
		if s.chat {
			err = s.decodeChat(&ev, data)
		} else {
			err = s.decodeCompletion(&ev, data)
		}
		if err != nil {
			s.err = err
		}
	}
}

// Close ends the stream and releases its connection. After a complete
// stream the rest of the body is drained, briefly, so the connection can be
// reused.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.err == io.EOF {
		t := time.AfterFunc(100*time.Millisecond, s.cancel)
		io.Copy(io.Discard, io.LimitReader(s.body, 64<<10))
		t.Stop()
	}
	s.body.Close()
	s.cancel()
	if s.err == nil {
		s.err = errStreamClosed
	}
	s.c.putSSE(s.sse)
	s.sse = nil
	if s.scan != nil {
		s.c.putScanner(s.scan)
		s.scan = nil
	}
	return nil
}

func (s *Stream) endError(err error) error {
	if s.closed {
		return errStreamClosed
	}
	switch {
	case s.ctx.Err() != nil:
		return s.c.errorf("endpoint: %s: stream: %w", s.path, s.ctx.Err())
	case errors.Is(s.actx.Err(), context.DeadlineExceeded):
		return s.c.errorf("endpoint: %s: stream cut by the %v attempt timeout after %s: %w: %w",
			s.path, s.c.timeout, plural(s.events, "event"), io.ErrUnexpectedEOF, context.DeadlineExceeded)
	case err == io.EOF && s.complete:
		return io.EOF
	case err == io.EOF:
		return s.c.errorf("endpoint: %s: stream cut: the body ended after %s without [DONE]: %w", s.path, plural(s.events, "event"), io.ErrUnexpectedEOF)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return s.c.errorf("endpoint: %s: stream cut after %s: %w", s.path, plural(s.events, "event"), err)
	}
	return s.c.errorf("endpoint: %s: stream cut after %s: %w: %w", s.path, plural(s.events, "event"), io.ErrUnexpectedEOF, err)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (s *Stream) eventError(data []byte) error {
	msg := errorMessage(s.c.scrub.bytes(data), "application/json")
	return s.c.errorf("endpoint: %s: the server reported an error mid-stream: %s", s.path, msg)
}

func (s *Stream) decodeError(data []byte, shape *node, err error) error {
	return s.c.errorf("endpoint: %s: decode stream event %d: %w; event: %s", s.path, s.events, explainDecode(shape, data, err), s.c.quoteBody(data))
}

func (s *Stream) newChunk(ev *Event) *Chunk {
	if n := len(s.free); n > 0 {
		ch := s.free[n-1]
		s.free = s.free[:n-1]
		*ch = Chunk{Arrived: ev.Arrived}
		return ch
	}
	return &Chunk{Arrived: ev.Arrived}
}

func (s *Stream) push(ch *Chunk) {
	if ch.carries() {
		ch.count()
		s.queue = append(s.queue, ch)
		return
	}
	s.free = append(s.free, ch)
}

type completionChunkWire struct {
	// The legacy format puts one token's fields at the top level.
	Event   string                   `json:"event"`
	Index   int                      `json:"index"`
	Text    string                   `json:"text"`
	Token   tokenIDs                 `json:"token"`
	Choices []completionStreamChoice `json:"choices"`
	Usage   *Usage                   `json:"usage"`
	Error   json.RawMessage          `json:"error"`
}

type completionStreamChoice struct {
	Index        int       `json:"index"`
	Text         string    `json:"text"`
	Token        tokenIDs  `json:"token"`
	Tokens       ints      `json:"tokens"`
	FinishReason string    `json:"finish_reason"`
	Logprobs     *Logprobs `json:"logprobs"`
}

var completionChunkShape = obj(f("event", strNode), f("index", intNode), f("text", strNode), f("token", tokenIDNode),
	f("choices", list(obj(f("index", intNode), f("text", strNode), f("token", tokenIDNode), f("tokens", intsNode),
		f("finish_reason", strNode), f("logprobs", logprobsNode)))),
	f("usage", usageNode))

func (s *Stream) decodeCompletion(ev *Event, data []byte) error {
	// Reuse the decode target; clear the choices so encoding/json, which
	// decodes into a reused element without zeroing it, cannot mix events.
	choices := s.wc.Choices[:0]
	clear(choices[:cap(choices)])
	s.wc = completionChunkWire{Choices: choices}
	w := &s.wc
	fast := s.scanner().fastCompletion(data, w)
	if !fast {
		clear(w.Choices[:cap(w.Choices)])
		s.wc = completionChunkWire{Choices: w.Choices[:0]}
		if err := s.decode(data, w); err != nil {
			return s.decodeError(data, completionChunkShape, err)
		}
	}
	if len(w.Error) > 0 && !isNull(w.Error) {
		return s.eventError(data)
	}
	event := w.Event
	if event == "" && (ev.Name == "token_sampled" || ev.Name == "complete") {
		event = ev.Name
	}
	if event == "complete" {
		s.complete = true
		ch := s.newChunk(ev)
		ch.Event = event
		ch.Usage = w.Usage
		if len(w.Choices) > 0 {
			ch.Index = w.Choices[0].Index
			ch.FinishReason = finishReason(w.Choices[0].FinishReason)
		}
		s.push(ch)
		return nil
	}
	if event != "" || w.Text != "" || w.Token.has || len(w.Token.list) > 0 {
		ch := s.newChunk(ev)
		ch.Event, ch.Index, ch.Text = event, w.Index, w.Text
		ch.setTokens(w.Token, nil)
		s.push(ch)
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		ch := s.newChunk(ev)
		ch.Index, ch.Text, ch.FinishReason, ch.Logprobs = c.Index, c.Text, finishReason(c.FinishReason), c.Logprobs
		ch.setTokens(c.Token, c.Tokens)
		if i == len(w.Choices)-1 {
			ch.Usage = w.Usage
		}
		s.push(ch)
	}
	if len(w.Choices) == 0 && w.Usage != nil {
		ch := s.newChunk(ev)
		ch.Usage = w.Usage
		s.push(ch)
	}
	return nil
}

type chatChunkWire struct {
	Choices []chatStreamChoice `json:"choices"`
	Usage   *Usage             `json:"usage"`
	Error   json.RawMessage    `json:"error"`
}

type chatStreamChoice struct {
	Index        int           `json:"index"`
	Delta        chatDelta     `json:"delta"`
	FinishReason string        `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
}

type chatDelta struct {
	Content          string     `json:"content"`
	ReasoningContent string     `json:"reasoning_content"`
	Reasoning        string     `json:"reasoning"`
	ToolCalls        []ToolCall `json:"tool_calls"`
}

var chatChunkShape = obj(
	f("choices", list(obj(f("index", intNode), f("finish_reason", strNode), f("logprobs", chatLPNode),
		f("delta", obj(f("content", strNode), f("reasoning_content", strNode), f("reasoning", strNode)))))),
	f("usage", usageNode))

func (s *Stream) decodeChat(ev *Event, data []byte) error {
	choices := s.wh.Choices[:0]
	clear(choices[:cap(choices)])
	s.wh = chatChunkWire{Choices: choices}
	w := &s.wh
	fast := s.scanner().fastChat(data, w)
	if !fast {
		clear(w.Choices[:cap(w.Choices)])
		s.wh = chatChunkWire{Choices: w.Choices[:0]}
		if err := s.decode(data, w); err != nil {
			return s.decodeError(data, chatChunkShape, err)
		}
	}
	if len(w.Error) > 0 && !isNull(w.Error) {
		return s.eventError(data)
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		ch := s.newChunk(ev)
		ch.Index, ch.Text, ch.FinishReason = c.Index, c.Delta.Content, finishReason(c.FinishReason)
		ch.Reasoning = c.Delta.ReasoningContent
		if ch.Reasoning == "" {
			ch.Reasoning = c.Delta.Reasoning
		}
		ch.ToolCalls, ch.ChatLogprobs = c.Delta.ToolCalls, c.Logprobs
		if i == len(w.Choices)-1 {
			ch.Usage = w.Usage
		}
		s.push(ch)
	}
	if len(w.Choices) == 0 && w.Usage != nil {
		ch := s.newChunk(ev)
		ch.Usage = w.Usage
		s.push(ch)
	}
	return nil
}

func (c *Client) getSSE(body io.Reader) *SSEReader {
	if r, ok := c.pools.sses.Get().(*SSEReader); ok {
		r.reset(body)
		return r
	}
	return NewSSEReader(body)
}

// scanner returns the stream's scanner, taking one from the pool at the
// first event: its template and buffers then serve stream after stream.
func (s *Stream) scanner() *scanner {
	if s.scan == nil {
		if sc, ok := s.c.pools.scan.Get().(*scanner); ok {
			s.scan = sc
		} else {
			s.scan = new(scanner)
		}
	}
	return s.scan
}

// putScanner recycles sc without its last stream's template, unless its
// buffers grew large.
func (c *Client) putScanner(sc *scanner) {
	if cap(sc.esc) > maxPooledBuf || cap(sc.tmpl.data) > maxPooledBuf {
		return
	}
	sc.tmpl.n, sc.tmpl.hits, sc.nspans, sc.data = 0, 0, 0, nil
	c.pools.scan.Put(sc)
}

func (c *Client) putSSE(r *SSEReader) {
	if r == nil || cap(r.data) > maxPooledBuf || cap(r.line) > maxPooledBuf {
		return
	}
	r.reset(nil)
	c.pools.sses.Put(r)
}

func newStream(c *Client, ctx context.Context, path apiPath, chat bool, r reply) *Stream {
	return &Stream{c: c, path: path, chat: chat, ctx: ctx, actx: r.actx, cancel: r.cancel, body: r.resp.Body, sse: r.sse}
}
