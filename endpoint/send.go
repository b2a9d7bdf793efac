package endpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// maxReply bounds a non-streamed reply read into memory.
const maxReply = 256 << 20

// maxErrRead is how much of an error body is read (and drained, so the
// connection can be reused); APIError keeps less.
const maxErrRead = 64 << 10

// reply is what a successful exchange hands back: a body read in full, or
// for a stream the open response and its attempt's cancel function.
type reply struct {
	body   *bytes.Buffer
	resp   *http.Response
	sse    *SSEReader
	actx   context.Context
	cancel context.CancelFunc
}

// post sends body to path, retrying per the policy, and records every
// attempt in the returned Call.
func (c *Client) post(ctx context.Context, path apiPath, body []byte, stream bool) (reply, Call, error) {
	call := Call{Start: time.Now(), Attempts: make([]Attempt, 0, 1)}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			call.End = time.Now()
			return reply{}, call, c.errorf("endpoint: %s: %w", path, err)
		}
		if c.gate != nil {
			if err := c.gate.Wait(ctx); err != nil {
				call.End = time.Now()
				return reply{}, call, c.errorf("endpoint: %s: not sent: %w", path, err)
			}
		}
		a := Attempt{Start: time.Now()}
		r, retry, serverWait, err := c.attempt(ctx, path, body, stream, &a)
		if err == nil {
			call.Attempts = append(call.Attempts, a)
			call.End = time.Now()
			return r, call, nil
		}
		if !retry || ctx.Err() != nil || n >= c.retry.MaxAttempts {
			call.Attempts = append(call.Attempts, a)
			call.End = time.Now()
			return reply{}, call, c.final(err, n, "")
		}
		wait := c.retry.backoff(n, serverWait)
		if c.retry.MaxElapsed > 0 && time.Since(call.Start)+wait > c.retry.MaxElapsed {
			call.Attempts = append(call.Attempts, a)
			call.End = time.Now()
			return reply{}, call, c.final(err, n, "; retry budget "+c.retry.MaxElapsed.String()+" spent")
		}
		call.Attempts = append(call.Attempts, a)
		slept := time.Now()
		err = sleep(ctx, wait)
		call.Attempts[len(call.Attempts)-1].Wait = time.Since(slept)
		if err != nil {
			call.End = time.Now()
			return reply{}, call, c.errorf("endpoint: %s: stopped while waiting %v to retry after %q: %w", path, wait.Round(time.Millisecond), a.Err, err)
		}
	}
}

// final adds the attempt count to the last attempt's error.
func (c *Client) final(err error, n int, note string) error {
	if n <= 1 && note == "" {
		return err
	}
	return c.errorf("%w (%s%s)", err, plural(n, "attempt"), note)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// attempt makes one exchange. It reports whether a failure may be retried
// and any wait the server asked for.
func (c *Client) attempt(ctx context.Context, path apiPath, body []byte, stream bool, a *Attempt) (reply, bool, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	s := 0
	if stream {
		s = 1
	}
	req := c.reqs[path][s].WithContext(actx)
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	var resp *http.Response
	var err error
	if c.rt != nil {
		resp, err = c.rt.RoundTrip(req)
	} else {
		resp, err = c.hc.Do(req)
	}
	if err != nil {
		a.Latency = time.Since(a.Start)
		cancel()
		return reply{}, !permanentConnError(err), 0, c.connError(ctx, actx, path, err, a)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrRead))
		resp.Body.Close()
		cancel()
		now := time.Now()
		a.Latency = now.Sub(a.Start)
		a.Status = resp.StatusCode
		e := c.newAPIError(path.String(), resp, b, now)
		a.Err = statusText(e.Status)
		if e.Message != "" {
			a.Err += ": " + truncate(e.Message, 200)
		}
		return reply{}, retryableStatus(e.Status), e.RetryAfter, e
	}

	if stream {
		a.Latency = time.Since(a.Start)
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" {
			// The server ignored stream: true (or sent an error as a 200).
			b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrRead))
			b = c.scrub.bytes(b)
			resp.Body.Close()
			cancel()
			a.Status = resp.StatusCode
			msg := errorMessage(b, "application/json")
			if msg == "" {
				msg = "body " + c.quoteBody(b)
			}
			a.Err = "not a stream"
			return reply{}, false, 0, c.errorf("endpoint: %s: asked for a stream, got a JSON reply: %s", path, msg)
		}
		sr := c.getSSE(resp.Body)
		// Retries apply until the first byte of the body: a 200 whose body
		// dies before it sends anything is as good as a refused connection.
		if err := sr.peek(); err != nil {
			resp.Body.Close()
			cancel()
			c.putSSE(sr)
			if errors.Is(err, io.EOF) {
				err = errors.New("reply 200 with an empty body")
			}
			return reply{}, true, 0, c.connError(ctx, actx, path, err, a)
		}
		a.Status = resp.StatusCode
		return reply{resp: resp, sse: sr, actx: actx, cancel: cancel}, false, 0, nil
	}

	buf := c.getBuf()
	if n := resp.ContentLength; n > 0 && n <= maxReply {
		buf.Grow(int(n))
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxReply+1))
	resp.Body.Close()
	cancel()
	a.Latency = time.Since(a.Start)
	if err != nil {
		c.putBuf(buf)
		return reply{}, true, 0, c.connError(ctx, actx, path, fmt.Errorf("reading the %d reply: %w", resp.StatusCode, err), a)
	}
	if buf.Len() > maxReply {
		c.putBuf(buf)
		a.Err = "reply too large"
		return reply{}, false, 0, c.errorf("endpoint: %s: reply larger than %d MiB", path, maxReply>>20)
	}
	a.Status = resp.StatusCode
	return reply{body: buf}, false, 0, nil
}

// connError describes an exchange that produced no complete reply: a
// connection error, a timeout, or a cancelled context. It names the path,
// never the full request, and sets the attempt's reason.
func (c *Client) connError(ctx, actx context.Context, path apiPath, err error, a *Attempt) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the method and the whole URL
	}
	switch {
	case ctx.Err() != nil:
		a.Err = ctx.Err().Error()
		return c.errorf("endpoint: %s: %w", path, ctx.Err())
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		a.Err = "timeout " + c.timeout.String()
		return c.errorf("endpoint: %s: no reply within the %v attempt timeout: %w", path, c.timeout, context.DeadlineExceeded)
	}
	e := c.errorf("endpoint: %s: %w", path, err)
	a.Err = truncate(c.scrub.scrub(err.Error()), 300)
	return e
}
