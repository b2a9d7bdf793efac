package simulator

import (
	"bytes"
	"encoding/json"
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
