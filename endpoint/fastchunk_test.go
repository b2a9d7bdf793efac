package endpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
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
	var scan scanner
	var fw, sw completionChunkWire
	if scan.fastCompletion(data, &fw) {
		completion = true
		if err := strictDecode(data, &sw); err != nil {
			t.Fatalf("completions %q: the fast path accepted what the strict decoder refuses: %v", data, err)
		}
		if a, b := normCompletion(fw), normCompletion(sw); !reflect.DeepEqual(a, b) {
			t.Fatalf("completions %q:\nfast   %+v\nstrict %+v", data, a, b)
		}
	}
	var fc, sc chatChunkWire
	if scan.fastChat(data, &fc) {
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

		// Keys that fold to ours only under Unicode folding, which can
		// change their length: "ſ" is "s", the Kelvin sign "k".
		{"long s key", "{\"choices\":[{\"index\":0,\"text\":\"a\",\"token\u017f\":[5]}]}", false, true},
		{"Kelvin key", "{\"choices\":[{\"text\":\"a\",\"to\u212aen\":7}]}", false, true},
		{"escaped Kelvin key", `{"choices":[{"text":"a","to\u212aen":7}]}`, false, true},
		{"escaped key", `{"choices":[{"te\u0078t":"a"}]}`, true, true},

		// Escapes and whitespace.
		{"surrogate pair", `{"choices":[{"index":0,"text":"\ud83d\ude00"}]}`, true, true},
		{"high surrogate then another escape", `{"choices":[{"text":"\ud800\u0041"}]}`, false, false},
		{"low surrogate first", `{"choices":[{"text":"\udc00\ud800"}]}`, false, false},
		{"next to surrogates", `{"choices":[{"text":"\ud7ff\ue000\u0000"}]}`, true, true},
		{"bad escape", `{"choices":[{"text":"\x41"}]}`, false, false},
		{"whitespace between tokens", "{\n \"choices\" :\t[ {\"index\":0,\r\n\"text\":\"a\"} ] }", true, true},
		{"tab in a string", "{\"choices\":[{\"text\":\"a\tb\"}]}", false, false},
		{"backslash outside strings", `{"choices":[]\}`, false, false},

		// Numbers, which fastjson takes as any run of number characters.
		{"leading zero", `{"choices":[{"index":01,"text":"a"}]}`, false, false},
		{"negative leading zero", `{"choices":[{"text":"a","token":-01}]}`, false, false},
		{"NaN ignored", `{"created":NaN,"choices":[]}`, false, false},
		{"bad ignored number", `{"created":1.,"choices":[]}`, false, false},
		{"bad nested ignored number", `{"x":{"y":[0,-]},"choices":[]}`, false, false},
		{"good nested ignored numbers", `{"system_fingerprint":{"a":[1,-2.5e3,0.0]},"created":1e3,"choices":[]}`, true, true},
		{"exponent index", `{"choices":[{"index":1e0,"text":"a"}]}`, false, false},
		{"negative zero index", `{"choices":[{"index":-0,"text":"a"}]}`, true, true},
		{"largest token", `{"choices":[{"text":"a","token":9223372036854775807}]}`, true, true},
		{"smallest token", `{"choices":[{"text":"a","token":-9223372036854775808}]}`, true, true},
		{"token past int64", `{"choices":[{"text":"a","token":9223372036854775808}]}`, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			completion, chat := checkSame(t, []byte(c.data))
			if completion != c.completion || chat != c.chat {
				t.Errorf("fast path taken: completions %v, chat %v; want %v, %v", completion, chat, c.completion, c.chat)
			}
		})
	}
}

// badNumbers are literals fastjson's parser takes as numbers and
// encoding/json refuses.
var badNumbers = []string{"01", "-01", "00", "-", "1.", ".5", "1e", "1e+", "+1", "--1", "1.2.3", "1e5e5",
	"NaN", "nan", "Inf", "-inf", "+Inf", "0.e1", "+1234567890123456789", "-0000000000000000001"}

// numberSpans returns where data's numbers are: digit and minus runs
// outside strings.
func numberSpans(data []byte) [][2]int {
	var spans [][2]int
	in := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '-' || '0' <= c && c <= '9'):
			j := i
			for j < len(data) && bytes.IndexByte([]byte("0123456789.eE+-"), data[j]) >= 0 {
				j++
			}
			spans = append(spans, [2]int{i, j})
			i = j - 1
		}
	}
	return spans
}

// Every number the fast path meets is checked, whether it reads it or
// skips it: each number of each event, swapped for a bad one, must not
// get past the fast path.
func TestFastChunkNumbers(t *testing.T) {
	events := []string{
		`{"system_fingerprint":{"a":[1,{"b":2}]},"seed":[3],"created":4,"choices":[{"index":5,"text":"a","token":6,"tokens":[7,8],"finish_reason":null,"logprobs":null,"x":9}],"usage":{"prompt_tokens":10,"completion_tokens":11,"total_tokens":12,"y":13}}`,
		`{"event":"token_sampled","index":0,"text":" hi","token":[42,43]}`,
		`{"choices":[{"index":0,"delta":{"content":"x","z":[14]},"finish_reason":null}],"usage":null}`,
	}
	for _, ev := range simEvents {
		events = append(events, ev.data)
	}
	files, _ := filepath.Glob("testdata/streams/*.sse")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.Lines(b) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				events = append(events, string(bytes.TrimSpace(d)))
			}
		}
	}
	n := 0
	for _, ev := range events {
		data := []byte(ev)
		for _, s := range numberSpans(data) {
			for _, bad := range badNumbers {
				mutated := slices.Concat(data[:s[0]], []byte(bad), data[s[1]:])
				checkSame(t, mutated)
				n++
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d mutations: the events hold fewer numbers than they should", n)
	}
}

// specialEnd and stringStop read eight bytes at a time; every byte in
// every position, before and after other bytes, must be found as a byte at
// a time would.
func TestSpecialEnd(t *testing.T) {
	special := func(c byte) bool { return c == '\\' || c < 0x20 || c >= 0x80 }
	for _, f := range []struct {
		name string
		find func([]byte, int) int
		is   func(byte) bool
	}{
		{"specialEnd", specialEnd, special},
		{"stringStop", stringStop, func(c byte) bool { return c == '"' || special(c) }},
	} {
		buf := make([]byte, 24)
		for c := range 256 {
			for p := range 17 {
				for _, after := range []byte{'a', '\\', 0, 0xff, '"', '!', '#'} {
					for i := range buf {
						buf[i] = 'a'
					}
					buf[p], buf[p+1] = byte(c), after
					want := p
					if !f.is(byte(c)) {
						want = p + 1
						if !f.is(after) {
							want = len(buf)
						}
					}
					if got := f.find(buf, 0); got != want {
						t.Fatalf("%s: byte %#x at %d, then %#x: %d, want %d", f.name, c, p, after, got, want)
					}
				}
			}
		}
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

// checkTemplated reads first and then data with one scanner, so that data
// may be read through first's template, and fails if data is then read
// otherwise than the strict decoder reads it. It returns whether the
// template read it, for completions and for chat.
func checkTemplated(t *testing.T, first, data []byte) (completion, chat bool) {
	t.Helper()
	var scan scanner
	var w0 completionChunkWire
	scan.fastCompletion(first, &w0)
	hits := scan.tmpl.hits
	var fw, sw completionChunkWire
	if scan.fastCompletion(data, &fw) {
		completion = scan.tmpl.hits > hits
		if err := strictDecode(data, &sw); err != nil {
			t.Fatalf("completions %q after %q: accepted what the strict decoder refuses: %v", data, first, err)
		}
		if a, b := normCompletion(fw), normCompletion(sw); !reflect.DeepEqual(a, b) {
			t.Fatalf("completions %q after %q:\nfast   %+v\nstrict %+v", data, first, a, b)
		}
	}
	var chatScan scanner
	var c0 chatChunkWire
	chatScan.fastChat(first, &c0)
	hits = chatScan.tmpl.hits
	var fc, sc chatChunkWire
	if chatScan.fastChat(data, &fc) {
		chat = chatScan.tmpl.hits > hits
		if err := strictDecode(data, &sc); err != nil {
			t.Fatalf("chat %q after %q: accepted what the strict decoder refuses: %v", data, first, err)
		}
		if a, b := normChat(fc), normChat(sc); !reflect.DeepEqual(a, b) {
			t.Fatalf("chat %q after %q:\nfast   %+v\nstrict %+v", data, first, a, b)
		}
	}
	return completion, chat
}

const (
	tmplToken = `{"id":"cmpl-1","object":"text_completion","model":"demo","choices":[{"index":0,"text":" want","token":1118,"finish_reason":null,"logprobs":null}],"created":1796158461}`
	tmplChat  = `{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"demo","choices":[{"index":0,"delta":{"content":" want"},"finish_reason":null,"logprobs":null}],"usage":null,"created":1796158461}`
)

// An event like the last in all but its text and token is read through
// the template; one that differs anywhere else, or holds a value of
// another kind there, is read in full, and either way as encoding/json
// reads it.
func TestFastChunkTemplate(t *testing.T) {
	tok := func(text, token string) string {
		return strings.Replace(strings.Replace(tmplToken, `" want"`, text, 1), "1118", token, 1)
	}
	chat := func(content string) string { return strings.Replace(tmplChat, `" want"`, content, 1) }
	for _, c := range []struct {
		name, first, data string
		completion, chat  bool // read through the template
	}{
		{"next token", tmplToken, tok(`" the"`, "279"), true, false},
		{"escaped text", tmplToken, tok(`"a\n\"b\" \u00e9\ud83d\ude00"`, "5"), true, false},
		{"empty text", tmplToken, tok(`""`, "0"), true, false},
		{"negative token", tmplToken, tok(`"x"`, "-3"), true, false},
		{"same event", tmplToken, tmplToken, true, false},
		{"next chat content", tmplChat, chat(`" the"`), false, true},
		{"chat content escaped", tmplChat, chat(`"\t\\"`), false, true},

		// Read in full: a value of another kind, or other bytes elsewhere.
		{"null text", tmplToken, tok("null", "5"), false, false},
		{"float token", tmplToken, tok(`"x"`, "4.5"), false, false},
		{"exponent token", tmplToken, tok(`"x"`, "1e3"), false, false},
		{"leading zero token", tmplToken, tok(`"x"`, "01"), false, false},
		{"token past int64", tmplToken, tok(`"x"`, "9223372036854775808"), false, false},
		{"token list", tmplToken, tok(`"x"`, "[1,2]"), false, false},
		{"finish", tmplToken, strings.Replace(tmplToken, `"finish_reason":null`, `"finish_reason":"length"`, 1), false, false},
		{"space before text", tmplToken, tok(` "x"`, "5"), false, false},
		{"new created", tmplToken, strings.Replace(tmplToken, "1796158461", "1796158462", 1), false, false},
		{"trailing byte", tmplToken, tmplToken + " ", false, false},
		{"cut short", tmplToken, tmplToken[:len(tmplToken)-1], false, false},
		{"control char in text", tmplToken, tok("\"a\x01\"", "5"), false, false},
		{"invalid utf-8 in text", tmplToken, tok("\"\xff\"", "5"), false, false},
		{"lone surrogate", tmplToken, tok(`"\ud800"`, "5"), false, false},
		{"text ends early", tmplToken, tok(`"x","text":"y"`, "5"), false, false},
		{"chat null content", tmplChat, chat("null"), false, false},
		{"after a usage event", `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			completion, chat := checkTemplated(t, []byte(c.first), []byte(c.data))
			if completion != c.completion || chat != c.chat {
				t.Errorf("read through the template: completions %v, chat %v; want %v, %v", completion, chat, c.completion, c.chat)
			}
		})
	}
}

// A simulator stream reads every token event after the first through the
// template.
func TestFastChunkTemplateStream(t *testing.T) {
	const tokens = 16
	var scan scanner
	n := 0
	for line := range bytes.Lines(simStreamBody(tokens)) {
		d, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data: "))
		if !ok || string(d) == "[DONE]" {
			continue
		}
		var w completionChunkWire
		if !scan.fastCompletion(d, &w) {
			t.Fatalf("event %q left the fast path", d)
		}
		n++
	}
	if n != tokens+2 || scan.tmpl.hits != tokens-1 {
		t.Errorf("%d events, %d through the template; want %d, %d", n, scan.tmpl.hits, tokens+2, tokens-1)
	}
}

// FuzzFastChunkTemplate holds the template to the strict decoder: an event
// read after another, through its template or not, reads as encoding/json
// reads it.
func FuzzFastChunkTemplate(f *testing.F) {
	for _, ev := range simEvents {
		f.Add([]byte(simEvents[0].data), []byte(ev.data))
		f.Add([]byte(simEvents[4].data), []byte(ev.data))
	}
	f.Add([]byte(tmplToken), []byte(strings.Replace(tmplToken, "1118", "-0", 1)))
	f.Add([]byte(tmplChat), []byte(strings.Replace(tmplChat, `" want"`, `"\u00e9"`, 1)))
	f.Fuzz(func(t *testing.T, first, data []byte) {
		checkTemplated(t, first, data)
	})
}
