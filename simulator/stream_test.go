package simulator

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// streamText collects a completions stream: token IDs, text, finish reason,
// usage, and whether it ended with [DONE].
type streamResult struct {
	tokens  []int
	text    string
	finish  string
	usage   *wireUsage
	done    bool
	chunks  int // content chunks
	created bool
}

func collectCompletions(t *testing.T, evs []sseEvent) streamResult {
	t.Helper()
	var r streamResult
	r.created = true
	for i, ev := range evs {
		if ev.data == "[DONE]" {
			if i != len(evs)-1 {
				t.Fatalf("[DONE] is not last")
			}
			r.done = true
			continue
		}
		c := decodeChunk(t, ev.data)
		if c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") {
			t.Fatalf("chunk %s", ev.data)
		}
		if c.Created == nil {
			r.created = false
		}
		if len(c.Choices) == 0 {
			if c.Usage == nil {
				t.Fatalf("chunk without choices or usage: %s", ev.data)
			}
			r.usage = c.Usage
			continue
		}
		if r.finish != "" {
			t.Fatalf("chunk after the finish chunk: %s", ev.data)
		}
		ch := c.Choices[0]
		var fr any
		json.Unmarshal(ch.FinishReason, &fr)
		switch fr {
		case nil, "null":
			if ch.Token == nil {
				t.Fatalf("content chunk without token: %s", ev.data)
			}
			if len(ch.Tokens) > 0 {
				if ch.Tokens[len(ch.Tokens)-1] != *ch.Token {
					t.Fatalf("token is not the last of tokens: %s", ev.data)
				}
				r.tokens = append(r.tokens, ch.Tokens...)
			} else {
				r.tokens = append(r.tokens, *ch.Token)
			}
			r.chunks++
		default:
			if ch.Token != nil {
				t.Fatalf("finish chunk with a token key: %s", ev.data)
			}
			r.finish = fr.(string)
		}
		r.text += ch.Text
	}
	return r
}

func TestCompletionsStreamShape(t *testing.T) {
	cases := []struct {
		name        string
		quirks      Quirks
		req         map[string]any
		wantChunks  int
		wantUsage   bool
		nullAsStr   bool
		wantLogprob bool
	}{
		{"plain with usage", Quirks{}, map[string]any{"stream_options": map[string]any{"include_usage": true}}, 12, true, false, false},
		{"no usage by default", Quirks{}, map[string]any{}, 12, false, false, false},
		{"usage always", Quirks{StreamUsageAlways: true}, map[string]any{}, 12, true, false, false},
		{"null finish string", Quirks{NullFinishString: true}, map[string]any{}, 12, false, true, false},
		{"chunks of 4", Quirks{ChunkTokens: 4}, map[string]any{"stream_options": map[string]any{"include_usage": true}}, 4, true, false, false},
		{"chunks of 5", Quirks{ChunkTokens: 5}, map[string]any{}, 4, false, false, false},
		{"with logprobs", Quirks{}, map[string]any{"logprobs": 3}, 12, false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fastConfig()
			cfg.Quirks = c.quirks
			inst := start(t, cfg)
			req := map[string]any{"model": "demo", "prompt": "Once upon a time", "max_tokens": 12, "min_tokens": 12, "seed": 4, "stream": true}
			for k, v := range c.req {
				req[k] = v
			}
			evs, _, resp := stream(t, inst.URL()+"/dedicated/v1/completions", req)
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Fatalf("Content-Type %q", ct)
			}
			r := collectCompletions(t, evs)
			if !r.done || r.finish != "length" || !r.created {
				t.Fatalf("done %v finish %q created %v", r.done, r.finish, r.created)
			}
			if r.chunks != c.wantChunks {
				t.Fatalf("%d content chunks, want %d", r.chunks, c.wantChunks)
			}
			if (r.usage != nil) != c.wantUsage {
				t.Fatalf("usage %+v, want present=%v", r.usage, c.wantUsage)
			}
			// The stream carries the same generation as a non-streaming call.
			delete(req, "stream")
			delete(req, "stream_options")
			whole := complete(t, inst.URL()+"/dedicated/v1/completions", req)
			if !slices.Equal(r.tokens, whole.Choices[0].Tokens) || r.text != whole.Choices[0].Text {
				t.Fatalf("stream %v %q differs from the reply %v %q", r.tokens, r.text, whole.Choices[0].Tokens, whole.Choices[0].Text)
			}
			if r.usage != nil && *r.usage != whole.Usage {
				t.Fatalf("stream usage %+v, reply usage %+v", *r.usage, whole.Usage)
			}
			for _, ev := range evs {
				if c.nullAsStr && strings.Contains(ev.data, `"finish_reason":null`) {
					t.Fatalf("JSON null finish_reason with NullFinishString: %s", ev.data)
				}
				if !c.nullAsStr && strings.Contains(ev.data, `"finish_reason":"null"`) {
					t.Fatalf("string \"null\" finish_reason: %s", ev.data)
				}
			}
			if c.wantLogprob {
				var lps []float64
				for _, ev := range evs[:len(evs)-1] {
					ch := decodeChunk(t, ev.data).Choices
					if len(ch) == 0 || ch[0].Token == nil {
						continue
					}
					var lp wireLogprobs
					if err := json.Unmarshal(ch[0].Logprobs, &lp); err != nil || len(lp.TokenLogprobs) != 1 || len(lp.TopLogprobs[0]) != 3 {
						t.Fatalf("chunk logprobs %s (%v)", ch[0].Logprobs, err)
					}
					lps = append(lps, lp.TokenLogprobs...)
				}
				req["logprobs"] = 3
				want := complete(t, inst.URL()+"/dedicated/v1/completions", req).Choices[0].logprobs(t).TokenLogprobs
				if !slices.Equal(lps, want) {
					t.Fatalf("streamed logprobs %v, reply %v", lps, want)
				}
			}
		})
	}
}

// Stop strings are never streamed, even in part: text is held back until it
// cannot become a stop string.
func TestStreamStopStrings(t *testing.T) {
	inst := start(t, fastConfig())
	url := inst.URL() + "/dedicated/v1/completions"
	req := map[string]any{"model": "demo", "prompt": "Once upon a time", "max_tokens": 80, "min_tokens": 80, "seed": 21}
	full := complete(t, url, req).Choices[0].Text
	for _, frac := range []int{3, 2} {
		at := len(full) / frac
		stop := full[at : at+4]
		req["stop"] = []string{stop, "zzzz-never"}
		want := complete(t, url, req)
		req["stream"] = true
		evs, _, _ := stream(t, url, req)
		delete(req, "stream")
		r := collectCompletions(t, evs)
		if r.text != want.Choices[0].Text || r.finish != "stop" || strings.Contains(r.text, stop) {
			t.Fatalf("stop %q: streamed %q (%s), reply %q", stop, r.text, r.finish, want.Choices[0].Text)
		}
	}
}

func TestLegacyStream(t *testing.T) {
	cfg := fastConfig()
	cfg.Quirks.LegacyStream = true
	inst := start(t, cfg)
	req := map[string]any{"model": "demo", "prompt": "Once upon a time", "max_tokens": 6, "min_tokens": 6, "seed": 2, "stream": true}
	evs, _, _ := stream(t, inst.URL()+"/dedicated/v1/completions", req)
	if len(evs) != 7 {
		t.Fatalf("%d events, want 6 token_sampled and 1 complete", len(evs))
	}
	var toks []int
	var text string
	for i, ev := range evs {
		c := decodeChunk(t, ev.data)
		if i < 6 {
			if ev.event != "token_sampled" || c.Event != "token_sampled" || c.Token == nil {
				t.Fatalf("event %d: %q %s", i, ev.event, ev.data)
			}
			toks = append(toks, *c.Token)
			text += c.Text
			continue
		}
		if ev.event != "complete" || c.Event != "complete" || len(c.Choices) != 1 || c.Usage == nil || c.Usage.CompletionTokens != 6 {
			t.Fatalf("complete event %s", ev.data)
		}
		var full struct {
			Choices []wireChoice `json:"choices"`
		}
		json.Unmarshal([]byte(ev.data), &full)
		if !slices.Equal(full.Choices[0].Tokens, toks) || full.Choices[0].Text != text || full.Choices[0].FinishReason != "length" {
			t.Fatalf("complete %+v vs streamed %v %q", full.Choices[0], toks, text)
		}
	}
	if strings.Contains(evs[len(evs)-1].data, "[DONE]") {
		t.Fatal("legacy stream sent [DONE]")
	}
}

func TestChatStream(t *testing.T) {
	cfg := fastConfig()
	cfg.Quirks.ChunkTokens = 3
	inst := start(t, cfg)
	url := inst.URL() + "/dedicated/v1/chat/completions"
	req := map[string]any{
		"model": "demo:lora-a", "messages": []map[string]string{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me a story."}},
		"max_tokens": 10, "min_tokens": 10, "seed": 8, "n": 2, "logprobs": true, "top_logprobs": 2,
	}
	status, b, _ := post(t, url, req)
	var whole wireChat
	if status != 200 || json.Unmarshal(b, &whole) != nil || whole.Object != "chat.completion" || whole.Created == 0 || len(whole.Choices) != 2 {
		t.Fatalf("%d %s", status, b)
	}
	req["stream"] = true
	req["stream_options"] = map[string]any{"include_usage": true}
	evs, _, _ := stream(t, url, req)
	content := map[int]string{}
	roles := map[int]int{}
	finish := map[int]string{}
	nlp := map[int]int{}
	var usage *wireUsage
	for _, ev := range evs {
		if ev.data == "[DONE]" {
			continue
		}
		c := decodeChunk(t, ev.data)
		if c.Object != "chat.completion.chunk" || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Created == nil {
			t.Fatalf("chunk %s", ev.data)
		}
		if len(c.Choices) == 0 {
			usage = c.Usage
			continue
		}
		ch := c.Choices[0]
		if ch.Delta == nil {
			t.Fatalf("chunk without delta: %s", ev.data)
		}
		if ch.Delta.Role != nil {
			if *ch.Delta.Role != "assistant" || content[ch.Index] != "" {
				t.Fatalf("role not on the first chunk: %s", ev.data)
			}
			roles[ch.Index]++
		}
		if ch.Delta.Content != nil {
			content[ch.Index] += *ch.Delta.Content
		}
		var fr any
		json.Unmarshal(ch.FinishReason, &fr)
		if fr != nil {
			finish[ch.Index] = fr.(string)
		}
		if string(ch.Logprobs) != "null" && len(ch.Logprobs) > 0 {
			var lp struct{ Content []wireChatLogprob }
			if err := json.Unmarshal(ch.Logprobs, &lp); err != nil {
				t.Fatal(err)
			}
			nlp[ch.Index] += len(lp.Content)
		}
	}
	if evs[len(evs)-1].data != "[DONE]" || usage == nil || *usage != whole.Usage {
		t.Fatalf("end of stream: usage %+v, reply usage %+v", usage, whole.Usage)
	}
	for i, ch := range whole.Choices {
		if content[i] != ch.Message.Content || roles[i] != 1 || finish[i] != "length" || nlp[i] != 10 {
			t.Fatalf("choice %d: streamed %q roles %d finish %q logprobs %d; reply %q", i, content[i], roles[i], finish[i], nlp[i], ch.Message.Content)
		}
		if ch.Logprobs == nil || len(ch.Logprobs.Content) != 10 {
			t.Fatalf("reply logprobs %+v", ch.Logprobs)
		}
		for _, e := range ch.Logprobs.Content {
			if len(e.TopLogprobs) != 2 || len(e.Bytes) == 0 || e.Logprob > 0 {
				t.Fatalf("logprob entry %+v", e)
			}
		}
	}
}
