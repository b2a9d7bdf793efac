package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
)

// forcedReq is a forced-token scoring request, as the harness sends it.
func forcedReq(modelName, prompt string, forced []int, k int) map[string]any {
	return map[string]any{
		"model": modelName, "prompt": prompt, "forced_output_tokens": forced,
		"logprobs": k, "max_tokens": len(forced),
	}
}

func complete(t *testing.T, url string, body any) wireCompletion {
	t.Helper()
	status, b, _ := post(t, url, body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	var r wireCompletion
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return r
}

// A forced-token reply echoes the forced tokens and gives, per token, the
// model's log-probability of it in context; a forced token found in the
// top-k dictionary has exactly the same value there, and the values come
// from a normalised distribution.
func TestForcedTokenLogprobs(t *testing.T) {
	inst := start(t, fastConfig())
	srv := inst.Server()
	tk := srv.Tokenizer()
	prompt := "Question: Which planet is largest?\nA. Mars\nB. Jupiter\nAnswer:"
	forcedText := " B because Jupiter is the largest planet"
	forced := tk.AppendTokens(nil, forcedText)
	for _, modelName := range []string{"demo", "demo:lora-a"} {
		t.Run(modelName, func(t *testing.T) {
			r := complete(t, inst.URL()+"/dedicated/v1/completions", forcedReq(modelName, prompt, forced, 20))
			if r.Object != "text_completion" || r.Model != "demo" || len(r.Choices) != 1 {
				t.Fatalf("reply %+v", r)
			}
			ch := r.Choices[0]
			if !slices.Equal(ch.Tokens, forced) || ch.Text != forcedText || ch.FinishReason != "length" || ch.Seed == nil {
				t.Fatalf("choice %+v", ch)
			}
			promptToks := tk.Tokenize(prompt)
			if r.Usage != (wireUsage{len(promptToks), len(forced), len(promptToks) + len(forced)}) {
				t.Fatalf("usage %+v", r.Usage)
			}
			lp := ch.logprobs(t)
			if len(lp.TokenLogprobs) != len(forced) || len(lp.Tokens) != len(forced) || len(lp.TopLogprobs) != len(forced) || len(lp.TextOffset) != len(forced) {
				t.Fatalf("logprobs lengths %d %d %d %d for %d tokens", len(lp.TokenLogprobs), len(lp.Tokens), len(lp.TopLogprobs), len(lp.TextOffset), len(forced))
			}
			m, _, e := srv.resolve(dedicated, &modelName)
			if e != nil {
				t.Fatal(e)
			}
			ctx := slices.Clone(promptToks)
			full := make([]float64, tk.VocabSize())
			inTop := 0
			offset := 0
			for i, id := range forced {
				if lp.Tokens[i] != tk.TokenString(id) {
					t.Fatalf("tokens[%d] = %q, want %q", i, lp.Tokens[i], tk.TokenString(id))
				}
				if lp.TextOffset[i] != offset {
					t.Fatalf("text_offset[%d] = %d, want %d", i, lp.TextOffset[i], offset)
				}
				offset += len(tk.TokenBytes(id)) // ASCII text: bytes = characters
				p := srv.lm.at(m, ctxHash(ctx), ctx[len(ctx)-1])
				p.fullLogprobs(full)
				if d := math.Abs(logSumExp(full)); d > 1e-9 {
					t.Fatalf("position %d: logsumexp %g", i, d)
				}
				if got, want := lp.TokenLogprobs[i], full[id]; got != want {
					t.Fatalf("token_logprobs[%d] = %v, want log P = %v", i, got, want)
				}
				top := lp.TopLogprobs[i]
				if len(top) != 20 {
					t.Fatalf("top_logprobs[%d] has %d entries, want 20", i, len(top))
				}
				if v, ok := top[lp.Tokens[i]]; ok {
					inTop++
					if math.Float64bits(v) != math.Float64bits(lp.TokenLogprobs[i]) {
						t.Fatalf("position %d: top-k value %v differs from the token's logprob %v", i, v, lp.TokenLogprobs[i])
					}
				}
				// The dictionary is the true top 20 of the distribution.
				sorted := slices.Clone(full)
				slices.Sort(sorted)
				kth := sorted[len(sorted)-20]
				for s, v := range top {
					tid, ok := tk.ID(s)
					if !ok || full[tid] != v || v < kth {
						t.Fatalf("position %d: top entry %q=%v is not in the top 20 (id %d ok %v)", i, s, v, tid, ok)
					}
				}
				ctx = append(ctx, id)
			}
			if inTop == 0 {
				t.Fatalf("no forced token (the first is a label after \"Answer:\") was in its top 20")
			}
		})
	}
}

// Identical requests give identical replies (apart from the id), prompt
// text and its token IDs give the same logprobs, and the container path
// serves the first endpoint's models.
func TestForcedDeterminism(t *testing.T) {
	inst := start(t, fastConfig())
	tk := inst.Server().Tokenizer()
	prompt := "Question: 2+2?\nAnswer:"
	forced := tk.AppendTokens(nil, " A")
	get := func(path string, body map[string]any) []float64 {
		r := complete(t, inst.URL()+path, body)
		lp := r.Choices[0].logprobs(t)
		var all []float64
		all = append(all, lp.TokenLogprobs...)
		for _, m := range lp.TopLogprobs {
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range m {
					if !yield(k) {
						return
					}
				}
			}) {
				all = append(all, m[k])
			}
		}
		return all
	}
	a := get("/dedicated/v1/completions", forcedReq("demo:lora-b", prompt, forced, 5))
	b := get("/dedicated/v1/completions", forcedReq("demo:lora-b", prompt, forced, 5))
	if !slices.Equal(a, b) {
		t.Fatalf("identical requests differ: %v vs %v", a, b)
	}
	byTokens := forcedReq("demo:lora-b", "", forced, 5)
	delete(byTokens, "prompt")
	byTokens["tokens"] = tk.Tokenize(prompt)
	if c := get("/dedicated/v1/completions", byTokens); !slices.Equal(a, c) {
		t.Fatalf("prompt as tokens differs: %v vs %v", a, c)
	}
	if c := get("/v1/completions", forcedReq("lora-b", prompt, forced, 5)); !slices.Equal(a, c) {
		t.Fatalf("container adapter route differs: %v vs %v", a, c)
	}
	if c := get("/dedicated/v1/completions", forcedReq("demo", prompt, forced, 5)); slices.Equal(a, c) {
		t.Fatalf("adapter lora-b and the base model agree exactly")
	}
	if c := get("/dedicated/v1/completions", forcedReq("demo:lora-a", prompt, forced, 5)); slices.Equal(a, c) {
		t.Fatalf("adapters lora-a and lora-b agree exactly")
	}
}

func TestModelRouting(t *testing.T) {
	cfg := fastConfig()
	cfg.Endpoints = []string{"ep1", "ep2"}
	inst := start(t, cfg)
	u := inst.URL()
	cases := []struct {
		path, model string
		status      int
	}{
		{"/dedicated/v1/completions", "ep1", 200},
		{"/dedicated/v1/completions", "ep2:lora-a", 200},
		{"/dedicated/v1/completions", "nope", 404},
		{"/dedicated/v1/completions", "ep1:nope", 404},
		{"/dedicated/v1/completions", "", 422},
		{"/dedicated/v1/tokenize", "nope", 404},
		{"/dedicated/v1/chat/completions", "ep1:missing", 404},
		{"/serverless/v1/completions", "meta-llama-3.1-8b-instruct", 200},
		{"/serverless/v1/completions", "ep1", 404},
		{"/v1/completions", "", 200},
		{"/v1/completions", "lora-b", 200},
		{"/v1/completions", "ep2", 200},
		{"/v1/completions", "ep2:lora-a", 200},
		{"/v1/completions", "unknown-adapter", 404},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %q", c.path, c.model), func(t *testing.T) {
			body := map[string]any{"prompt": "Hello", "max_tokens": 2}
			if c.path == "/dedicated/v1/chat/completions" {
				body = map[string]any{"messages": []map[string]string{{"role": "user", "content": "hi"}}, "max_tokens": 2}
			}
			if c.model != "" {
				body["model"] = c.model
			}
			status, b, resp := post(t, u+c.path, body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if status != 200 {
				var e struct {
					Error struct{ Message string } `json:"error"`
				}
				if json.Unmarshal(b, &e) != nil || e.Error.Message == "" || resp.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("error body %s is not a JSON error", b)
				}
			}
		})
	}
}

func TestTokenizeEndpoints(t *testing.T) {
	inst := start(t, fastConfig())
	tk := inst.Server().Tokenizer()
	text := "What is generative AI? 日本 👍"
	for _, prefix := range []string{"/dedicated/v1", "/serverless/v1", "/v1"} {
		t.Run(prefix, func(t *testing.T) {
			m := map[string]string{"/dedicated/v1": "demo:lora-a", "/serverless/v1": "meta-llama-3.1-8b-instruct", "/v1": ""}[prefix]
			body := map[string]any{"prompt": text}
			if m != "" {
				body["model"] = m
			}
			status, b, _ := post(t, inst.URL()+prefix+"/tokenize", body)
			var tr struct{ Tokens []int }
			if status != 200 || json.Unmarshal(b, &tr) != nil {
				t.Fatalf("tokenize: %d %s", status, b)
			}
			if !slices.Equal(tr.Tokens, tk.Tokenize(text)) || tr.Tokens[0] != BOS {
				t.Fatalf("tokens %v", tr.Tokens)
			}
			body = map[string]any{"tokens": tr.Tokens}
			if m != "" {
				body["model"] = m
			}
			status, b, _ = post(t, inst.URL()+prefix+"/detokenize", body)
			var dr struct{ Text string }
			if status != 200 || json.Unmarshal(b, &dr) != nil || dr.Text != text {
				t.Fatalf("detokenize: %d %s", status, b)
			}
		})
	}
}

// Generation without forced tokens honours max/min tokens, stop strings,
// n and seeds, and is reproducible with a seed.
func TestGeneration(t *testing.T) {
	inst := start(t, fastConfig())
	tk := inst.Server().Tokenizer()
	url := inst.URL() + "/dedicated/v1/completions"
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"model": "demo", "prompt": "Once upon a time"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	t.Run("max and min tokens", func(t *testing.T) {
		r := complete(t, url, base(map[string]any{"max_tokens": 40, "min_tokens": 40, "seed": 3}))
		ch := r.Choices[0]
		if len(ch.Tokens) != 40 || ch.FinishReason != "length" || r.Usage.CompletionTokens != 40 {
			t.Fatalf("%d tokens, finish %q, usage %+v", len(ch.Tokens), ch.FinishReason, r.Usage)
		}
		text, _ := tk.Detokenize(ch.Tokens)
		if text != ch.Text {
			t.Fatalf("text %q is not the detokenized tokens %q", ch.Text, text)
		}
	})
	t.Run("seeded sampling is reproducible", func(t *testing.T) {
		a := complete(t, url, base(map[string]any{"max_tokens": 30, "seed": 11, "temperature": 0.8, "top_p": 0.9}))
		b := complete(t, url, base(map[string]any{"max_tokens": 30, "seed": 11, "temperature": 0.8, "top_p": 0.9}))
		c := complete(t, url, base(map[string]any{"max_tokens": 30, "seed": 12, "temperature": 0.8, "top_p": 0.9}))
		if !slices.Equal(a.Choices[0].Tokens, b.Choices[0].Tokens) || *a.Choices[0].Seed != 11 {
			t.Fatalf("same seed, different output")
		}
		if slices.Equal(a.Choices[0].Tokens, c.Choices[0].Tokens) {
			t.Fatalf("different seeds, same 30 tokens")
		}
	})
	t.Run("greedy ignores the seed and follows the argmax", func(t *testing.T) {
		a := complete(t, url, base(map[string]any{"max_tokens": 10, "min_tokens": 10, "seed": 1, "temperature": 0, "logprobs": 1}))
		b := complete(t, url, base(map[string]any{"max_tokens": 10, "min_tokens": 10, "seed": 2, "temperature": 0}))
		if !slices.Equal(a.Choices[0].Tokens, b.Choices[0].Tokens) {
			t.Fatalf("greedy output depends on the seed")
		}
		lp := a.Choices[0].logprobs(t)
		for i, s := range lp.Tokens {
			if lp.TopLogprobs[i][s] != lp.TokenLogprobs[i] {
				t.Fatalf("greedy token %d %q is not the top-1 %v", i, s, lp.TopLogprobs[i])
			}
		}
	})
	t.Run("unseeded requests report their seed", func(t *testing.T) {
		r := complete(t, url, base(map[string]any{"max_tokens": 15, "n": 2}))
		if len(r.Choices) != 2 || r.Choices[0].Seed == nil || r.Choices[1].Seed == nil {
			t.Fatalf("choices %+v", r.Choices)
		}
		again := complete(t, url, base(map[string]any{"max_tokens": 15, "seed": *r.Choices[1].Seed}))
		if !slices.Equal(again.Choices[0].Tokens, r.Choices[1].Tokens) {
			t.Fatalf("replaying the reported seed gives another output")
		}
	})
	t.Run("n with one seed gives independent choices", func(t *testing.T) {
		// n results are "independently generated": one seed must not give
		// n copies. The first choice is the n = 1 generation for that
		// seed, and every choice reports the seed that replays it.
		r := complete(t, url, base(map[string]any{"max_tokens": 20, "min_tokens": 20, "n": 3, "seed": 7}))
		if len(r.Choices) != 3 || *r.Choices[0].Seed != 7 {
			t.Fatalf("choices %+v", r.Choices)
		}
		for i := range r.Choices {
			for j := i + 1; j < len(r.Choices); j++ {
				if slices.Equal(r.Choices[i].Tokens, r.Choices[j].Tokens) || *r.Choices[i].Seed == *r.Choices[j].Seed {
					t.Fatalf("choices %d and %d are the same generation (seeds %d, %d)", i, j, *r.Choices[i].Seed, *r.Choices[j].Seed)
				}
			}
			again := complete(t, url, base(map[string]any{"max_tokens": 20, "min_tokens": 20, "seed": *r.Choices[i].Seed}))
			if !slices.Equal(again.Choices[0].Tokens, r.Choices[i].Tokens) {
				t.Fatalf("replaying choice %d's seed %d gives another output", i, *r.Choices[i].Seed)
			}
		}
	})
	t.Run("n with a seed list", func(t *testing.T) {
		r := complete(t, url, base(map[string]any{"max_tokens": 10, "n": 3, "seed": []int{5, 6, 5}}))
		if len(r.Choices) != 3 || !slices.Equal(r.Choices[0].Tokens, r.Choices[2].Tokens) || slices.Equal(r.Choices[0].Tokens, r.Choices[1].Tokens) {
			t.Fatalf("choices %+v", r.Choices)
		}
		if r.Usage.CompletionTokens != len(r.Choices[0].Tokens)+len(r.Choices[1].Tokens)+len(r.Choices[2].Tokens) {
			t.Fatalf("usage %+v", r.Usage)
		}
	})
	t.Run("stop strings are excluded", func(t *testing.T) {
		full := complete(t, url, base(map[string]any{"max_tokens": 60, "min_tokens": 60, "seed": 9}))
		text := full.Choices[0].Text
		// Stop on a piece of the text the model would produce.
		stop := text[len(text)/2 : len(text)/2+3]
		r := complete(t, url, base(map[string]any{"max_tokens": 60, "min_tokens": 60, "seed": 9, "stop": []string{stop}}))
		ch := r.Choices[0]
		want := text[:len(text)/2]
		if i := indexOf(text, stop); i >= 0 {
			want = text[:i]
		}
		if ch.Text != want || ch.FinishReason != "stop" {
			t.Fatalf("stop %q: text %q finish %q, want %q", stop, ch.Text, ch.FinishReason, want)
		}
	})
	t.Run("unconstrained generations end with EOS", func(t *testing.T) {
		stopped := 0
		for i := 0; i < 10; i++ {
			r := complete(t, url, base(map[string]any{"seed": i, "max_tokens": 2000}))
			if r.Choices[0].FinishReason == "stop" {
				stopped++
			}
			if slices.Contains(r.Choices[0].Tokens, EOS) {
				t.Fatalf("EOS inside the output")
			}
		}
		if stopped < 5 {
			t.Fatalf("only %d of 10 generations of up to 2000 tokens ended with EOS", stopped)
		}
	})
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// Byte tokens: their strings are "<0xNN>", the reply text is the decoded
// UTF-8, and text_offset counts characters.
func TestForcedByteTokens(t *testing.T) {
	inst := start(t, fastConfig())
	tk := inst.Server().Tokenizer()
	text := "日本 ok"
	forced := tk.AppendTokens(nil, text)
	r := complete(t, inst.URL()+"/dedicated/v1/completions", forcedReq("demo", "Say:", forced, 2))
	ch := r.Choices[0]
	lp := ch.logprobs(t)
	if ch.Text != text {
		t.Fatalf("text %q", ch.Text)
	}
	wantStrs := []string{"<0xE6>", "<0x97>", "<0xA5>", "<0xE6>", "<0x9C>", "<0xAC>", " o", "k"}
	wantOffsets := []int{0, 0, 0, 1, 1, 1, 2, 4}
	if !slices.Equal(lp.Tokens, wantStrs) || !slices.Equal(lp.TextOffset, wantOffsets) {
		t.Fatalf("tokens %q offsets %v, want %q %v", lp.Tokens, lp.TextOffset, wantStrs, wantOffsets)
	}
	// Streamed, the partial characters are held back until complete.
	req := forcedReq("demo", "Say:", forced, 2)
	req["stream"] = true
	evs, _, _ := stream(t, inst.URL()+"/dedicated/v1/completions", req)
	var texts []string
	for _, ev := range evs[:len(evs)-1] {
		c := decodeChunk(t, ev.data)
		texts = append(texts, c.Choices[0].Text)
	}
	if want := []string{"", "", "日", "", "", "本", " o", "k", ""}; !slices.Equal(texts, want) {
		t.Fatalf("streamed texts %q, want %q", texts, want)
	}
}
