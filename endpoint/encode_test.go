package endpoint

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// tokenizeRequest and detokenizeRequest are the bodies the hand-written
// encoders must match, as json.Marshal encodes them.
type tokenizeRequest struct {
	Model  string `json:"model,omitempty"`
	Prompt string `json:"prompt"`
}

type detokenizeRequest struct {
	Model  string `json:"model,omitempty"`
	Tokens []int  `json:"tokens"`
}

// sameAsMarshal fails unless encodeCompletionRequest gives json.Marshal's
// bytes, or its error. It returns whether the hand-written encoder, not
// the fallback to json.Marshal, wrote them.
func sameAsMarshal(t *testing.T, req *CompletionRequest) (fast bool) {
	t.Helper()
	want, wantErr := json.Marshal(req)
	got, err := encodeCompletionRequest(req)
	switch {
	case (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error():
		t.Fatalf("%+v: error %v, json.Marshal's %v", req, err, wantErr)
	case !bytes.Equal(got, want):
		t.Fatalf("%+v:\ngot  %s\nwant %s", req, got, want)
	}
	_, fast = appendCompletionRequest(nil, req)
	return fast
}

// specialStrings hold every class of byte json.Marshal escapes or
// replaces.
var specialStrings = []string{
	"",
	"plain ASCII ~!@#$%^*()_+`-=[]{}|;':,./? 0123456789",
	"quote \" backslash \\ slash /",
	"\b\f\n\r\t",
	"\x00\x01\x07\x0b\x0e\x1f\x7f",
	"<script>&amp;</script>",
	"é ü 中文 🎉 \u2027\u2028\u2029\u202a",
	"bad \xff \xc3 \xe2\x80 \xed\xa0\x80 \xf4\x90\x80\x80 end\xc3",
	"\ufffd literal",
}

func TestEncodeCompletionRequest(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.7, 1.0 / 3, 1e-6, 9.99999e-7, 1e-7, 1.5e-9, 1e-10,
		5e-324, 1e20, 1e21, 123456789012345678901, 1.7976931348623157e308, -2.5e-8, 100, 1e6}
	ints := []int{0, 1, -1, 42, 1 << 31, math.MaxInt64, math.MinInt64}
	var cases []*CompletionRequest
	cases = append(cases,
		&CompletionRequest{},
		scoringRequest(16),
		&CompletionRequest{Model: "ep-abc123", Prompt: "Tell me a story.", MaxTokens: Ptr(64), MinTokens: Ptr(64),
			Stream: true, StreamOptions: &StreamOptions{IncludeUsage: true}},
		&CompletionRequest{StreamOptions: &StreamOptions{}},
		&CompletionRequest{Tokens: []int{}, ForcedOutputTokens: []int{}, Stop: []string{}},
		&CompletionRequest{Stop: []string{""}},
		&CompletionRequest{Stop: specialStrings},
		&CompletionRequest{Model: "m", Prompt: "p", Tokens: []int{1, 2}, ForcedOutputTokens: []int{3},
			Logprobs: Ptr(0), MaxTokens: Ptr(0), MaxTotalTokens: Ptr(1), MinTokens: Ptr(2), MinTotalTokens: Ptr(3),
			Temperature: Ptr(0.0), TopK: Ptr(-1), TopP: Ptr(1.0), Seed: Ptr(int64(-7)), Stop: []string{"\n", "###"},
			N: Ptr(2), Stream: true, StreamOptions: &StreamOptions{IncludeUsage: false}},
	)
	for _, s := range specialStrings {
		cases = append(cases, &CompletionRequest{Model: s, Prompt: s})
	}
	for _, f := range floats {
		cases = append(cases, &CompletionRequest{Temperature: Ptr(f), TopP: Ptr(-f)})
	}
	for _, n := range ints {
		cases = append(cases, &CompletionRequest{Tokens: []int{n, -n}, Logprobs: Ptr(n), N: Ptr(n), Seed: Ptr(int64(n))})
	}
	for i, c := range cases {
		if !sameAsMarshal(t, c) {
			t.Errorf("case %d (%+v) went to json.Marshal", i, c)
		}
	}

	// Left to json.Marshal: its bytes, or its error.
	for _, c := range []*CompletionRequest{
		{ResponseFormat: &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchemaFormat{Schema: json.RawMessage(`{ "type" : "object" }`)}}},
		{ResponseFormat: &ResponseFormat{Type: "regex", Schema: "[a-z]+<&>"}},
		{Temperature: Ptr(math.NaN())},
		{TopP: Ptr(math.Inf(1))},
		{Model: "m", Temperature: Ptr(math.Inf(-1))},
	} {
		if sameAsMarshal(t, c) {
			t.Errorf("%+v: the hand-written encoder took it", c)
		}
	}
}

func TestEncodeTokenizeRequests(t *testing.T) {
	for _, model := range []string{"", "demo", "<&>"} {
		for _, s := range specialStrings {
			want, _ := json.Marshal(tokenizeRequest{Model: model, Prompt: s})
			if got := encodeTokenizeRequest(model, s); !bytes.Equal(got, want) {
				t.Errorf("tokenize %q %q:\ngot  %s\nwant %s", model, s, got, want)
			}
		}
		for _, tokens := range [][]int{nil, {}, {0}, {1, -2, math.MaxInt64}} {
			want, _ := json.Marshal(detokenizeRequest{Model: model, Tokens: tokens})
			if got := encodeDetokenizeRequest(model, tokens); !bytes.Equal(got, want) {
				t.Errorf("detokenize %q %v:\ngot  %s\nwant %s", model, tokens, got, want)
			}
		}
	}
}

// FuzzAppendCompletionRequest holds the hand-written encoder to
// json.Marshal byte for byte: arbitrary bytes in every string, any ints and
// floats, each optional field set or nil.
func FuzzAppendCompletionRequest(f *testing.F) {
	f.Add("ep-abc123", []byte("Tell me a story."), "\n", []byte{1, 2, 3}, 64, -1, int64(1234), 0.7, 0.95, uint16(0xffff))
	f.Add("", []byte("a\x00<b>\u2028\xff"), "", []byte{}, 0, 0, int64(0), 1e-7, 1e21, uint16(0))
	f.Add("\xed\xa0\x80", []byte("\"\\\t"), "&", []byte{255}, math.MinInt64, math.MaxInt64, int64(math.MinInt64), math.NaN(), math.Inf(-1), uint16(0x5555))
	f.Fuzz(func(t *testing.T, model string, prompt []byte, stop string, tokens []byte, a, b int, seed int64, temp, topP float64, set uint16) {
		req := &CompletionRequest{Model: model, Prompt: string(prompt)}
		bit := func(i int) bool { return set&(1<<i) != 0 }
		ids := make([]int, len(tokens))
		for i, x := range tokens {
			ids[i] = int(x) * a
		}
		if bit(0) {
			req.Tokens = ids
		}
		if bit(1) {
			req.ForcedOutputTokens = ids
		}
		if bit(2) {
			req.Logprobs = &a
		}
		if bit(3) {
			req.MaxTokens = &b
		}
		if bit(4) {
			req.MinTokens, req.MaxTotalTokens, req.MinTotalTokens = &a, &b, &a
		}
		if bit(5) {
			req.Temperature = &temp
		}
		if bit(6) {
			req.TopK = &b
		}
		if bit(7) {
			req.TopP = &topP
		}
		if bit(8) {
			req.Seed = &seed
		}
		if bit(9) {
			req.Stop = []string{stop, string(prompt)}
		}
		if bit(10) {
			req.N = &a
		}
		req.Stream = bit(11)
		if bit(12) {
			req.StreamOptions = &StreamOptions{IncludeUsage: bit(13)}
		}
		if bit(14) {
			req.ResponseFormat = &ResponseFormat{Type: stop, Schema: model}
		}
		fast := sameAsMarshal(t, req)
		finite := func(p *float64) bool { return p == nil || !math.IsNaN(*p) && !math.IsInf(*p, 0) }
		if want := req.ResponseFormat == nil && finite(req.Temperature) && finite(req.TopP); fast != want {
			t.Fatalf("%+v: hand-written encoder %v, want %v", req, fast, want)
		}

		want, _ := json.Marshal(tokenizeRequest{Model: model, Prompt: string(prompt)})
		if got := encodeTokenizeRequest(model, string(prompt)); !bytes.Equal(got, want) {
			t.Fatalf("tokenize:\ngot  %s\nwant %s", got, want)
		}
		if !bit(15) {
			ids = nil
		}
		want, _ = json.Marshal(detokenizeRequest{Model: stop, Tokens: ids})
		if got := encodeDetokenizeRequest(stop, ids); !bytes.Equal(got, want) {
			t.Fatalf("detokenize:\ngot  %s\nwant %s", got, want)
		}
	})
}

// BenchmarkEncodeCompletionRequest is a request body's encoding: a scoring
// request (300 context tokens, 16 forced) and the load generator's
// streamed prompt, by hand and, for comparison, by json.Marshal.
func BenchmarkEncodeCompletionRequest(b *testing.B) {
	prompt := &CompletionRequest{Model: "ep-abc123", Prompt: "Write a short story about a lighthouse keeper who finds a message in a bottle.",
		MaxTokens: Ptr(16), MinTokens: Ptr(16), Stream: true, StreamOptions: &StreamOptions{IncludeUsage: true}}
	for _, c := range []struct {
		name string
		req  *CompletionRequest
	}{{"scoring", scoringRequest(16)}, {"prompt", prompt}} {
		b.Run(c.name+"/hand", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := encodeCompletionRequest(c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/json", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := json.Marshal(c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
