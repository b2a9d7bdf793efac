package simulator

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// checkFastRequest fails when the fast path accepts a body the strict
// decoder reads differently or refuses, or when decodeCompletions (fast
// path, else strict) answers otherwise than the strict decoder alone. It
// reports whether the fast path accepted the body.
func checkFastRequest(t *testing.T, body []byte) bool {
	t.Helper()
	var strict completionsRequest
	strictErr := decode(body, &strict)

	var fast completionsRequest
	text, textOK, accepted := "", false, false
	if len(body) <= maxFastBody && fastEligible(body) {
		d := fastDecoders.Get().(*fastDecoder)
		text, textOK, accepted = d.completions(body, &fast)
		fastDecoders.Put(d)
	}
	if accepted {
		if strictErr != nil {
			t.Fatalf("%q: the fast path accepted what the strict decoder refuses: %v", body, strictErr)
		}
		if !reflect.DeepEqual(fast, strict) {
			t.Fatalf("%q:\nfast   %s\nstrict %s", body, dumpRequest(fast), dumpRequest(strict))
		}
		if textOK {
			want, e := promptText(strict.Prompt)
			if e != nil || want != text {
				t.Fatalf("%q: fast prompt %q, strict %q (%v)", body, text, want, e)
			}
		}
	}

	var got completionsRequest
	text, textOK, e := decodeCompletions(body, &got)
	switch {
	case (e == nil) != (strictErr == nil) || (e != nil && *e != *strictErr):
		t.Fatalf("%q: decodeCompletions error %v, strict %v", body, e, strictErr)
	case e == nil && !reflect.DeepEqual(got, strict):
		t.Fatalf("%q: decodeCompletions\n%s\nstrict\n%s", body, dumpRequest(got), dumpRequest(strict))
	case textOK != accepted && textOK:
		t.Fatalf("%q: prompt text without the fast path", body)
	}
	return accepted
}

// dumpRequest shows the set fields, pointers by their targets (which %+v
// would print as addresses) and raw values as sent.
func dumpRequest(r completionsRequest) string {
	var b strings.Builder
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f, ft := v.Field(i), v.Type().Field(i)
			switch {
			case ft.Anonymous:
				walk(f)
			case f.IsNil():
			case ft.Type == reflect.TypeFor[json.RawMessage]():
				fmt.Fprintf(&b, "%s=%q ", ft.Name, f.Bytes())
			case f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct:
				fmt.Fprintf(&b, "%s=%+v ", ft.Name, dumpStruct(f.Elem()))
			case f.Kind() == reflect.Pointer:
				fmt.Fprintf(&b, "%s=%v ", ft.Name, f.Elem())
			default:
				fmt.Fprintf(&b, "%s=%#v ", ft.Name, f)
			}
		}
	}
	walk(reflect.ValueOf(r))
	return b.String()
}

func dumpStruct(v reflect.Value) string {
	var parts []string
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		parts = append(parts, fmt.Sprintf("%s:%v", v.Type().Field(i).Name, f))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// clientBodies are the completions bodies the client sends, one per kind
// of task, over the prompts in testdata and the letter-scoring prompt.
func clientBodies(t testing.TB) [][]byte {
	f, err := os.Open("testdata/tokenize_input.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prompts := []string{letterPrompt()}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		prompts = append(prompts, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, p := range prompts {
		for _, r := range []clientRequest{
			// letter scoring, by text and by token IDs
			{Model: "demo", Prompt: p, ForcedOutputTokens: []int{319}, Logprobs: ptr(20), MaxTokens: ptr(1)},
			{Model: "demo:lora-a", Tokens: []int{1, 591, 390, 2650}, ForcedOutputTokens: []int{260}, Logprobs: ptr(5), MaxTokens: ptr(1)},
			// continuation scoring
			{Model: "demo", Prompt: p, ForcedOutputTokens: []int{370, 874, 1186, 66}, Logprobs: ptr(0), MaxTotalTokens: ptr(400)},
			// generation
			{Model: "demo", Prompt: p, MaxTokens: ptr(64), MinTokens: ptr(1), Temperature: ptr(0.7), TopP: ptr(0.95), TopK: ptr(40), Seed: ptr(int64(1234)), Stop: []string{"\n\n", "Question:"}, N: ptr(2)},
			{Model: "demo", Prompt: p, MaxTokens: ptr(16), Temperature: ptr(0.0), Seed: ptr(int64(-1)), MinTotalTokens: ptr(3)},
			{Model: "demo", Prompt: p, MaxTokens: ptr(16), ResponseFormat: &clientResponseFormat{Type: "text"}},
			{Model: "demo", Prompt: p, MaxTokens: ptr(16), ResponseFormat: &clientResponseFormat{Type: "regex", Schema: `[A-D]`}},
			// streaming
			{Model: "demo", Prompt: p, MaxTokens: ptr(8), Stream: true, StreamOptions: &clientStreamOptions{IncludeUsage: true}},
			{Prompt: p, Stream: true},
		} {
			out = append(out, r.body(t))
		}
	}
	return out
}

// Bodies the fast path must take (or the optimisation is gone without a
// failing test) and bodies it must leave to the strict decoder.
func TestFastRequestPaths(t *testing.T) {
	for _, body := range clientBodies(t) {
		if !checkFastRequest(t, body) {
			t.Errorf("the fast path declined a client body: %s", body)
		}
	}
	for _, c := range []struct {
		name, body string
		fast       bool
	}{
		{"letter", `{"model":"demo","prompt":"Q?\nAnswer:","forced_output_tokens":[319],"logprobs":20,"max_tokens":1}`, true},
		{"spaced", " {\"model\" : \"demo\",\n \"prompt\" : \"x\", \"max_tokens\" : 2 } \n", true},
		{"nulls", `{"model":null,"prompt":null,"tokens":null,"seed":null,"stop":null,"stream_options":null,"stop_tokens":null,"bad_words":null}`, true},
		{"empty lists", `{"tokens":[],"forced_output_tokens":[],"eos_token":[]}`, true},
		{"prompt list", `{"prompt":["x"]}`, true},
		{"stop string", `{"prompt":"x","stop":"\n"}`, true},
		{"seed list", `{"prompt":"x","n":2,"seed":[1,2]}`, true},
		{"unknown fields", `{"prompt":"x","user":"me","echo":{"a":[1, 2]},"best_of":1}`, true},
		{"escaped key", `{"mod\u0065l":"demo","prompt":"x"}`, true},
		{"escapes", `{"prompt":"a\"b\\c\/d\b\f\n\r\t\u00e9\u0026\u2028"}`, true},
		{"negative zero", `{"prompt":"x","max_tokens":-0,"temperature":-0}`, true},
		{"stream options", `{"prompt":"x","stream":true,"stream_options":{"include_usage":false,"other":1}}`, true},
		{"neutral penalties", `{"prompt":"x","repetition_penalty":1,"frequency_penalty":0,"no_repeat_ngram":0,"min_p":0.05}`, true},

		{"empty", ``, false},
		{"blank", " \n", false},
		{"not an object", `[1,2]`, false},
		{"top-level null", `null`, false},
		{"invalid JSON", `{"model":"demo",`, false},
		{"trailing value", `{"prompt":"x"} {}`, false},
		{"folded key", `{"Prompt":"x"}`, false},
		{"folded by Unicode", `{"prompt":"x","ſtream":true}`, false},
		{"folded inner key", `{"prompt":"x","stream":true,"stream_options":{"Include_Usage":true}}`, false},
		{"repeated key", `{"prompt":"x","prompt":"y"}`, false},
		{"repeated inner key", `{"prompt":"x","stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`, false},
		{"float integer", `{"prompt":"x","max_tokens":1.0}`, false},
		{"exponent integer", `{"prompt":"x","max_tokens":1e2}`, false},
		{"integer overflow", `{"prompt":"x","max_tokens":9223372036854775808}`, false},
		{"float overflow", `{"prompt":"x","temperature":1e400}`, false},
		{"float token", `{"tokens":[1,2.5]}`, false},
		{"string token", `{"tokens":["a"]}`, false},
		{"string max_tokens", `{"prompt":"x","max_tokens":"5"}`, false},
		{"number prompt", `{"prompt":5}`, true}, // raw: promptText refuses it later
		{"bool logprobs", `{"prompt":"x","logprobs":true}`, false},
		{"number model", `{"model":5,"prompt":"x"}`, false},
		{"spaced stop list", `{"prompt":"x","stop":[ "a" ]}`, false},
		{"stop list, spaces in strings", `{"stop":["a b","c\" d\\"],"prompt":" x ","response_format":{"type":"text"}}`, true},
		{"stop list, space after an escaped backslash", `{"stop":["a\\"],"prompt":"x" }`, false},
		{"spaced seed list", "{\"prompt\":\"x\",\"seed\":[1,\n2]}", false},
		{"stop tokens", `{"prompt":"x","stop_tokens":[{"tokens":[5]}]}`, false},
		{"bad words", `{"prompt":"x","bad_words":["a"]}`, false},
		{"lone surrogate", `{"prompt":"\ud800"}`, false},
		{"surrogate pair", `{"prompt":"\uD83D\uDE00"}`, false},
		{"invalid UTF-8", "{\"prompt\":\"\xff\"}", false},
		{"control character", "{\"prompt\":\"a\x01b\"}", false},
		{"control character before an escape", "{\"prompt\":\"a\x01b\\n\"}", false},
		{"NaN", `{"prompt":"x","temperature":NaN}`, false},
		{"BOM", "\xef\xbb\xbf{\"prompt\":\"x\"}", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastRequest(t, []byte(c.body)); got != c.fast {
				t.Errorf("fast path taken: %v, want %v", got, c.fast)
			}
		})
	}
}

// Every field, given a value of every JSON type, is read as the strict
// decoder reads it (a setter wired to the wrong field fails here).
func TestFastRequestEveryField(t *testing.T) {
	values := []string{`null`, `true`, `false`, `0`, `7`, `-3`, `2.5`, `1e2`, `"x"`, `"a\nb"`, `[]`, `[1,2]`, `["a"]`, `[1,"a"]`, `{}`, `{"include_usage":true}`, `{"type":"text"}`}
	taken := map[string]bool{}
	for _, key := range append(completionsKeys, "include_usage") {
		for _, v := range values {
			if checkFastRequest(t, []byte(`{"`+key+`":`+v+`}`)) && v != `null` {
				taken[key] = true
			}
			// the same value in stream_options
			checkFastRequest(t, []byte(`{"stream":true,"stream_options":{"`+key+`":`+v+`}}`))
		}
	}
	for _, key := range completionsKeys {
		switch key {
		case "stop_tokens", "bad_words":
			// left to the strict decoder
		default:
			if !taken[key] {
				t.Errorf("the fast path took no value of %s but null", key)
			}
		}
	}
}

// FuzzFastRequest holds the fast path to the strict decoder: whatever it
// accepts, it reads as encoding/json does, and whatever it declines gets
// the strict decoder's answer, 422 messages included. The seeds are real
// bodies of kilobytes, so minimizing each new input by default stalls the
// run for a minute; -fuzzminimizetime 200x keeps it fuzzing.
func FuzzFastRequest(f *testing.F) {
	for _, b := range clientBodies(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"prompt":"x","stop":["a","b"],"seed":[1,2],"n":2,"response_format":{"type":"text"}}`,
		`{"prompt":["a","b"],"tokens":[1],"stream_options":{},"include_output_logprobs":true}`,
		`{"mod\u0065l":"d","MODEL":"e","Ƙ":1,"prompt":"\u00e9\"","xtc_threshold":0,"bad_word_tokens":[[]]}`,
		`{"prompt":"a\\ud800","max_tokens":-0,"top_p":1E-3,"min_total_tokens":01}`,
		" {\"prompt\" :\t\"x\" ,\r\n\"stop\": \"y\" } ",
		"{\"prompt\":\"\x7f\xc3\xa9\u2028\",\"embedding_to_replace\":[ ],\"token_index_to_replace\":null}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastRequest(t, body)
	})
}

// hasControlByte reads eight bytes at a time; a borrow from one byte into
// the next must neither hide a control byte nor invent one.
func TestHasControlByte(t *testing.T) {
	for _, fill := range []byte{0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0x9f, 0xa0, 0xff} {
		for n := 0; n <= 19; n++ {
			buf := make([]byte, n)
			for i := range buf {
				buf[i] = fill
			}
			want := n > 0 && fill < 0x20
			if got := hasControlByte(buf); got != want {
				t.Fatalf("%d bytes of %#x: %v, want %v", n, fill, got, want)
			}
			for i := range buf {
				for c := 0; c < 256; c++ {
					buf[i] = byte(c)
					want := byte(c) < 0x20 || (fill < 0x20 && n > 1)
					if got := hasControlByte(buf); got != want {
						t.Fatalf("byte %#x at %d of %d bytes of %#x: %v, want %v", c, i, n, fill, got, want)
					}
				}
				buf[i] = fill
			}
		}
	}
}
