package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Completions sends a completions request and decodes the reply strictly
// (see Logprobs). The Call records every attempt, also on error.
func (c *Client) Completions(ctx context.Context, req *CompletionRequest) (*CompletionResponse, Call, error) {
	if req == nil {
		return nil, Call{}, errors.New("endpoint: nil CompletionRequest")
	}
	if req.Stream {
		return nil, Call{}, errors.New("endpoint: Completions with Stream set; use CompletionsStream")
	}
	body, err := encodeCompletionRequest(req)
	if err != nil {
		return nil, Call{}, c.errorf("endpoint: %s: encode request: %w", pathCompletions, err)
	}
	r, call, err := c.post(ctx, pathCompletions, body, false)
	if err != nil {
		return nil, call, err
	}
	defer c.putBuf(r.body)
	d := c.getDecoder()
	resp, err := decodeCompletion(d, r.body.Bytes())
	c.putDecoder(d)
	if err != nil {
		return nil, call, c.decodeError(pathCompletions, r.body.Bytes(), err, &call)
	}
	if len(resp.Choices) == 0 {
		if msg := jsonMessage(c.scrub.bytes(r.body.Bytes())); msg != "" {
			return nil, call, c.replyError(pathCompletions, msg, &call)
		}
	}
	return resp, call, nil
}

// Chat sends a chat completions request.
func (c *Client) Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, Call, error) {
	if req == nil {
		return nil, Call{}, errors.New("endpoint: nil ChatRequest")
	}
	if req.Stream {
		return nil, Call{}, errors.New("endpoint: Chat with Stream set; use ChatStream")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, Call{}, c.errorf("endpoint: %s: encode request: %w", pathChat, err)
	}
	r, call, err := c.post(ctx, pathChat, body, false)
	if err != nil {
		return nil, call, err
	}
	defer c.putBuf(r.body)
	resp, err := decodeChat(r.body.Bytes())
	if err != nil {
		return nil, call, c.decodeError(pathChat, r.body.Bytes(), err, &call)
	}
	if len(resp.Choices) == 0 {
		if msg := jsonMessage(c.scrub.bytes(r.body.Bytes())); msg != "" {
			return nil, call, c.replyError(pathChat, msg, &call)
		}
	}
	return resp, call, nil
}

// Tokenize returns the server's token IDs for prompt, special tokens as the
// server adds them. An empty model is omitted from the body: a Friendli
// Container tokenizes for its base model then.
func (c *Client) Tokenize(ctx context.Context, model, prompt string) ([]int, Call, error) {
	r, call, err := c.post(ctx, pathTokenize, encodeTokenizeRequest(model, prompt), false)
	if err != nil {
		return nil, call, err
	}
	defer c.putBuf(r.body)
	var w tokenizeWire
	if err := json.Unmarshal(r.body.Bytes(), &w); err != nil {
		return nil, call, c.decodeError(pathTokenize, r.body.Bytes(), explainDecode(tokenizeShape, r.body.Bytes(), err), &call)
	}
	if w.Tokens == nil {
		return nil, call, c.decodeError(pathTokenize, r.body.Bytes(), errors.New(`no "tokens" list`), &call)
	}
	return []int(*w.Tokens), call, nil
}

// Detokenize returns the text of tokens.
func (c *Client) Detokenize(ctx context.Context, model string, tokens []int) (string, Call, error) {
	if tokens == nil {
		tokens = []int{}
	}
	r, call, err := c.post(ctx, pathDetokenize, encodeDetokenizeRequest(model, tokens), false)
	if err != nil {
		return "", call, err
	}
	defer c.putBuf(r.body)
	var w detokenizeWire
	if err := json.Unmarshal(r.body.Bytes(), &w); err != nil {
		return "", call, c.decodeError(pathDetokenize, r.body.Bytes(), explainDecode(detokenizeShape, r.body.Bytes(), err), &call)
	}
	if w.Text == nil {
		return "", call, c.decodeError(pathDetokenize, r.body.Bytes(), errors.New(`no "text" string`), &call)
	}
	return *w.Text, call, nil
}

// CompletionsStream sends req with stream set and returns the open stream.
// Set StreamOptions{IncludeUsage: true} to get a usage chunk. The Call covers
// the attempts made until a 200 began its body: retries stop there. The
// Stream must be closed.
func (c *Client) CompletionsStream(ctx context.Context, req *CompletionRequest) (*Stream, Call, error) {
	e, err := EncodeCompletionsStream(req)
	if err != nil {
		return nil, Call{}, err
	}
	return c.SendStream(ctx, e)
}

// ChatStream is CompletionsStream for chat.
func (c *Client) ChatStream(ctx context.Context, req *ChatRequest) (*Stream, Call, error) {
	e, err := EncodeChatStream(req)
	if err != nil {
		return nil, Call{}, err
	}
	return c.SendStream(ctx, e)
}

// StreamRequest is a streamed request encoded once, for a caller that sends
// the same request many times: a load generator then spends nothing per
// request on encoding. Its body is shared, read-only.
type StreamRequest struct {
	path apiPath
	body []byte
}

// Size is the encoded body's length in bytes.
func (e StreamRequest) Size() int { return len(e.body) }

// EncodeCompletionsStream encodes req with stream: true.
func EncodeCompletionsStream(req *CompletionRequest) (StreamRequest, error) {
	if req == nil {
		return StreamRequest{}, errors.New("endpoint: nil CompletionRequest")
	}
	r := *req
	r.Stream = true
	body, err := encodeCompletionRequest(&r)
	if err != nil {
		return StreamRequest{}, fmt.Errorf("endpoint: %s: encode request: %w", pathCompletions, err)
	}
	return StreamRequest{path: pathCompletions, body: body}, nil
}

// EncodeChatStream encodes req with stream: true.
func EncodeChatStream(req *ChatRequest) (StreamRequest, error) {
	if req == nil {
		return StreamRequest{}, errors.New("endpoint: nil ChatRequest")
	}
	r := *req
	r.Stream = true
	body, err := json.Marshal(&r)
	if err != nil {
		return StreamRequest{}, fmt.Errorf("endpoint: %s: encode request: %w", pathChat, err)
	}
	return StreamRequest{path: pathChat, body: body}, nil
}

// SendStream sends an encoded streamed request and returns its stream.
func (c *Client) SendStream(ctx context.Context, e StreamRequest) (*Stream, Call, error) {
	if e.body == nil {
		return nil, Call{}, errors.New("endpoint: empty StreamRequest")
	}
	r, call, err := c.post(ctx, e.path, e.body, true)
	if err != nil {
		return nil, call, err
	}
	return newStream(c, ctx, e.path, e.path == pathChat, r), call, nil
}

// decodeError reports a 200 reply that does not decode, quoting its start,
// and marks the last attempt failed.
func (c *Client) decodeError(path apiPath, body []byte, err error, call *Call) error {
	e := c.errorf("endpoint: %s: decode reply: %w; reply: %s", path, err, c.quoteBody(body))
	if n := len(call.Attempts); n > 0 {
		call.Attempts[n-1].Err = truncate(c.scrub.scrub("decode reply: "+err.Error()), 300)
	}
	return e
}

// replyError reports a 200 reply that holds an error instead of choices.
// msg comes from a scrubbed body.
func (c *Client) replyError(path apiPath, msg string, call *Call) error {
	msg = truncate(msg, 4*maxErrMessage)
	if n := len(call.Attempts); n > 0 {
		call.Attempts[n-1].Err = truncate("error in a 200 reply: "+msg, 300)
	}
	return c.errorf("endpoint: %s: the 200 reply holds an error and no choices: %s", path, msg)
}
