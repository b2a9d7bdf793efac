package endpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// normReply treats empty and nil lists alike, as the code after decoding
// does; maps and everything else compare as they are.
func normReply(w completionWire) completionWire {
	if len(w.Choices) == 0 {
		w.Choices = nil
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		if len(c.Tokens) == 0 {
			c.Tokens = nil
		}
		if lp := c.Logprobs; lp != nil {
			n := *lp
			if len(n.TextOffset) == 0 {
				n.TextOffset = nil
			}
			if len(n.TokenLogprobs) == 0 {
				n.TokenLogprobs = nil
			}
			if len(n.Tokens) == 0 {
				n.Tokens = nil
			}
			if len(n.TopLogprobs) == 0 {
				n.TopLogprobs = nil
			}
			c.Logprobs = &n
		}
	}
	return w
}

// checkReply fails when the fast path accepts a reply the strict decoder
// reads differently or refuses, and says whether it accepted it.
func checkReply(t *testing.T, data []byte) bool {
	t.Helper()
	var d fastDecoder
	var fw, sw completionWire
	if !d.fastCompletionReply(data, &fw) {
		return false
	}
	if err := json.Unmarshal(data, &sw); err != nil {
		t.Fatalf("%q: the fast path accepted what the strict decoder refuses: %v", data, err)
	}
	if a, b := normReply(fw), normReply(sw); !reflect.DeepEqual(a, b) {
		t.Fatalf("%q:\nfast   %#v\nstrict %#v", data, a, b)
	}
	return true
}

func TestFastReplyPaths(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		fast bool
	}{
		{"letter", `{"id":"c","object":"text_completion","model":"demo","created":1,"choices":[{"index":0,"text":" A","seed":7,"finish_reason":"length","tokens":[330],"logprobs":{"text_offset":[0],"token_logprobs":[-1.2345678901234567],"tokens":[" A"],"top_logprobs":[{" A":-1.2345678901234567," B":-0.5," C":-3e-2}]}}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}`, true},
		{"legacy floats", `{"choices":[{"index":0,"text":"x","logprobs":[-0.5,-1]}]}`, true},
		{"no logprobs", `{"choices":[{"index":0,"text":"x","logprobs":null}],"usage":null}`, true},
		{"seed too big", `{"choices":[{"seed":18446744073709551616}]}`, true},
		{"seed negative", `{"choices":[{"seed":-3}]}`, true},

		{"null logprob", `{"choices":[{"logprobs":{"token_logprobs":[null]}}]}`, false},
		{"null top entry", `{"choices":[{"logprobs":{"top_logprobs":[null]}}]}`, false},
		{"seed as string", `{"choices":[{"seed":"7"}]}`, false},
		{"token as float", `{"choices":[{"tokens":[1.0]}]}`, false},
		{"created float", `{"created":1.5,"choices":[]}`, false},
		{"folded key", `{"Choices":[]}`, false},
		{"repeated key", `{"choices":[{"text":"a","text":"b"}]}`, false},
		{"control char before an escape", "{\"choices\":[{\"text\":\"a\x00\\b\"}]}", false},
		{"cached tokens", `{"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":1}}}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := checkReply(t, []byte(c.data)); got != c.fast {
				t.Errorf("fast path taken: %v, want %v", got, c.fast)
			}
		})
	}
}

// Every number of a reply, swapped for one encoding/json refuses, must
// not get past the fast path (see TestFastChunkNumbers).
func TestFastReplyNumbers(t *testing.T) {
	replies := [][]byte{
		completionReply(2, 3),
		[]byte(`{"created":1,"choices":[{"index":0,"seed":[1,{"a":2}],"logprobs":[-0.5,-1],"x":[3]}],"usage":{"prompt_tokens":4,"z":5}}`),
		[]byte(`{"choices":[{"seed":6,"logprobs":{"text_offset":[7],"token_logprobs":[-8],"tokens":["a"],"top_logprobs":[{"a":-9}],"w":10}}]}`),
	}
	files, _ := filepath.Glob("testdata/replies/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, b)
	}
	n := 0
	for _, data := range replies {
		for _, s := range numberSpans(data) {
			for _, bad := range badNumbers {
				checkReply(t, slices.Concat(data[:s[0]], []byte(bad), data[s[1]:]))
				n++
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d mutations", n)
	}
}

// FuzzFastReply holds the reply fast path to the strict decoder.
func FuzzFastReply(f *testing.F) {
	files, _ := filepath.Glob("testdata/replies/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"choices":[{"index":0,"text":"x","tokens":[1,2],"logprobs":{"tokens":["a","b"],"token_logprobs":[-1,-2.5e-3],"top_logprobs":[{"a":-1},{}],"text_offset":[0,1]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReply(t, data)
	})
}
