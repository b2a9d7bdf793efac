package simulator

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Each misbehaviour produces the broken reply it names, so a client's
// checks can be tested against it.
func TestQuirkReplies(t *testing.T) {
	tk := NewTokenizer()
	prompt := "Question: x?\nAnswer:"
	forced := tk.AppendTokens(nil, " B and more words")
	cases := []struct {
		name   string
		quirks Quirks
		req    map[string]any
		check  func(t *testing.T, raw []byte, ch wireChoice)
	}{
		{"fewer logprobs", Quirks{FewerLogprobs: true}, nil, func(t *testing.T, _ []byte, ch wireChoice) {
			if lp := ch.logprobs(t); len(lp.TokenLogprobs) != len(forced)-1 || len(lp.Tokens) != len(forced) {
				t.Fatalf("%d token_logprobs for %d tokens", len(lp.TokenLogprobs), len(forced))
			}
		}},
		{"wrong tokens", Quirks{WrongTokens: true}, nil, func(t *testing.T, _ []byte, ch wireChoice) {
			if slices.Equal(ch.Tokens, forced) || len(ch.Tokens) != len(forced) || !slices.Equal(ch.Tokens[1:], forced[1:]) {
				t.Fatalf("tokens %v, forced %v", ch.Tokens, forced)
			}
		}},
		{"no tokens", Quirks{NoTokens: true}, nil, func(t *testing.T, raw []byte, ch wireChoice) {
			var r struct{ Choices []map[string]json.RawMessage }
			json.Unmarshal(raw, &r)
			if _, ok := r.Choices[0]["tokens"]; ok || ch.Tokens != nil {
				t.Fatalf("tokens present: %s", raw)
			}
		}},
		{"legacy logprobs", Quirks{LegacyLogprobs: true}, nil, func(t *testing.T, _ []byte, ch wireChoice) {
			var flat []float64
			if err := json.Unmarshal(ch.Logprobs, &flat); err != nil || len(flat) != len(forced) {
				t.Fatalf("logprobs %s is not a flat list of %d floats", ch.Logprobs, len(forced))
			}
		}},
		{"legacy include_output_logprobs", Quirks{LegacyLogprobs: true}, map[string]any{"logprobs": nil, "include_output_logprobs": true}, func(t *testing.T, _ []byte, ch wireChoice) {
			var flat []float64
			if err := json.Unmarshal(ch.Logprobs, &flat); err != nil || len(flat) != len(forced) {
				t.Fatalf("logprobs %s", ch.Logprobs)
			}
		}},
		{"top logprobs with chosen", Quirks{TopLogprobsWithChosen: true}, map[string]any{"logprobs": 1}, func(t *testing.T, _ []byte, ch wireChoice) {
			lp := ch.logprobs(t)
			grew := false
			for i, m := range lp.TopLogprobs {
				v, ok := m[lp.Tokens[i]]
				if !ok || v != lp.TokenLogprobs[i] || len(m) > 2 {
					t.Fatalf("position %d: %v lacks the chosen %q", i, m, lp.Tokens[i])
				}
				grew = grew || len(m) == 2
			}
			if !grew {
				t.Fatal("no dictionary got the extra entry")
			}
		}},
		{"NaN logprob", Quirks{NaNLogprob: true}, nil, func(t *testing.T, raw []byte, _ wireChoice) {
			if !strings.Contains(string(raw), `"token_logprobs":[NaN,`) {
				t.Fatalf("no bare NaN in %s", raw)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fastConfig()
			cfg.Quirks = c.quirks
			inst := start(t, cfg)
			req := forcedReq("demo", prompt, forced, 5)
			for k, v := range c.req {
				if v == nil {
					delete(req, k)
				} else {
					req[k] = v
				}
			}
			status, raw, _ := post(t, inst.URL()+"/dedicated/v1/completions", req)
			if status != 200 {
				t.Fatalf("%d %s", status, raw)
			}
			var r wireCompletion
			if c.quirks.NaNLogprob {
				if json.Unmarshal(raw, &r) == nil {
					t.Fatal("a reply with a bare NaN decoded as JSON")
				}
				c.check(t, raw, wireChoice{})
				return
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			c.check(t, raw, r.Choices[0])
		})
	}
}
