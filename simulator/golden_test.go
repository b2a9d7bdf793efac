package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The model's answers for a fixed seed are pinned: a change to the
// tokenizer, the model or the reply shape shows up here and is accepted
// with -update.
func TestForcedReplyGolden(t *testing.T) {
	inst := start(t, fastConfig())
	tk := inst.Server().Tokenizer()
	var out bytes.Buffer
	for _, m := range []string{"demo", "demo:lora-a", "demo:lora-b"} {
		req := forcedReq(m, "The following are multiple choice questions.\n\nQuestion: Which gas do plants absorb?\nA. oxygen\nB. carbon dioxide\nC. nitrogen\nD. helium\nAnswer:", tk.AppendTokens(nil, " B"), 4)
		req["seed"] = 7
		status, b, _ := post(t, inst.URL()+"/dedicated/v1/completions", req)
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		delete(v, "id")
		pretty, _ := json.MarshalIndent(v, "", "  ")
		out.WriteString(m + "\n")
		out.Write(pretty)
		out.WriteString("\n")
	}
	golden(t, "forced_reply.golden", out.Bytes())
}

// The exact bytes of replies are pinned, not just their decoded values:
// the reply writers, the tokenizer and request decoding are tuned for
// speed, and each of those changes is meant to leave every byte (floats'
// text, 422 messages, Content-Length) as it was. Only "created", a clock
// reading, is masked.
func TestReplyBytesGolden(t *testing.T) {
	var out bytes.Buffer
	created := regexp.MustCompile(`"created":[0-9]+`)
	run := func(name string, cfg Config, reqs [][2]string) {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			req := httptest.NewRequest(http.MethodPost, r[0], strings.NewReader(r[1]))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			fmt.Fprintf(&out, "### %s %s %.60q\n%d %s %s\n%s\n", name, r[0], r[1], w.Code,
				w.Header().Get("Content-Type"), w.Header().Get("Content-Length"), created.ReplaceAll(w.Body.Bytes(), []byte(`"created":0`)))
		}
	}
	tk := NewTokenizer()
	letter := letterPrompt()
	letterToks, _ := json.Marshal(tk.Tokenize(letter))
	body := func(r clientRequest) string { return string(r.body(t)) }
	const comp, chat = "/dedicated/v1/completions", "/dedicated/v1/chat/completions"
	reqs := [][2]string{
		{comp, body(clientRequest{Model: "demo", Prompt: letter, ForcedOutputTokens: []int{319}, Logprobs: ptr(20), MaxTokens: ptr(1)})},
		{comp, body(clientRequest{Model: "demo:lora-a", Prompt: letter, ForcedOutputTokens: []int{260}, Logprobs: ptr(20), MaxTokens: ptr(1)})},
		{comp, `{"model":"demo","tokens":` + string(letterToks) + `,"forced_output_tokens":[319],"logprobs":20,"max_tokens":1}`},
		{comp, body(clientRequest{Model: "demo", Prompt: "Zürich, São Paulo — naïve café 日本語 👍🏽\tdone", ForcedOutputTokens: tk.AppendTokens(nil, " carbon dioxide, which they turn into sugar"), Logprobs: ptr(0), MaxTotalTokens: ptr(400)})},
		{comp, body(clientRequest{Model: "demo", Prompt: letter, MaxTokens: ptr(24), Temperature: ptr(0.7), TopP: ptr(0.9), TopK: ptr(40), Seed: ptr(int64(5)), Stop: []string{"\n\n"}, N: ptr(2), Logprobs: ptr(5)})},
		{comp, body(clientRequest{Model: "demo", Prompt: "Once upon a time", MaxTokens: ptr(12), Seed: ptr(int64(9)), Stream: true, StreamOptions: &clientStreamOptions{IncludeUsage: true}, Logprobs: ptr(3)})},
		{comp, `{"model":"demo","prompt":["Once"],"max_tokens":3,"seed":[4]}`},
		{chat, `{"model":"demo","messages":[{"role":"user","content":"Which gas do plants absorb?"}],"max_tokens":8,"seed":3,"logprobs":true,"top_logprobs":5}`},
		{chat, `{"model":"demo","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"seed":3,"stream":true,"stream_options":{"include_usage":true}}`},
		{"/dedicated/v1/tokenize", `{"model":"demo","prompt":"` + strings.ReplaceAll(letter[:300], "\n", `\n`) + `"}`},
		{"/dedicated/v1/detokenize", `{"model":"demo","tokens":[1,591,390,2650,2579]}`},
	}
	// Refusals, from the strict decoder or after it.
	for _, b := range []string{
		``, ` `, `[1,2]`, `null`, `{"model":"demo",`, `{"model":"demo","prompt":"x"} {}`, "{\"prompt\":\"a\x01b\\n\"}",
		`{"model":"demo","Prompt":"x","max_tokens":"5"}`, `{"model":"demo","prompt":"x","max_tokens":1.0}`, `{"model":"demo","prompt":"x","max_tokens":9223372036854775808}`,
		`{"model":"demo","prompt":"x","temperature":1e400}`, `{"model":"demo","tokens":[1,2.5]}`, `{"model":"demo","prompt":5}`, `{"model":"demo","prompt":["a","b"]}`,
		`{"model":"demo","prompt":"x","logprobs":true}`, `{"model":5,"prompt":"x"}`, `{"model":"demo","prompt":"x","stop":[ "" ]}`, `{"model":"demo","prompt":"x","seed":"7"}`,
		`{"model":"demo","prompt":"x","stream_options":{"include_usage":true}}`, `{"model":"demo","prompt":"x","ſtream":true,"stream_options":{}}`,
		`{"model":"demo","prompt":"x","prompt":"y","max_tokens":0}`, `{"model":"nope","prompt":"x"}`, `{"model":"demo","prompt":"\ud800","forced_output_tokens":[999999]}`,
		`{"model":"demo","prompt":"x","response_format":{"type":"json_object"}}`, `{"model":"demo","prompt":"x","stop_tokens":[{"tokens":[]}]}`,
	} {
		reqs = append(reqs, [2]string{comp, b})
	}
	run("default", fastConfig(), reqs)
	for _, q := range []struct {
		name string
		set  func(*Quirks)
	}{
		{"nan", func(q *Quirks) { q.NaNLogprob = true }},
		{"legacy-logprobs", func(q *Quirks) { q.LegacyLogprobs = true }},
		{"with-chosen", func(q *Quirks) { q.TopLogprobsWithChosen = true; q.FewerLogprobs = true }},
		{"detail-errors", func(q *Quirks) { q.ErrorShape = ErrorShapeDetail }},
	} {
		cfg := fastConfig()
		q.set(&cfg.Quirks)
		run(q.name, cfg, [][2]string{
			{comp, body(clientRequest{Model: "demo", Prompt: letter, ForcedOutputTokens: []int{319}, Logprobs: ptr(20), MaxTokens: ptr(1)})},
			{comp, `{"model":"demo","prompt":"x","forced_output_tokens":[3.5]}`},
		})
	}
	golden(t, "replies.golden", out.Bytes())
}
