package endpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/valyala/fastjson"
)

// strictDecode is what the stream does when the fast path declines.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.InputOffset() != int64(len(data)) {
		return errors.New("invalid JSON after the value")
	}
	return nil
}

// normalise treats empty and nil lists alike: the code after decoding only
// looks at their lengths.
func normCompletion(w completionChunkWire) completionChunkWire {
	if len(w.Choices) == 0 {
		w.Choices = nil
	}
	for i := range w.Choices {
		if len(w.Choices[i].Tokens) == 0 {
			w.Choices[i].Tokens = nil
		}
		if len(w.Choices[i].Token.list) == 0 {
			w.Choices[i].Token.list = nil
		}
	}
	if len(w.Token.list) == 0 {
		w.Token.list = nil
	}
	w.Error = nil
	return w
}

func normChat(w chatChunkWire) chatChunkWire {
	if len(w.Choices) == 0 {
		w.Choices = nil
	}
	w.Error = nil
	return w
}

// checkSame fails when the fast path accepts an event the strict decoder
// reads differently or refuses. It returns whether the fast path accepted
// each shape.
func checkSame(t *testing.T, data []byte) (completion, chat bool) {
	t.Helper()
	var p fastjson.Parser
	var fw, sw completionChunkWire
	if fastCompletion(&p, data, &fw) {
		completion = true
		if err := strictDecode(data, &sw); err != nil {
			t.Fatalf("completions %q: the fast path accepted what the strict decoder refuses: %v", data, err)
		}
		if a, b := normCompletion(fw), normCompletion(sw); !reflect.DeepEqual(a, b) {
			t.Fatalf("completions %q:\nfast   %+v\nstrict %+v", data, a, b)
		}
	}
	var fc, sc chatChunkWire
	if fastChat(&p, data, &fc) {
		chat = true
		if err := strictDecode(data, &sc); err != nil {
			t.Fatalf("chat %q: the fast path accepted what the strict decoder refuses: %v", data, err)
		}
		if a, b := normChat(fc), normChat(sc); !reflect.DeepEqual(a, b) {
			t.Fatalf("chat %q:\nfast   %+v\nstrict %+v", data, a, b)
		}
	}
	return completion, chat
}

// The common events take the fast path (or the optimisation is gone
// without a failing test); the others are left to the strict decoder.
func TestFastChunkPaths(t *testing.T) {
	for _, c := range []struct {
		name       string
		data       string
		completion bool
		chat       bool
	}{
		{"completions token", `{"id":"cmpl-1","object":"text_completion","model":"demo","choices":[{"index":0,"text":" word","token":1234,"finish_reason":null,"logprobs":null}],"created":1733382157}`, true, true},
		{"completions finish string null", `{"choices":[{"index":0,"text":"","finish_reason":"null"}]}`, true, true},
		{"completions tokens list", `{"choices":[{"index":0,"text":" a b","tokens":[5,6],"finish_reason":"length"}]}`, true, true},
		{"usage chunk", `{"choices":[],"usage":{"prompt_tokens":16,"completion_tokens":3,"total_tokens":19}}`, true, true},
		{"legacy token_sampled", `{"event":"token_sampled","index":0,"text":" hi","token":42}`, true, true},
		{"escaped text", `{"choices":[{"index":0,"text":"a\n\"b\" \u00e9\t"}]}`, true, true},
		{"chat content", `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"logprobs":null}]}`, true, true},
		{"chat reasoning", `{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`, true, true},
		{"empty object", `{}`, true, true},

		// Off the common path: the strict decoder decides.
		{"logprobs", `{"choices":[{"index":0,"text":" a","logprobs":{"tokens":[" a"],"token_logprobs":[-0.5]}}]}`, false, false},
		{"tool calls", `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x"}]}}]}`, true, false},
		{"error field", `{"error":{"message":"boom"}}`, false, false},
		{"index as string", `{"choices":[{"index":"0","text":"a"}]}`, false, false},
		{"float index", `{"choices":[{"index":1.0,"text":"a"}]}`, false, false},
		{"token as float", `{"choices":[{"text":"a","token":4.5}]}`, false, true},
		{"folded key", `{"choices":[{"Text":"a"}]}`, false, true},
		{"folded top key", `{"Choices":[]}`, false, false},
		{"repeated key", `{"choices":[{"text":"a","text":"b"}]}`, false, true},
		{"lone surrogate", `{"choices":[{"text":"\ud800"}]}`, false, false},
		{"invalid utf-8", "{\"choices\":[{\"text\":\"\xff\"}]}", false, false},
		{"control char before an escape", "{\"choices\":[{\"text\":\"a\x01b\\n\"}]}", false, false},
		{"trailing value", `{"choices":[]} {}`, false, false},
		{"not an object", `[1,2]`, false, false},
		{"usage details", `{"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":1}}}`, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			completion, chat := checkSame(t, []byte(c.data))
			if completion != c.completion || chat != c.chat {
				t.Errorf("fast path taken: completions %v, chat %v; want %v, %v", completion, chat, c.completion, c.chat)
			}
		})
	}
}

// FuzzFastChunk holds the fast path to the strict decoder: whatever it
// accepts, it reads as encoding/json does.
func FuzzFastChunk(f *testing.F) {
	files, _ := filepath.Glob("testdata/streams/*.sse")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if d, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok {
				f.Add(bytes.TrimSpace(d))
			}
		}
	}
	f.Add([]byte(`{"choices":[{"index":0,"text":"x","token":[1,2],"tokens":null,"finish_reason":"stop"}],"usage":null}`))
	f.Add([]byte(`{"choices":[{"index":0,"delta":{"content":"x","reasoning":null}}],"usage":{"total_tokens":-0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
	})
}
