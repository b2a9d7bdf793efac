package endpoint

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, base, token string
		wantBase          string
		wantErr           string
	}{
		{name: "default", base: "", token: "t", wantBase: DefaultBaseURL},
		{name: "trailing slash", base: "https://api.friendli.ai/dedicated/", token: "t", wantBase: DefaultBaseURL},
		{name: "trailing v1", base: "https://api.friendli.ai/dedicated/v1", token: "t", wantBase: DefaultBaseURL},
		{name: "trailing v1 slash", base: "https://api.friendli.ai/dedicated/v1/", token: "t", wantBase: DefaultBaseURL},
		{name: "serverless", base: ServerlessBaseURL, token: "t", wantBase: ServerlessBaseURL},
		{name: "serverless tools", base: ServerlessToolsBaseURL + "/", token: "t", wantBase: ServerlessToolsBaseURL},
		{name: "container root", base: "http://127.0.0.1:8000/", wantBase: "http://127.0.0.1:8000"},
		{name: "container v1", base: "http://127.0.0.1:8000/v1", wantBase: "http://127.0.0.1:8000"},
		{name: "loopback range", base: "http://127.9.8.7:8000", wantBase: "http://127.9.8.7:8000"},
		{name: "ipv6 loopback", base: "http://[::1]:8000", wantBase: "http://[::1]:8000"},
		{name: "localhost", base: "http://LocalHost:9000", wantBase: "http://LocalHost:9000"},
		{name: "remote without token", base: "https://api.friendli.ai/dedicated", wantErr: "set FRIENDLI_TOKEN or pass --token-file"},
		{name: "lan container without token", base: "http://10.0.0.5:8000", wantBase: "http://10.0.0.5:8000"},
		{name: "friendli lookalike without token", base: "https://friendli.ai.example.com", wantBase: "https://friendli.ai.example.com"},
		{name: "friendli subdomain without token", base: "https://x.Friendli.AI./v1", wantErr: "set FRIENDLI_TOKEN or pass --token-file"},
		{name: "scheme", base: "ftp://x", token: "t", wantErr: "want an http:// or https:// URL"},
		{name: "no scheme", base: "api.friendli.ai/dedicated", token: "t", wantErr: "want an http:// or https:// URL"},
		{name: "no host", base: "http:///x", token: "t", wantErr: "has no host"},
		{name: "credentials", base: "https://user:pw@api.friendli.ai", token: "t", wantErr: "holds credentials"},
		{name: "query", base: "https://api.friendli.ai/dedicated?x=1", token: "t", wantErr: "query or fragment"},
		{name: "query secret", base: "https://api.friendli.ai/dedicated?api_key=pw", token: "t", wantErr: "query or fragment"},
		{name: "scheme with query secret", base: "ftp://x/?key=pw", token: "t", wantErr: "want an http://"},
		{name: "bad token", base: "https://api.friendli.ai", token: "a\nb", wantErr: "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Options{BaseURL: tt.base, Token: tt.token})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "endpoint: ") {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error shows the URL's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL() != tt.wantBase {
				t.Errorf("base %q, want %q", c.BaseURL(), tt.wantBase)
			}
		})
	}
	for _, bad := range []Options{{BaseURL: "http://127.0.0.1", Timeout: -1}, {BaseURL: "http://127.0.0.1", Concurrency: -1}, {BaseURL: "http://127.0.0.1", Team: "a\nb"}, {BaseURL: "http://127.0.0.1", Token: `a"b`}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// Every method posts to {base}/v1/..., with a trailing /v1 in the base
// dropped, and sends the right headers.
func TestPathsAndHeaders(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.add(r, b)
		switch r.URL.Path {
		case "/dedicated/v1/completions":
			w.Write(readFixture(t, "replies/legacy.json"))
		case "/dedicated/v1/chat/completions":
			io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
		case "/dedicated/v1/tokenize":
			io.WriteString(w, tokenizeOK)
		case "/dedicated/v1/detokenize":
			io.WriteString(w, `{"text":"Hello"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name, token, team, ua string
	}{
		{"token and team", "tok_123", "team-7", "evalbench/test"},
		{"loopback without", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h = hits{}
			c, err := New(Options{BaseURL: srv.URL + "/dedicated/v1/", Token: tt.token, Team: tt.team, UserAgent: tt.ua})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, _, err := c.Completions(ctx, &CompletionRequest{Model: "ep", Prompt: "p"}); err != nil {
				t.Fatal(err)
			}
			if r, _, err := c.Chat(ctx, &ChatRequest{Model: "ep", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil || r.Choices[0].Message.Content != "hi" {
				t.Fatal(r, err)
			}
			if _, _, err := c.Tokenize(ctx, "ep", "Hello"); err != nil {
				t.Fatal(err)
			}
			if s, _, err := c.Detokenize(ctx, "ep", []int{9906}); err != nil || s != "Hello" {
				t.Fatal(s, err)
			}
			wantPaths := []string{"/dedicated/v1/completions", "/dedicated/v1/chat/completions", "/dedicated/v1/tokenize", "/dedicated/v1/detokenize"}
			for i, r := range h.reqs {
				if r.URL.Path != wantPaths[i] || r.Method != http.MethodPost {
					t.Errorf("request %d: %s %s", i, r.Method, r.URL.Path)
				}
				wantAuth := ""
				if tt.token != "" {
					wantAuth = "Bearer " + tt.token
				}
				if got := r.Header.Get("Authorization"); got != wantAuth {
					t.Errorf("Authorization %q, want %q", got, wantAuth)
				}
				if got, ok := r.Header["X-Friendli-Team"]; (tt.team == "") != !ok || (ok && got[0] != tt.team) {
					t.Errorf("X-Friendli-Team %q (sent %v), want %q", got, ok, tt.team)
				}
				if tt.ua != "" && r.Header.Get("User-Agent") != tt.ua {
					t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
				}
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
				}
			}
		})
	}
}

// Tokenize omits an empty model (a container's base model) and strictly
// reads the reply.
func TestTokenize(t *testing.T) {
	var reply string
	var h hits
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.add(r, b)
		io.WriteString(w, reply)
	}, nil)
	tests := []struct {
		model, reply string
		wantBody     string
		want         []int
		wantErr      string
	}{
		{model: "", reply: tokenizeOK, wantBody: `{"prompt":"Hi"}`, want: []int{128000, 9906}},
		{model: "ep:lora", reply: tokenizeOK, wantBody: `{"model":"ep:lora","prompt":"Hi"}`, want: []int{128000, 9906}},
		{model: "ep", reply: `{"tokens":[]}`, wantBody: `{"model":"ep","prompt":"Hi"}`, want: []int{}},
		{model: "ep", reply: `{"tokens":[1,null]}`, wantErr: "decode reply: tokens[1]: got null, want an integer"},
		{model: "ep", reply: `{"tokens":null}`, wantErr: `decode reply: no "tokens" list`},
		{model: "ep", reply: `{"text":"x"}`, wantErr: `decode reply: no "tokens" list`},
		{model: "ep", reply: `[1,2]`, wantErr: "decode reply: got a list, want an object"},
	}
	for _, tt := range tests {
		reply = tt.reply
		h = hits{}
		got, _, err := c.Tokenize(context.Background(), tt.model, "Hi")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.reply, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(h.body[0]) != tt.wantBody {
			t.Errorf("body %s, want %s", h.body[0], tt.wantBody)
		}
		if len(got) != len(tt.want) || got == nil {
			t.Errorf("tokens %v, want %v", got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("tokens %v, want %v", got, tt.want)
			}
		}
	}
}

// Unset optional fields are not sent; logprobs is the integer top-k.
func TestRequestJSON(t *testing.T) {
	tests := []struct {
		req  any
		want string
	}{
		{&CompletionRequest{Model: "ep", Prompt: "p"}, `{"model":"ep","prompt":"p"}`},
		{&CompletionRequest{Tokens: []int{1, 2}, ForcedOutputTokens: []int{3}, Logprobs: Ptr(20), MaxTokens: Ptr(1), Temperature: Ptr(0.0), Seed: Ptr(int64(42))},
			`{"tokens":[1,2],"forced_output_tokens":[3],"logprobs":20,"max_tokens":1,"temperature":0,"seed":42}`},
		{&CompletionRequest{Prompt: "p", ResponseFormat: &ResponseFormat{Type: "regex", Schema: "[A-D]"}},
			`{"prompt":"p","response_format":{"type":"regex","schema":"[A-D]"}}`},
		{&CompletionRequest{Prompt: "p", ResponseFormat: &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchemaFormat{Schema: json.RawMessage(`{"type":"object"}`)}}},
			`{"prompt":"p","response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}`},
		{&ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "2+2?"}}, Tools: []Tool{{Type: "math:calculator"}}},
			`{"model":"m","messages":[{"role":"user","content":"2+2?"}],"tools":[{"type":"math:calculator"}]}`},
		{&ChatRequest{Messages: []Message{{Role: "tool", Content: "4", ToolCallID: "c1"}}, Logprobs: Ptr(true), TopLogprobs: Ptr(5), ToolChoice: "auto"},
			`{"messages":[{"role":"tool","content":"4","tool_call_id":"c1"}],"logprobs":true,"top_logprobs":5,"tool_choice":"auto"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.req)
		if err != nil || string(b) != tt.want {
			t.Errorf("got  %s (%v)\nwant %s", b, err, tt.want)
		}
	}
}

// Replies are read to the end and closed, so one connection serves a run of
// sequential requests, streams included.
func TestConnectionReuse(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.Contains(r.Header.Get("Accept"), "event-stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"token\":1}]}\n\ndata: [DONE]\n\n")
			// The body ends a moment after [DONE]: Close must wait for
			// the end to keep the connection.
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
			return
		}
		if r.URL.Path == "/v1/tokenize" {
			w.WriteHeader(503)
			io.WriteString(w, "busy")
			return
		}
		w.Write(readFixture(t, "replies/object.json"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Concurrency: 4, Retry: fastRetry(1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 20 {
		if _, _, err := c.Completions(ctx, &CompletionRequest{Prompt: "p"}); err != nil {
			t.Fatal(err)
		}
		c.Tokenize(ctx, "", "x") // an error reply is drained too
		s, _, err := c.CompletionsStream(ctx, &CompletionRequest{Prompt: "p"})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		s.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Errorf("60 sequential requests used %d connections, want 1", conns)
	}
}

// The tuned transport speaks HTTP/2 to a TLS server that offers it.
func TestHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2, got "+r.Proto, 400)
			return
		}
		io.WriteString(w, tokenizeOK)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	tr := newTransport(8)
	tr.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	c, err := New(Options{BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr}, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Tokenize(context.Background(), "m", "x"); err != nil {
		t.Fatal(err)
	}
	if tr.MaxIdleConnsPerHost < 8 || tr.MaxConnsPerHost < 16 || !tr.ForceAttemptHTTP2 {
		t.Errorf("transport %+v", tr)
	}
}

// Many goroutines share one client (run with -race).
func TestConcurrentUse(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.Contains(r.Header.Get("Accept"), "event-stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"token\":1}]}\n\ndata: [DONE]\n\n")
			return
		}
		w.Write(readFixture(t, "replies/object.json"))
	}, func(o *Options) { o.Concurrency = 8 })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if i%2 == 0 {
					r, _, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "p"})
					if err != nil || r.Choices[0].Logprobs.TopLogprobs[0][" Paris"] != -0.01 {
						errs <- err
						return
					}
					continue
				}
				s, _, err := c.CompletionsStream(context.Background(), &CompletionRequest{Prompt: "p"})
				if err != nil {
					errs <- err
					return
				}
				for {
					if _, err := s.Next(); err != nil {
						break
					}
				}
				s.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
