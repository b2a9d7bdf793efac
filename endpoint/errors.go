package endpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is a reply with a status other than 2xx.
type APIError struct {
	// Path is the API path called, e.g. "/v1/completions".
	Path   string
	Status int
	// Message is the server's reason, read leniently from error.message,
	// message, detail (a string or FastAPI's [{loc, msg, type}] list),
	// error (a string) or error_description; else a trimmed prefix of the
	// body (an HTML page's title).
	Message string
	// Body is the raw body, truncated to 2 KiB with a "…" marker.
	Body string
	// RetryAfter is what Retry-After or retry-after-ms asked for; 0 if none.
	RetryAfter time.Duration
}

// Error reads e.g. `endpoint: /v1/completions: 422 Unprocessable Entity:
// max_tokens and max_total_tokens are exclusive`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("endpoint: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(statusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if h := statusHint(e.Status); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	return b.String()
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// statusHint says what a status most likely means for this API, as
// friendli-client does for 404.
func statusHint(code int) string {
	switch code {
	case http.StatusNotFound:
		return "unknown endpoint ID, adapter route or model, or a wrong base URL"
	case http.StatusUnauthorized:
		return "check the token: FRIENDLI_TOKEN or --token-file"
	case http.StatusForbidden:
		return "check the token's access and the team (X-Friendli-Team)"
	}
	if code >= 300 && code < 400 {
		return "the server redirects; use the URL it redirects to as the base URL"
	}
	return ""
}

const (
	maxErrBody    = 2 << 10 // APIError.Body
	maxErrMessage = 300     // a Message taken from a body prefix
	maxQuote      = 200     // body quoted in a decode error
)

// newAPIError builds the error for a non-2xx reply. Every string in it is
// scrubbed of the token.
func (c *Client) newAPIError(path string, resp *http.Response, body []byte, now time.Time) *APIError {
	body = c.scrub.bytes(body)
	e := &APIError{
		Path:       path,
		Status:     resp.StatusCode,
		Message:    errorMessage(body, resp.Header.Get("Content-Type")),
		Body:       truncate(string(body), maxErrBody),
		RetryAfter: retryAfter(resp.Header, now),
	}
	if e.Status >= 300 && e.Status < 400 {
		if loc := resp.Header.Get("Location"); loc != "" && e.Message == "" {
			e.Message = "redirected to " + truncate(c.scrub.scrub(loc), maxErrMessage)
		}
	}
	return e
}

// errorMessage extracts the server's reason from an error body. No error
// schema is documented for inference calls, so every shape seen in the
// sources is accepted.
func errorMessage(body []byte, contentType string) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return ""
	}
	if b[0] == '{' {
		if m := jsonMessage(b); m != "" {
			return oneLine(m, maxErrMessage*4)
		}
	}
	if strings.Contains(contentType, "html") || looksHTML(b) {
		if m := htmlMessage(b); m != "" {
			return oneLine(m, maxErrMessage)
		}
	}
	return oneLine(string(b), maxErrMessage)
}

func jsonMessage(b []byte) string {
	var v struct {
		Error            json.RawMessage `json:"error"`
		Message          json.RawMessage `json:"message"`
		Detail           json.RawMessage `json:"detail"`
		ErrorDescription json.RawMessage `json:"error_description"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	if len(v.Error) > 0 && v.Error[0] == '{' {
		var inner struct {
			Message json.RawMessage `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		}
		if json.Unmarshal(v.Error, &inner) == nil {
			if s := jsonString(inner.Message); s != "" {
				return s
			}
			if s := detailMessage(inner.Detail); s != "" {
				return s
			}
		}
	}
	if s := jsonString(v.Message); s != "" {
		return s
	}
	if s := detailMessage(v.Detail); s != "" {
		return s
	}
	if s := jsonString(v.Error); s != "" {
		return s
	}
	return jsonString(v.ErrorDescription)
}

func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// detailMessage reads FastAPI's detail: a string, or a list of
// {loc, msg, type} joined as "body.max_tokens: msg; ...".
func detailMessage(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return jsonString(raw)
	}
	if raw[0] != '[' {
		return ""
	}
	var items []struct {
		Loc []json.RawMessage `json:"loc"`
		Msg string            `json:"msg"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return ""
	}
	var b strings.Builder
	for _, it := range items {
		if it.Msg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		for i, l := range it.Loc {
			if i > 0 {
				b.WriteByte('.')
			}
			if s := jsonString(l); s != "" {
				b.WriteString(s)
			} else {
				b.Write(bytes.TrimSpace(l))
			}
		}
		if len(it.Loc) > 0 {
			b.WriteString(": ")
		}
		b.WriteString(it.Msg)
	}
	return b.String()
}

func looksHTML(b []byte) bool {
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	p := bytes.ToLower(b[:min(len(b), 64)])
	return bytes.HasPrefix(p, []byte("<!doctype html")) || bytes.HasPrefix(p, []byte("<html")) ||
		bytes.HasPrefix(p, []byte("<head")) || bytes.HasPrefix(p, []byte("<body")) || bytes.HasPrefix(p, []byte("<h1"))
}

// htmlMessage returns a page's <title>, else its text without tags: proxies
// (nginx, load balancers) answer 502/503/504 with small HTML pages.
func htmlMessage(b []byte) string {
	lower := bytes.ToLower(b)
	if i := bytes.Index(lower, []byte("<title>")); i >= 0 {
		rest := b[i+len("<title>"):]
		if j := bytes.Index(bytes.ToLower(rest), []byte("</title>")); j >= 0 {
			if t := strings.TrimSpace(string(rest[:j])); t != "" {
				return t
			}
		}
	}
	var out strings.Builder
	inTag := false
	for _, c := range b {
		switch {
		case c == '<':
			inTag = true
			out.WriteByte(' ')
		case c == '>':
			inTag = false
		case !inTag:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// oneLine collapses whitespace runs to single spaces and truncates.
func oneLine(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quoteBody is a short prefix of a reply for decode errors, on one line.
func (c *Client) quoteBody(b []byte) string {
	b = c.scrub.bytes(b)
	s := strings.ToValidUTF8(string(b[:min(len(b), maxQuote*2)]), "\uFFFD")
	if len(b) > maxQuote*2 {
		s += "…" // oneLine only marks cuts it makes itself
	}
	return oneLine(s, maxQuote)
}

// scrubbedError carries a message that was scrubbed of the token while
// keeping the causes for errors.Is and errors.As.
type scrubbedError struct {
	msg    string
	causes []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.causes }

// errorf formats like fmt.Errorf (%w included) and scrubs the message.
func (c *Client) errorf(format string, args ...any) error {
	return scrubErr(c.scrub, fmt.Errorf(format, args...))
}

func scrubErr(s scrubber, err error) error {
	e := &scrubbedError{msg: s.scrub(err.Error())}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if c := u.Unwrap(); c != nil {
			e.causes = []error{c}
		}
	case interface{ Unwrap() []error }:
		e.causes = u.Unwrap()
	}
	return e
}
