package simulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestValidation(t *testing.T) {
	cfg := fastConfig()
	cfg.MaxContext = 100
	cfg.MaxLogprobs = 20
	inst := start(t, cfg)
	comp := "/dedicated/v1/completions"
	chat := "/dedicated/v1/chat/completions"
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	// every token but the specials, as an eos_token list
	var all []string
	for id := firstByteID; id < inst.Server().Tokenizer().VocabSize(); id++ {
		all = append(all, itoa(id))
	}
	allEOS := `"eos_token":[` + strings.Join(all, ",") + `]`
	cases := []struct {
		name, path, body string
		status           int
		param            string // the field the error names
	}{
		{"invalid JSON", comp, `{"model":"demo",`, 422, ""},
		{"empty body", comp, ``, 422, ""},
		{"not an object", comp, `[1,2]`, 422, ""},
		{"no prompt", comp, `{"model":"demo"}`, 422, "prompt"},
		{"prompt and tokens", comp, `{"model":"demo","prompt":"x","tokens":[1,2]}`, 422, "tokens"},
		{"batched prompts", comp, `{"model":"demo","prompt":["a","b"]}`, 422, "prompt"},
		{"prompt number", comp, `{"model":"demo","prompt":5}`, 422, "prompt"},
		{"empty tokens", comp, `{"model":"demo","tokens":[]}`, 422, "tokens"},
		{"non-integer tokens", comp, `{"model":"demo","tokens":[1,2.5]}`, 422, "tokens"},
		{"string tokens", comp, `{"model":"demo","tokens":["a"]}`, 422, "tokens"},
		{"token out of vocabulary", comp, `{"model":"demo","tokens":[1,999999]}`, 422, "tokens"},
		{"negative token", comp, `{"model":"demo","tokens":[-1]}`, 422, "tokens"},
		{"non-integer forced", comp, `{"model":"demo","prompt":"x","forced_output_tokens":[3.5]}`, 422, "forced_output_tokens"},
		{"forced out of vocabulary", comp, `{"model":"demo","prompt":"x","forced_output_tokens":[1000000]}`, 422, "forced_output_tokens"},
		{"empty forced", comp, `{"model":"demo","prompt":"x","forced_output_tokens":[]}`, 422, "forced_output_tokens"},
		{"max_tokens below forced", comp, `{"model":"demo","prompt":"x","forced_output_tokens":[5,6],"max_tokens":1}`, 422, "max_tokens"},
		{"max_tokens and max_total_tokens", comp, `{"model":"demo","prompt":"x","max_tokens":5,"max_total_tokens":50}`, 422, "max_total_tokens"},
		{"min_tokens and min_total_tokens", comp, `{"model":"demo","prompt":"x","min_tokens":1,"min_total_tokens":5}`, 422, "min_total_tokens"},
		{"zero max_tokens", comp, `{"model":"demo","prompt":"x","max_tokens":0}`, 422, "max_tokens"},
		{"negative max_tokens", comp, `{"model":"demo","prompt":"x","max_tokens":-3}`, 422, "max_tokens"},
		{"max_tokens over the context", comp, `{"model":"demo","prompt":"x","max_tokens":100}`, 422, "max_tokens"},
		{"max_total_tokens within the prompt", comp, `{"model":"demo","prompt":"a b c d","max_total_tokens":3}`, 422, "max_total_tokens"},
		{"max_total_tokens below forced", comp, `{"model":"demo","prompt":"x","forced_output_tokens":[5,6,7],"max_total_tokens":3}`, 422, "max_total_tokens"},
		{"prompt over the context", comp, `{"model":"demo","prompt":"` + strings.Repeat("a ", 120) + `"}`, 422, "prompt"},
		{"tokens over the context", comp, `{"model":"demo","tokens":[` + strings.Repeat("5,", 119) + `5]}`, 422, "tokens"},
		{"negative min_tokens", comp, `{"model":"demo","prompt":"x","min_tokens":-1}`, 422, "min_tokens"},
		{"min over max", comp, `{"model":"demo","prompt":"x","min_tokens":10,"max_tokens":5}`, 422, "min_tokens"},
		{"min_total over max_total", comp, `{"model":"demo","prompt":"x","min_total_tokens":50,"max_total_tokens":10}`, 422, "min_total_tokens"},
		{"min over the context", comp, `{"model":"demo","prompt":"x","min_tokens":99}`, 422, "min_tokens"},
		{"logprobs bool", comp, `{"model":"demo","prompt":"x","logprobs":true}`, 422, "logprobs"},
		{"logprobs float", comp, `{"model":"demo","prompt":"x","logprobs":2.5}`, 422, "logprobs"},
		{"negative logprobs", comp, `{"model":"demo","prompt":"x","logprobs":-1}`, 422, "logprobs"},
		{"logprobs over the limit", comp, `{"model":"demo","prompt":"x","logprobs":21}`, 422, "logprobs"},
		{"zero n", comp, `{"model":"demo","prompt":"x","n":0}`, 422, "n"},
		{"seed list length", comp, `{"model":"demo","prompt":"x","n":2,"seed":[1]}`, 422, "seed"},
		{"negative seed", comp, `{"model":"demo","prompt":"x","seed":-4}`, 422, "seed"},
		{"string seed", comp, `{"model":"demo","prompt":"x","seed":"7"}`, 422, "seed"},
		{"negative temperature", comp, `{"model":"demo","prompt":"x","temperature":-0.5}`, 422, "temperature"},
		{"zero top_p", comp, `{"model":"demo","prompt":"x","top_p":0}`, 422, "top_p"},
		{"top_p over one", comp, `{"model":"demo","prompt":"x","top_p":1.5}`, 422, "top_p"},
		{"negative top_k", comp, `{"model":"demo","prompt":"x","top_k":-1}`, 422, "top_k"},
		{"min_p over one", comp, `{"model":"demo","prompt":"x","min_p":2}`, 422, "min_p"},
		{"stream_options without stream", comp, `{"model":"demo","prompt":"x","stream_options":{"include_usage":true}}`, 422, "stream_options"},
		{"empty stop string", comp, `{"model":"demo","prompt":"x","stop":[""]}`, 422, "stop"},
		{"unsupported penalty", comp, `{"model":"demo","prompt":"x","repetition_penalty":1.2}`, 422, "repetition_penalty"},
		{"unsupported response_format", comp, `{"model":"demo","prompt":"x","response_format":{"type":"json_object"}}`, 422, "response_format"},
		{"max_tokens as string", comp, `{"model":"demo","prompt":"x","max_tokens":"5"}`, 422, "max_tokens"},
		{"neutral penalty accepted", comp, `{"model":"demo","prompt":"x","max_tokens":2,"repetition_penalty":1,"frequency_penalty":0}`, 200, ""},
		{"unknown fields ignored", comp, `{"model":"demo","prompt":"x","max_tokens":2,"no_persist":false,"whatever":{"a":1}}`, 200, ""},
		{"nulls are absent", comp, `{"model":"demo","prompt":"x","max_tokens":2,"logprobs":null,"seed":null,"stop":null}`, 200, ""},
		{"one-element prompt list", comp, `{"model":"demo","prompt":["x"],"max_tokens":2}`, 200, ""},
		{"eos_token masks everything", comp, `{"model":"demo","prompt":"x","max_tokens":3,"min_tokens":1,` + allEOS + `}`, 422, "eos_token"},
		{"eos_token of everything without min_tokens", comp, `{"model":"demo","prompt":"x","max_tokens":3,` + allEOS + `}`, 200, ""},
		{"chat eos_token masks everything", chat, `{"model":"demo",` + msgs + `,"max_tokens":3,"min_tokens":2,` + allEOS + `}`, 422, "eos_token"},
		{"chat no messages", chat, `{"model":"demo","messages":[]}`, 422, "messages"},
		{"chat zero max_tokens", chat, `{"model":"demo",` + msgs + `,"max_tokens":0}`, 422, "max_tokens"},
		{"chat zero max_completion_tokens", chat, `{"model":"demo",` + msgs + `,"max_completion_tokens":0}`, 422, "max_completion_tokens"},
		{"chat max_completion_tokens over the context", chat, `{"model":"demo",` + msgs + `,"max_completion_tokens":100}`, 422, "max_completion_tokens"},
		{"chat min over max_completion_tokens", chat, `{"model":"demo",` + msgs + `,"max_completion_tokens":2,"min_tokens":5}`, 422, "min_tokens"},
		{"chat messages over the context", chat, `{"model":"demo","messages":[{"role":"user","content":"` + strings.Repeat("a ", 120) + `"}]}`, 422, "messages"},
		{"chat bad role", chat, `{"model":"demo","messages":[{"role":"robot","content":"x"}]}`, 422, "messages.0.role"},
		{"chat image part", chat, `{"model":"demo","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, 422, "messages.0.content"},
		{"chat top_logprobs without logprobs", chat, `{"model":"demo",` + msgs + `,"top_logprobs":3}`, 422, "top_logprobs"},
		{"chat top_logprobs with logprobs false", chat, `{"model":"demo",` + msgs + `,"logprobs":false,"top_logprobs":3}`, 422, "top_logprobs"},
		{"chat top_logprobs over 20", chat, `{"model":"demo",` + msgs + `,"logprobs":true,"top_logprobs":21}`, 422, "top_logprobs"},
		{"chat logprobs integer", chat, `{"model":"demo",` + msgs + `,"logprobs":5}`, 422, "logprobs"},
		{"chat stream_options without stream", chat, `{"model":"demo",` + msgs + `,"stream_options":{"include_usage":true}}`, 422, "stream_options"},
		{"chat logit_bias", chat, `{"model":"demo",` + msgs + `,"logit_bias":{"5":10}}`, 422, "logit_bias"},
		{"chat builtin tool on plain chat", chat, `{"model":"demo",` + msgs + `,"tools":[{"type":"math:calculator"}]}`, 422, "tools"},
		{"chat function tool accepted", chat, `{"model":"demo",` + msgs + `,"max_tokens":2,"tools":[{"type":"function","function":{"name":"f"}}]}`, 200, ""},
		{"chat parts accepted", chat, `{"model":"demo","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":2}`, 200, ""},
		{"tokenize without prompt", "/dedicated/v1/tokenize", `{"model":"demo"}`, 422, "prompt"},
		{"tokenize list prompt", "/dedicated/v1/tokenize", `{"model":"demo","prompt":["a"]}`, 422, "prompt"},
		{"detokenize bad token", "/dedicated/v1/detokenize", `{"model":"demo","tokens":[1,-5]}`, 422, "tokens"},
		{"detokenize without tokens", "/dedicated/v1/detokenize", `{"model":"demo"}`, 422, "tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b, resp := post(t, inst.URL()+c.path, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if status == 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
				t.Fatalf("body %s is not an OpenAI error envelope (%v)", b, err)
			}
			if c.param != "" && (e.Error.Param == nil || *e.Error.Param != c.param) {
				got := "<null>"
				if e.Error.Param != nil {
					got = *e.Error.Param
				}
				t.Fatalf("param %q, want %q (%s)", got, c.param, e.Error.Message)
			}
			// The message names the same field first, for clients that
			// show only the message.
			if c.param != "" && !strings.HasPrefix(e.Error.Message, c.param+": ") {
				t.Fatalf("message %q does not start with the field %q", e.Error.Message, c.param)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	cfg := fastConfig()
	cfg.Token = "flp_secret_token_value"
	inst := start(t, cfg)
	body := `{"model":"demo","prompt":"x","max_tokens":1}`
	url := inst.URL() + "/dedicated/v1/completions"
	cases := []struct {
		name, header string
		status       int
	}{
		{"none", "", 401},
		{"wrong", "Bearer flp_wrong", 401},
		{"not bearer", "Basic flp_secret_token_value", 401},
		{"prefix only", "Bearer flp_secret", 401},
		{"right", "Bearer flp_secret_token_value", 200},
		{"scheme case", "bearer flp_secret_token_value", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{}
			if c.header != "" {
				hdr["Authorization"] = c.header
			}
			status, b, _ := postWith(t, http.DefaultClient, url, body, hdr)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if strings.Contains(string(b), "secret") {
				t.Fatalf("reply echoes the token: %s", b)
			}
		})
	}
	// Every API path needs it, and accepts it.
	paths := map[string]string{
		"/dedicated/v1/chat/completions":        `{"model":"demo","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`,
		"/dedicated/v1/tokenize":                `{"model":"demo","prompt":"x"}`,
		"/dedicated/v1/detokenize":              `{"model":"demo","tokens":[1]}`,
		"/dedicated/v1/chat/render":             `{"model":"demo","messages":[{"role":"user","content":"hi"}]}`,
		"/serverless/v1/completions":            `{"model":"meta-llama-3.1-8b-instruct","prompt":"x","max_tokens":1}`,
		"/serverless/tools/v1/chat/completions": `{"model":"meta-llama-3.1-8b-instruct","messages":[{"role":"user","content":"1+1"}],"tools":[{"type":"math:calculator"}]}`,
		"/v1/completions":                       `{"prompt":"x","max_tokens":1}`,
		"/v1/tokenize":                          `{"prompt":"x"}`,
	}
	for p, body := range paths {
		if status, b, _ := post(t, inst.URL()+p, body); status != 401 {
			t.Errorf("%s without a token: %d %s", p, status, b)
		}
		if status, b, _ := postWith(t, http.DefaultClient, inst.URL()+p, body, map[string]string{"Authorization": "Bearer " + cfg.Token}); status != 200 {
			t.Errorf("%s with the token: %d %s", p, status, b)
		}
	}
	// Health and metrics need no token.
	for _, p := range []string{"/health", "/metrics"} {
		resp, err := http.Get(inst.URL() + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
}

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		shape string
		check func(t *testing.T, b []byte)
	}{
		{ErrorShapeMessage, func(t *testing.T, b []byte) {
			var e struct {
				Message string          `json:"message"`
				Error   json.RawMessage `json:"error"`
			}
			if json.Unmarshal(b, &e) != nil || !strings.Contains(e.Message, "max_tokens") || string(e.Error) != "{}" {
				t.Fatalf("body %s", b)
			}
		}},
		{ErrorShapeDetail, func(t *testing.T, b []byte) {
			var e struct {
				Detail []struct {
					Loc []string `json:"loc"`
					Msg string   `json:"msg"`
				} `json:"detail"`
			}
			if json.Unmarshal(b, &e) != nil || len(e.Detail) != 1 || len(e.Detail[0].Loc) != 2 || e.Detail[0].Loc[1] != "max_tokens" {
				t.Fatalf("body %s", b)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.shape, func(t *testing.T) {
			cfg := fastConfig()
			cfg.Quirks.ErrorShape = c.shape
			inst := start(t, cfg)
			status, b, _ := post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"demo","prompt":"x","max_tokens":0}`)
			if status != 422 {
				t.Fatalf("status %d", status)
			}
			c.check(t, b)
		})
	}
	cfg := fastConfig()
	cfg.Quirks.ErrorShape = ErrorShapeDetail
	inst := start(t, cfg)
	status, b, _ := post(t, inst.URL()+"/dedicated/v1/completions", `{"model":"nope","prompt":"x"}`)
	var e struct{ Detail string }
	if status != 404 || json.Unmarshal(b, &e) != nil || e.Detail == "" {
		t.Fatalf("404 in detail shape: %d %s", status, b)
	}
}

// In the FastAPI shape, "loc" is the path to the field as FastAPI writes
// it: "body", then one element per name or list index (an integer).
func TestDetailErrorLoc(t *testing.T) {
	cfg := fastConfig()
	cfg.Quirks.ErrorShape = ErrorShapeDetail
	inst := start(t, cfg)
	cases := []struct {
		name, path, body, loc string
	}{
		{"top-level field", "/dedicated/v1/completions", `{"model":"demo","prompt":"x","max_tokens":0}`, `["body","max_tokens"]`},
		{"message role", "/dedicated/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"a"},{"role":"robot","content":"x"}]}`, `["body","messages",1,"role"]`},
		{"message content", "/dedicated/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":5}]}`, `["body","messages",0,"content"]`},
		{"no field", "/dedicated/v1/completions", `{"model":"demo",`, `["body"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b, _ := post(t, inst.URL()+c.path, c.body)
			var e struct {
				Detail []struct {
					Loc json.RawMessage `json:"loc"`
					Msg string          `json:"msg"`
				} `json:"detail"`
			}
			if status != 422 || json.Unmarshal(b, &e) != nil || len(e.Detail) != 1 || e.Detail[0].Msg == "" {
				t.Fatalf("%d %s", status, b)
			}
			if got := string(e.Detail[0].Loc); got != c.loc {
				t.Fatalf("loc %s, want %s", got, c.loc)
			}
		})
	}
}

func TestRoutesAndMethods(t *testing.T) {
	inst := start(t, fastConfig())
	cases := []struct {
		method, path string
		status       int
	}{
		{"GET", "/health", 200},
		{"HEAD", "/health", 200},
		{"POST", "/health", 405},
		{"GET", "/dedicated/v1/completions", 405},
		{"POST", "/dedicated/v2/completions", 404},
		{"POST", "/v1/completions%23stream", 404},
		{"GET", "/", 404},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, inst.URL()+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		field string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"zero value", func(c *Config) { *c = Config{} }, ""},
		{"rate over one", func(c *Config) { c.Faults.Rate429 = 1.5 }, "Faults.Rate429"},
		{"negative rate", func(c *Config) { c.Faults.RateCut = -0.1 }, "Faults.RateCut"},
		{"exclusive rates over one", func(c *Config) { c.Faults.Rate500, c.Faults.Rate503 = 0.6, 0.6 }, "Faults"},
		{"negative ttft", func(c *Config) { c.Latency.TTFT = -1 }, "Latency.TTFT"},
		{"negative itl", func(c *Config) { c.Latency.ITL = -1 }, "Latency.ITL"},
		{"negative slow delay", func(c *Config) { c.Faults.SlowDelay = -1 }, "Faults.SlowDelay"},
		{"jitter one", func(c *Config) { c.Latency.Jitter = 1 }, "Latency.Jitter"},
		{"negative capacity", func(c *Config) { c.Capacity = -1 }, "Capacity"},
		{"empty endpoints", func(c *Config) { c.Endpoints = []string{} }, "Endpoints"},
		{"colon in endpoint", func(c *Config) { c.Endpoints = []string{"a:b"} }, "Endpoints[0]"},
		{"duplicate adapter", func(c *Config) { c.Adapters = []string{"x", "x"} }, "Adapters[1]"},
		{"error shape", func(c *Config) { c.Quirks.ErrorShape = "xml" }, "Quirks.ErrorShape"},
		{"chunk tokens", func(c *Config) { c.Quirks.ChunkTokens = -2 }, "Quirks.ChunkTokens"},
		{"no adapters is fine", func(c *Config) { c.Adapters = []string{} }, ""},
		{"literal token", func(c *Config) { c.Token = "flp_abc-DEF.123_~+/=" }, ""},
		{"token with a newline", func(c *Config) { c.Token = "flp_secret\n" }, "Token"},
		{"token with a space", func(c *Config) { c.Token = "flp secret" }, "Token"},
		{"token with a control byte", func(c *Config) { c.Token = "flp_\x00secret" }, "Token"},
		{"non-ASCII token", func(c *Config) { c.Token = "flp_sécret" }, "Token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.edit(&cfg)
			_, err := New(cfg)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "simulator: config "+c.field) {
				t.Fatalf("error %v, want one naming %s", err, c.field)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q echoes the token", err)
			}
		})
	}
}
