package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestCompletionReplies(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // substring; "" = must decode
		check   func(t *testing.T, r *CompletionResponse)
	}{
		{file: "object.json", check: func(t *testing.T, r *CompletionResponse) {
			want := &CompletionResponse{
				ID: "cmpl-26a1e10db8544bc3adb488d2d205288b", Model: "ep-abc123:lora-a", Object: "text_completion",
				Created: Ptr(int64(1733382157)),
				Choices: []CompletionChoice{{
					Index: 0, Seed: Ptr(uint64(math.MaxUint64)), Text: " Paris.", Tokens: []int{12366, 13}, FinishReason: "length",
					Logprobs: &Logprobs{
						TextOffset: []int{0, 6}, TokenLogprobs: []float64{-0.01, -1.2}, Tokens: []string{" Paris", "."},
						TopLogprobs: []map[string]float64{{" Paris": -0.01, " Lyon": -4.9, "null": -9.5}, {".": -1.2, ",": -0.6}},
					},
				}},
				Usage: Usage{PromptTokens: 7, CompletionTokens: 2, TotalTokens: 9, CachedTokens: 4},
			}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("got  %+v\nwant %+v", r, want)
			}
		}},
		{file: "legacy.json", check: func(t *testing.T, r *CompletionResponse) {
			lp := r.Choices[0].Logprobs
			if lp == nil || !lp.Legacy || !reflect.DeepEqual(lp.TokenLogprobs, []float64{-0.5, -0.125}) || lp.TopLogprobs != nil || lp.Tokens != nil {
				t.Errorf("legacy logprobs = %+v", lp)
			}
			if s := r.Choices[0].Seed; s == nil || *s != 42 {
				t.Errorf("seed = %v, want 42", s)
			}
		}},
		{file: "null_logprobs.json", check: func(t *testing.T, r *CompletionResponse) {
			c := r.Choices[0]
			if c.Logprobs != nil {
				t.Errorf("logprobs = %+v, want nil", c.Logprobs)
			}
			if c.FinishReason != "" {
				t.Errorf(`finish_reason "null" read as %q, want ""`, c.FinishReason)
			}
			if c.Seed == nil || *c.Seed != 42 {
				t.Errorf(`seed "42" read as %v`, c.Seed)
			}
			if r.Created != nil || r.Usage.CachedTokens != 0 || r.Usage.TotalTokens != 2 {
				t.Errorf("created %v usage %+v", r.Created, r.Usage)
			}
		}},
		{file: "top_null_dict.json", check: func(t *testing.T, r *CompletionResponse) {
			lp := r.Choices[0].Logprobs
			if len(lp.TopLogprobs) != 2 || lp.TopLogprobs[0] != nil || lp.TopLogprobs[1]["b"] != -0.2 {
				t.Errorf("top_logprobs = %v", lp.TopLogprobs)
			}
			if !reflect.DeepEqual(lp.Tokens, []string{"a", "null"}) || lp.Legacy {
				t.Errorf("tokens = %q legacy %v", lp.Tokens, lp.Legacy)
			}
			if r.Choices[0].Seed != nil {
				t.Errorf("negative seed read as %v, want nil", *r.Choices[0].Seed)
			}
		}},
		{file: "bad_logprobs_string.json", wantErr: "choices[0].logprobs: got a string, want an object or a list of numbers"},
		{file: "bad_logprobs_number.json", wantErr: "choices[0].logprobs: got the number -0.5, want an object or a list of numbers"},
		{file: "bad_token_logprob_null.json", wantErr: "choices[0].logprobs.token_logprobs[1]: got null, want a number"},
		{file: "bad_token_logprob_string.json", wantErr: "choices[0].logprobs.token_logprobs[1]: got a string, want a number"},
		{file: "bad_top_string.json", wantErr: `choices[0].logprobs.top_logprobs[1]["b"]: got a string, want a number`},
		{file: "bad_top_null.json", wantErr: `choices[0].logprobs.top_logprobs[0]["c"]: got null, want a number`},
		{file: "bad_legacy_null.json", wantErr: "choices[0].logprobs[1]: got null, want a number"},
		{file: "bad_tokens_null.json", wantErr: "choices[0].tokens[1]: got null, want an integer"},
		{file: "bad_tokens_string.json", wantErr: "choices[0].tokens: got a string, want a list"},
		{file: "bad_text_offset.json", wantErr: "choices[0].logprobs.text_offset[1]: got 1.5, want an integer"},
		{file: "bad_second_choice.json", wantErr: "choices[1].logprobs.token_logprobs[0]: got a boolean, want a number"},
		{file: "bad_nan.json", wantErr: "invalid JSON at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, _ := newServer(t, serveFile(t, "replies/"+tt.file, "application/json"), nil)
			r, call, err := c.Completions(context.Background(), &CompletionRequest{Model: "m", Prompt: "p"})
			if len(call.Attempts) != 1 {
				t.Errorf("%d attempts, want 1 (a reply that does not decode is not retried)", len(call.Attempts))
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, r)
				return
			}
			if err == nil {
				t.Fatalf("decoded %+v, want error %q", r, tt.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "endpoint: /v1/completions: decode reply: ") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q\nwant it to contain %q", msg, tt.wantErr)
			}
			if !strings.Contains(msg, `; reply: {"id":`) {
				t.Errorf("error %q does not quote the reply", msg)
			}
			if a := call.Attempts[0]; a.Status != 200 || !strings.Contains(a.Err, "decode reply") {
				t.Errorf("attempt = %+v, want status 200 with a decode reason", a)
			}
		})
	}
}

func TestLogprobsUnmarshal(t *testing.T) {
	tests := []struct {
		name, in string
		want     *Logprobs // nil with wantErr ""/ means stays nil
		wantErr  string
	}{
		{name: "null", in: `null`},
		{name: "legacy", in: `[-1, -0.5e0, 0]`, want: &Logprobs{TokenLogprobs: []float64{-1, -0.5, 0}, Legacy: true}},
		{name: "legacy empty", in: `[]`, want: &Logprobs{TokenLogprobs: []float64{}, Legacy: true}},
		{name: "object", in: `{"text_offset":[0],"token_logprobs":[-2],"tokens":["x"],"top_logprobs":[{"x":-2,"y":-3}]}`,
			want: &Logprobs{TextOffset: []int{0}, TokenLogprobs: []float64{-2}, Tokens: []string{"x"}, TopLogprobs: []map[string]float64{{"x": -2, "y": -3}}}},
		{name: "object with null fields", in: `{"text_offset":null,"token_logprobs":[-2],"tokens":null,"top_logprobs":null}`,
			want: &Logprobs{TokenLogprobs: []float64{-2}}},
		{name: "string", in: `"x"`, wantErr: "logprobs: got a string, want an object or a list of numbers"},
		{name: "bool", in: `true`, wantErr: "logprobs: got a boolean"},
		{name: "legacy string element", in: `[-1,"a"]`, wantErr: "logprobs[1]: got a string, want a number"},
		{name: "legacy nested", in: `[[-1]]`, wantErr: "logprobs[0]: got a list, want a number"},
		{name: "token_logprobs null element", in: `{"token_logprobs":[null]}`, wantErr: "logprobs.token_logprobs[0]: got null, want a number"},
		{name: "token_logprobs object", in: `{"token_logprobs":{}}`, wantErr: "logprobs.token_logprobs: got an object, want a list"},
		{name: "tokens null element", in: `{"token_logprobs":[-1],"tokens":[null]}`, wantErr: "logprobs.tokens[0]: got null, want a string"},
		{name: "top value bool", in: `{"token_logprobs":[-1],"top_logprobs":[{"a":false}]}`, wantErr: `logprobs.top_logprobs[0]["a"]: got a boolean, want a number`},
		{name: "top element list", in: `{"token_logprobs":[-1],"top_logprobs":[[-1]]}`, wantErr: "logprobs.top_logprobs[0]: got a list, want an object"},
		{name: "out of range", in: `[-1e999]`, wantErr: "logprobs[0]: -1e999 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Logprobs
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got != nil {
				// It writes back the shape it read.
				b, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				var again *Logprobs
				if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("round trip %s: %+v, %v", b, again, err)
				}
			}
		})
	}
}

func TestChatReply(t *testing.T) {
	const ok = `{"id":"chatcmpl-1","object":"chat.completion","model":"ep","created":1735722153,
	 "choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"think",
	   "tool_calls":[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":1}"}}]},
	   "finish_reason":"tool_calls",
	   "logprobs":{"content":[{"token":"Hi","logprob":-0.5,"bytes":null,"top_logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}]}}],
	 "usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}}`
	r, err := decodeChat([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	want := &ChatResponse{ID: "chatcmpl-1", Object: "chat.completion", Model: "ep", Created: 1735722153,
		Choices: []ChatChoice{{
			Message: Message{Role: "assistant", ReasoningContent: "think",
				ToolCalls: []ToolCall{{ID: "call_1", Type: "function", Function: FunctionCall{Name: "add", Arguments: `{"a":1}`}}}},
			FinishReason: "tool_calls",
			Logprobs: &ChatLogprobs{Content: []ChatTokenLogprob{{Token: "Hi", Logprob: -0.5,
				TopLogprobs: []ChatTopLogprob{{Token: "Hi", Logprob: -0.5, Bytes: []int{72, 105}}}}}},
		}},
		Usage: Usage{PromptTokens: 9, CompletionTokens: 11, TotalTokens: 20}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}

	bad := []struct{ in, want string }{
		{`{"choices":[{"logprobs":{"content":[{"token":"a","logprob":null,"top_logprobs":[]}]}}]}`, "choices[0].logprobs.content[0].logprob: got null, want a number"},
		{`{"choices":[{"logprobs":{"content":[{"token":"a","logprob":-1,"top_logprobs":[{"token":"b","logprob":"x"}]}]}}]}`, "choices[0].logprobs.content[0].top_logprobs[0].logprob: got a string, want a number"},
		{`{"choices":[{"logprobs":{"content":[{"token":null,"logprob":-1,"top_logprobs":[]}]}}]}`, "choices[0].logprobs.content[0].token: got null, want a string"},
		{`{"choices":[{"message":{"content":5}}]}`, "choices[0].message.content: got the number 5, want a string"},
	}
	for _, b := range bad {
		_, err := decodeChat([]byte(b.in))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s:\n error %v, want %q", b.in, err, b.want)
		}
	}
}

// A 200 that carries an error instead of choices must not pass as an empty
// reply.
func TestErrorInA200(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"error":{"message":"model is sleeping"}}`))
	}, nil)
	_, _, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "x"})
	if err == nil || !strings.Contains(err.Error(), "model is sleeping") {
		t.Fatalf("error %v, want the server's message", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Errorf("a 200 reply reported as APIError %+v", ae)
	}
}
