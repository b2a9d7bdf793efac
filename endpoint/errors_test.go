package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name, body, ct, want string
	}{
		{"openai envelope", `{"error":{"message":"max_tokens and max_total_tokens are exclusive","type":"invalid_request_error"}}`, "application/json", "max_tokens and max_total_tokens are exclusive"},
		{"anthropic style", `{"type":"error","error":{"type":"invalid_request_error","message":"bad model"},"request_id":"req_1"}`, "", "bad model"},
		{"message", `{"message":"Endpoint not found","error":{}}`, "application/json", "Endpoint not found"},
		{"detail string", `{"detail":"Not authenticated"}`, "application/json", "Not authenticated"},
		{"detail list", `{"detail":[{"loc":["body","max_tokens"],"msg":"must be positive","type":"value_error"},{"loc":["body","messages",0,"role"],"msg":"field required","type":"missing"}]}`, "application/json",
			"body.max_tokens: must be positive; body.messages.0.role: field required"},
		{"error string", `{"error":"rate limited"}`, "application/json", "rate limited"},
		{"error_description", `{"error_description":"token expired"}`, "", "token expired"},
		{"unknown json", `{"code":7}`, "application/json", `{"code":7}`},
		{"plain text", "upstream connect error or disconnect/reset before headers\n", "text/plain", "upstream connect error or disconnect/reset before headers"},
		{"html title", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>", "text/html", "502 Bad Gateway"},
		{"html no title", "<!DOCTYPE html><html><body><h1>Service   Unavailable</h1><p>try later</p></body></html>", "", "Service Unavailable try later"},
		{"empty", "  \n", "", ""},
		{"long text", strings.Repeat("ab ", 500), "text/plain", strings.Repeat("ab ", 100)[:300] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorMessage([]byte(tt.body), tt.ct); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAPIError(t *testing.T) {
	big := strings.Repeat("é", 2000) // multi-byte: the cut must fall between runes
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{422, `{"detail":"max_tokens and max_total_tokens are exclusive"}`, "endpoint: /v1/completions: 422 Unprocessable Entity: max_tokens and max_total_tokens are exclusive"},
		{404, `{"message":"no such endpoint"}`, "endpoint: /v1/completions: 404 Not Found: no such endpoint (unknown endpoint ID, adapter route or model, or a wrong base URL)"},
		{401, ``, "endpoint: /v1/completions: 401 Unauthorized (check the token: FRIENDLI_TOKEN or --token-file)"},
		{400, big, "endpoint: /v1/completions: 400 Bad Request: " + truncate(big, maxErrMessage)},
	}
	for _, tt := range tests {
		c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			io.WriteString(w, tt.body)
		}, nil)
		_, _, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "p"})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%d: got  %v\nwant %s", tt.status, err, tt.want)
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%T is not an APIError", err)
		}
		if ae.Path != "/v1/completions" || ae.Status != tt.status {
			t.Errorf("%+v", ae)
		}
		if len(tt.body) > maxErrBody {
			if !strings.HasSuffix(ae.Body, "…") || len(ae.Body) > maxErrBody+len("…") || !utf8.ValidString(ae.Body) {
				t.Errorf("body of %d bytes kept as %d bytes, valid UTF-8 %v", len(tt.body), len(ae.Body), utf8.ValidString(ae.Body))
			}
		} else if ae.Body != tt.body {
			t.Errorf("body %q", ae.Body)
		}
	}
}

// A redirect is not followed: a POST would become a GET without its body.
func TestRedirectNotFollowed(t *testing.T) {
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add(r, nil)
		http.Redirect(w, r, "https://elsewhere.example/v1/completions", http.StatusTemporaryRedirect)
	}, nil)
	_, _, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "p"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 307 || h.count() != 1 {
		t.Fatalf("%v after %d requests", err, h.count())
	}
	if !strings.Contains(err.Error(), "use the URL it redirects to") {
		t.Errorf("error %q", err)
	}
}

// secret contains '/' and '+' so the JSON-escaped form (\/) is exercised.
const secret = "flp_s3cr3t/T0KEN+xyz"

// The token never appears in an error, an APIError field or a Call, even
// when the server echoes the Authorization header back.
func TestTokenNeverLeaks(t *testing.T) {
	echo := func(r *http.Request) string { return r.Header.Get("Authorization") }
	type scenario struct {
		name    string
		handler http.HandlerFunc
		stream  bool
	}
	scenarios := []scenario{
		{"401 json", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"invalid token %s"}}`, echo(r))
		}, false},
		{"500 text, retried", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprintf(w, "request headers: Authorization: %s", echo(r))
		}, false},
		{"500 escaped slash", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"message":"bad %s"}`, strings.ReplaceAll(echo(r), "/", `\/`))
		}, false},
		{"429 detail list", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			fmt.Fprintf(w, `{"detail":[{"loc":["header","%s"],"msg":"%s","type":"x"}]}`, echo(r), echo(r))
		}, false},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://example.com/?t="+strings.TrimPrefix(echo(r), "Bearer "))
			w.WriteHeader(302)
		}, false},
		{"redirect escaped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://example.com/?t="+url.QueryEscape(strings.TrimPrefix(echo(r), "Bearer ")))
			w.WriteHeader(302)
		}, false},
		{"200 undecodable", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"choices":[{"tokens":[1,null],"text":"%s"}]}`, echo(r))
		}, false},
		{"200 error body", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"error":{"message":"%s"}}`, echo(r))
		}, false},
		{"stream error event", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "event: error\ndata: {\"error\":{\"message\":\"%s\"}}\n\n", echo(r))
		}, true},
		{"stream bad chunk", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\"%s\",\"tokens\":[null]}]}\n\n", echo(r))
		}, true},
		{"stream got json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"message":"%s"}`, echo(r))
		}, true},
		{"connection reset", func(w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w)
		}, false},
	}
	// A token echoed across the place where a message, body or quote is
	// cut must not leave its first half behind.
	for _, cut := range []int{maxQuote, 2 * maxQuote, maxErrMessage, 4 * maxErrMessage, maxErrBody} {
		for _, back := range []int{4, 10} {
			pad := func(r *http.Request) string { return strings.Repeat("x", cut-back-len("Bearer ")) + echo(r) }
			scenarios = append(scenarios,
				scenario{fmt.Sprintf("401 text cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(401)
					fmt.Fprint(w, pad(r))
				}, false},
				scenario{fmt.Sprintf("401 json cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(401)
					fmt.Fprintf(w, `{"error":{"message":"%s"}}`, pad(r))
				}, false},
				scenario{fmt.Sprintf("200 error body cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, `{"error":{"message":"%s"}}`, pad(r))
				}, false},
				scenario{fmt.Sprintf("200 undecodable cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, `{"choices":[{"tokens":[1,null],"text":"%s"}]}`, pad(r))
				}, false},
				scenario{fmt.Sprintf("stream error event cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					fmt.Fprintf(w, "event: error\ndata: {\"error\":{\"message\":\"%s\"}}\n\n", pad(r))
				}, true},
				scenario{fmt.Sprintf("stream bad chunk cut at %d-%d", cut, back), func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\"%s\",\"tokens\":[null]}]}\n\n", pad(r))
				}, true},
			)
		}
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			c, _ := newServer(t, sc.handler, func(o *Options) { o.Token = secret })
			var err error
			var call Call
			if sc.stream {
				var s *Stream
				s, call, err = c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
				if err == nil {
					_, err = s.Next()
					s.Close()
				}
			} else {
				_, call, err = c.Completions(context.Background(), &CompletionRequest{Prompt: "p"})
			}
			if err == nil {
				t.Fatal("no error")
			}
			assertNoSecret(t, "error", err.Error())
			for e := range errorChain(err) {
				assertNoSecret(t, fmt.Sprintf("wrapped %T", e), e.Error())
				if ae, ok := e.(*APIError); ok {
					assertNoSecret(t, "APIError fields", fmt.Sprintf("%#v", *ae))
				}
			}
			assertNoSecret(t, "call", fmt.Sprintf("%#v", call))
			if len(call.Attempts) == 0 {
				t.Error("no attempts recorded")
			}
		})
	}
	// A failed connection too.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, err := New(Options{BaseURL: "http://" + addr, Token: secret, Retry: fastRetry(2)})
	if err != nil {
		t.Fatal(err)
	}
	_, call, err := c.Tokenize(context.Background(), "m", "x")
	assertNoSecret(t, "refused error", err.Error())
	assertNoSecret(t, "refused call", fmt.Sprintf("%#v", call))
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	// Any 8 bytes from either end of the token is a leak.
	if strings.Contains(s, secret[:8]) || strings.Contains(s, secret[len(secret)-8:]) || strings.Contains(s, "s3cr3t") {
		t.Errorf("%s leaks the token: %s", what, s)
	}
}

// errorChain yields err and everything it wraps.
func errorChain(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

func TestScrubber(t *testing.T) {
	s := newScrubber("a/b")
	if got := s.scrub(`x a/b y a\/b z`); got != "x [REDACTED] y [REDACTED] z" {
		t.Errorf("got %q", got)
	}
	if got := (scrubber{}).scrub("a/b"); got != "a/b" {
		t.Errorf("empty token scrubbed %q", got)
	}
}
