package simulator

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCalculate(t *testing.T) {
	cases := []struct {
		msg, want string
		ok        bool
	}{
		{"What is (3 + 6) * 2?", "(3 + 6) * 2 = 18", true},
		{"Compute 2^10.", "2^10 = 1024", true},
		{"-2^2", "-2^2 = -4", true},
		{"2^3^2", "2^3^2 = 512", true},
		{"1.5 * -4 + 10 / 4", "1.5 * -4 + 10 / 4 = -3.5", true},
		{"what's 7 - 2 - 1", "7 - 2 - 1 = 4", true},
		{"((1+2)*(3+4))/7", "((1+2)*(3+4))/7 = 3", true},
		{"1/3+1/3", "1/3+1/3 = 0.666666666667", true},
		{"5 / 0 please", "5 / 0 is undefined (division by zero)", true},
		{"no numbers here", "", false},
		{"just 42", "", false},
		{"unbalanced (1 + 2", "1 + 2 = 3", true},
		{strings.Repeat("(", 100000) + "1+1" + strings.Repeat(")", 100000), "", false},
		{strings.Repeat("-", 100000) + "1+1", "", false},
		{"(((1+1)))*2", "(((1+1)))*2 = 4", true},
		{strings.Repeat("(", 100000) + "1+1", "1+1 = 2", true},
	}
	for _, c := range cases {
		got, ok := calculate(c.msg)
		if ok != c.ok || got != c.want {
			t.Errorf("calculate(%q) = %q, %v; want %q, %v", c.msg, got, ok, c.want, c.ok)
		}
	}
}

func TestToolAssistedChat(t *testing.T) {
	cfg := fastConfig()
	cfg.Quirks.ChunkTokens = 2
	inst := start(t, cfg)
	url := inst.URL() + "/serverless/tools/v1/chat/completions"
	req := map[string]any{
		"model":    "meta-llama-3.1-8b-instruct",
		"messages": []map[string]string{{"role": "user", "content": "What is (3 + 6) * 2?"}},
		"tools":    []map[string]string{{"type": "math:calculator"}},
	}
	status, b, _ := post(t, url, req)
	var r wireChat
	if status != 200 || json.Unmarshal(b, &r) != nil || len(r.Choices) != 1 {
		t.Fatalf("%d %s", status, b)
	}
	if c := r.Choices[0].Message.Content; !strings.Contains(c, "18") || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("answer %q", c)
	}
	req["stream"] = true
	evs, _, _ := stream(t, url, req)
	var text string
	chunks := 0
	for _, ev := range evs {
		if ev.data == "[DONE]" {
			continue
		}
		c := decodeChunk(t, ev.data)
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != nil && *c.Choices[0].Delta.Content != "" {
			text += *c.Choices[0].Delta.Content
			chunks++
		}
	}
	if text != r.Choices[0].Message.Content || chunks < 2 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("streamed %q in %d chunks, want %q in several", text, chunks, r.Choices[0].Message.Content)
	}
	req["stream"] = false
	req["tools"] = []map[string]string{{"type": "web:search"}}
	if status, b, _ := post(t, url, req); status != 422 {
		t.Fatalf("unknown tool: %d %s", status, b)
	}
	req["model"] = "demo"
	req["tools"] = []map[string]string{{"type": "math:calculator"}}
	if status, _, _ := post(t, url, req); status != 404 {
		t.Fatalf("tools path with a dedicated endpoint ID: %d", status)
	}
}
