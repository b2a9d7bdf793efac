package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkFastLoadRequest fails when the fast path accepts a line that
// json.Unmarshal reads differently or refuses, or when decode as a whole
// (fast path or fallback) differs from json.Unmarshal in result or error.
// It reports whether the fast path took the line.
func checkFastLoadRequest(t *testing.T, d *loadRequestDecoder, line []byte) bool {
	t.Helper()
	var std LoadRequest
	serr := json.Unmarshal(line, &std)
	var fast loadRequestLine
	took := d.fast(line, &fast.q, &fast.pointees)
	if took {
		if serr != nil {
			t.Fatalf("%q: the fast path accepted what encoding/json refuses: %v", line, serr)
		}
		if !sameLoadRequest(&fast.q, &std) {
			t.Fatalf("%q:\nfast %s\njson %s", line, dumpLoadRequest(&fast.q), dumpLoadRequest(&std))
		}
	}
	var got loadRequestLine
	gerr := d.decode(line, &got.q, &got.pointees)
	if fmt.Sprint(gerr) != fmt.Sprint(serr) {
		t.Fatalf("%q: decode error %v, json.Unmarshal %v", line, gerr, serr)
	}
	// json.Unmarshal fills what it can around a type error, so even a
	// failed decode must leave the same struct behind.
	if !sameLoadRequest(&got.q, &std) {
		t.Fatalf("%q:\ndecode %s\njson   %s", line, dumpLoadRequest(&got.q), dumpLoadRequest(&std))
	}
	return took
}

// sameLoadRequest is reflect.DeepEqual, which compares floats with ==, and
// the same bits in every float, so that -0 and 0 differ.
func sameLoadRequest(a, b *LoadRequest) bool {
	if !reflect.DeepEqual(*a, *b) {
		return false
	}
	bits := func(q *LoadRequest) []uint64 {
		out := []uint64{math.Float64bits(q.IntendedMS), math.Float64bits(q.EndMS), math.Float64bits(q.QueueMS)}
		for _, p := range []*float64{q.SentMS, q.FirstTokenMS, q.LastTokenMS, q.TTFTMS, q.TTFTIntendedMS, q.E2EMS, q.E2EIntendedMS, q.TPOTMS, q.ITLMeanMS} {
			if p != nil {
				out = append(out, math.Float64bits(*p))
			}
		}
		return out
	}
	return slices.Equal(bits(a), bits(b))
}

// shortDecimal gives ParseFloat's bits, or declines.
func TestShortDecimal(t *testing.T) {
	took := 0
	for _, s := range []string{"0", "-0", "-0.0", "0.000", "1", "12.5", "-2.25", "0.001", "99.999", "123456.789",
		"0.1", "0.2", "0.3", "1.000000000000001", "999999999999999", "-999999999999999", "0.000000000000001",
		"9007199254740993", "1234567890123456", "1e3", "1E-7", "-1.5e+2", "0.0000000000000000000001", "4.35", "2.675"} {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := shortDecimal([]byte(s))
		if ok {
			took++
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("shortDecimal(%s) = %v (%x), ParseFloat %v (%x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
			}
		}
		if digits := strings.Count(s, "") - 1 - strings.Count(s, "-") - strings.Count(s, "."); ok != (digits <= 15 && !strings.ContainsAny(s, "eE")) {
			t.Errorf("shortDecimal(%s) took it: %v", s, ok)
		}
	}
	// Every value appendMS can write, over a wide range.
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		v := (r.Float64() - 0.3) * math.Pow(10, float64(r.IntN(13)))
		line := appendMS(nil, "k", v)
		s := line[len(`,"k":`):]
		want, _ := strconv.ParseFloat(string(s), 64)
		if got, ok := shortDecimal(s); !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("shortDecimal(%s) = %v, %v; ParseFloat %v", s, got, ok, want)
		}
	}
	if took == 0 {
		t.Fatal("shortDecimal took nothing")
	}
}

// dumpLoadRequest shows pointer fields by value, which %+v does not.
func dumpLoadRequest(q *LoadRequest) string {
	b, _ := json.Marshal(q)
	return fmt.Sprintf("%s (sent_ms %p)", b, q.SentMS)
}

// The lines LoadRequestWriter writes take the fast path (or the
// optimisation is gone without a failing test); the others are left to
// encoding/json.
func TestFastLoadRequestPaths(t *testing.T) {
	var d loadRequestDecoder
	for _, q := range append(sampleRequests(), benchLoadRequests(300)...) {
		if line := q.AppendJSON(nil); !checkFastLoadRequest(t, &d, line) {
			t.Errorf("fast path declined a line LoadRequestWriter wrote: %s", line)
		}
	}
	for _, c := range []struct {
		name string
		line string
		fast bool
	}{
		{"empty object", `{}`, true},
		{"every field", `{"step":3,"seq":9,"phase":"measure","status":"error","http_status":429,"error_kind":"http_429","error":"slow down",` +
			`"intended_ms":1,"sent_ms":2,"first_token_ms":3,"last_token_ms":4,"end_ms":5,"ttft_ms":6,"ttft_intended_ms":7,"e2e_ms":8,` +
			`"e2e_intended_ms":9,"tpot_ms":10,"itl_mean_ms":11,"queue_ms":12,"input_tokens":13,"output_tokens":14,"stream_tokens":15,` +
			`"usage":true,"chunks":16,"finish_reason":"stop","good":false}`, true},
		{"null pointers", `{"sent_ms":null,"ttft_ms":null,"good":null,"step":1}`, true},
		{"whitespace", " \t{ \"step\" : 1 ,\n\"seq\":2\r}\n", true},
		{"number forms", `{"step":-0,"intended_ms":-0,"end_ms":1.5e3,"queue_ms":1E-7,"sent_ms":-12.000,"seq":9223372036854775807}`, true},
		{"escaped text", `{"error":"a\"b\\c\/d\u00e9\n\t\u0000\u2028","error_kind":"x"}`, true},
		{"escaped key", `{"st\u0065p":4}`, true},
		{"raw non-ascii", `{"error":"Zürich 日本語 🙂"}`, true},

		{"unknown key", `{"step":1,"extra":2}`, false},
		{"folded key", `{"Step":1}`, false},
		{"folded key with long s", `{"ſtep":1}`, false},
		{"folded key with kelvin sign", `{"error_` + "\u212a" + `ind":"x"}`, false},
		{"repeated key", `{"step":1,"step":2}`, false},
		{"repeated pointer key", `{"sent_ms":1,"sent_ms":null}`, false},
		{"string for int", `{"step":"1"}`, false},
		{"float for int", `{"step":1.0}`, false},
		{"exponent for int", `{"chunks":1e2}`, false},
		{"int overflow", `{"seq":9223372036854775808}`, false},
		{"int64 forms", `{"seq":-9223372036854775808,"step":-1}`, true},
		{"float for int64", `{"seq":2.0}`, false},
		{"exponent for int64", `{"seq":1e1}`, false},
		{"int64 underflow", `{"seq":-9223372036854775809}`, false},
		{"float overflow", `{"intended_ms":1e400}`, false},
		{"pointer float overflow", `{"sent_ms":-1e400}`, false},
		{"null int", `{"step":null}`, false},
		{"null string", `{"phase":null}`, false},
		{"null bool", `{"usage":null}`, false},
		{"null float", `{"end_ms":null}`, false},
		{"number for bool", `{"usage":1}`, false},
		{"string for pointer", `{"good":"true"}`, false},
		{"object value", `{"good":{"x":1}}`, false},
		{"array value", `{"ttft_ms":[1]}`, false},
		{"lone surrogate", `{"error":"\ud800"}`, false},
		{"surrogate pair", `{"error":"\ud83d\ude00"}`, false},
		{"invalid utf-8", "{\"error\":\"\xff\"}", false},
		{"control char", "{\"error\":\"a\x01b\"}", false},
		{"invalid escape", `{"error":"\x41"}`, false},
		{"short unicode escape", `{"error":"\u12"}`, false},
		{"non-hex unicode escape", `{"error":"\uZZZZ"}`, false},
		{"escaped quote at end", `{"error":"a\\"}`, true},
		{"control char before an escape", "{\"error\":\"a\x01b\\n\"}", false},
		{"trailing value", `{} {}`, false},
		{"not an object", `[1,2]`, false},
		{"null line", `null`, false},
		{"string line", `"x"`, false},
		{"empty line", ``, false},
		{"leading zero", `{"step":01}`, false},
		{"leading zero, escaped line", `{"step":01,"error":"\n"}`, false},
		{"negative leading zero", `{"intended_ms":-01.5}`, false},
		{"bare minus", `{"intended_ms":-}`, false},
		{"empty fraction", `{"intended_ms":1.}`, false},
		{"empty exponent", `{"intended_ms":1e}`, false},
		{"signed empty exponent", `{"intended_ms":1e+}`, false},
		{"double sign", `{"intended_ms":--1}`, false},
		{"inner minus", `{"intended_ms":1-2}`, false},
		{"double dot", `{"intended_ms":1.2.3}`, false},
		{"inf", `{"intended_ms":inf}`, false},
		{"negative inf", `{"sent_ms":-Inf}`, false},
		{"nan for pointer", `{"sent_ms":NaN}`, false},
		{"unknown key in escaped line", `{"extra":"\n","step":1}`, false},
		{"long line", `{"error_kind":"x","error":"` + strings.Repeat("é", 200_000) + `"}`, true},
		{"bare fraction", `{"intended_ms":.5}`, false},
		{"plus sign", `{"intended_ms":+5}`, false},
		{"hex float", `{"intended_ms":0x1p3}`, false},
		{"infinity", `{"intended_ms":Infinity}`, false},
		{"nan", `{"intended_ms":nan}`, false},
		{"truncated", `{"step":1,"pha`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastLoadRequest(t, &d, []byte(c.line)); got != c.fast {
				t.Errorf("fast path took it: %v, want %v", got, c.fast)
			}
		})
	}
}

// The fast path knows every field of LoadRequest: one it does not know
// would send every line to encoding/json without failing anything else.
func TestFastLoadRequestEveryField(t *testing.T) {
	var q LoadRequest
	fillNonZero(t, reflect.ValueOf(&q).Elem())
	b, err := json.Marshal(&q)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != lrGood+1 {
		t.Errorf("LoadRequest has %d JSON fields, the fast path %d", len(keys), lrGood+1)
	}
	for k := range keys {
		if loadRequestField([]byte(k)) < 0 {
			t.Errorf("the fast path does not know field %q", k)
		}
	}
	var d loadRequestDecoder
	if !checkFastLoadRequest(t, &d, b) {
		t.Errorf("fast path declined %s", b)
	}
	if line := q.AppendJSON(nil); !checkFastLoadRequest(t, &d, line) {
		t.Errorf("fast path declined %s", line)
	}
}

func plainJSONBytewise(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return true
}

// Every byte value at every position of a word, and in the tail, against
// neighbours that lie on the edges of the word-at-a-time arithmetic.
func TestPlainJSON(t *testing.T) {
	for _, fill := range []byte{'a', 0x20, 0x21, '\\' - 1, '\\' + 1, 0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xff} {
		for n := range 20 {
			for i := range n {
				for c := range 256 {
					b := bytes.Repeat([]byte{fill}, n)
					b[i] = byte(c)
					if got, want := plainJSON(b), plainJSONBytewise(b); got != want {
						t.Fatalf("plainJSON(%q) = %v, want %v", b, got, want)
					}
				}
			}
		}
	}
}

// Pointer fields share one allocation per line, each in its own slot, and
// nothing is shared between lines.
func TestFastLoadRequestPointees(t *testing.T) {
	var d loadRequestDecoder
	line := sampleRequests()[0].AppendJSON(nil)
	var la, lb loadRequestLine
	if !d.fast(line, &la.q, &la.pointees) || !d.fast(line, &lb.q, &lb.pointees) {
		t.Fatal("fast path declined")
	}
	a, b := la.q, lb.q
	ptrs := []*float64{a.SentMS, a.FirstTokenMS, a.LastTokenMS, a.TTFTMS, a.TTFTIntendedMS, a.E2EMS, a.E2EIntendedMS, a.TPOTMS, a.ITLMeanMS}
	for i, p := range ptrs {
		*p = float64(-1 - i)
	}
	*a.Good = false
	for i, p := range ptrs {
		if *p != float64(-1-i) {
			t.Fatalf("pointer %d reads %v: fields alias", i, *p)
		}
	}
	if !reflect.DeepEqual(b, sampleRequests()[0]) {
		t.Fatalf("the second line changed with the first: %s", dumpLoadRequest(&b))
	}
}

// readLoadRequestsReference is ReadLoadRequests as it was with
// encoding/json alone: the behaviour the fast path must keep.
func readLoadRequestsReference(ctx context.Context, path string, fn func(*LoadRequest) error) (n int, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	for line := 1; ; line++ {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, torn, err
			}
		}
		b, rerr := r.ReadBytes('\n')
		if len(b) == 0 && rerr == io.EOF {
			return n, torn, nil
		}
		if rerr != nil && rerr != io.EOF {
			return n, torn, fmt.Errorf("results: %s:%d: %w", path, line, rerr)
		}
		var q LoadRequest
		perr := json.Unmarshal(bytes.TrimSpace(b), &q)
		if perr == nil {
			perr = q.Validate()
		}
		if perr != nil || rerr == io.EOF {
			if rerr == io.EOF || atEOF(r) {
				return n, true, nil
			}
			return n, torn, fmt.Errorf("results: %s:%d: %v", path, line, perr)
		}
		n++
		if err := fn(&q); err != nil {
			return n, torn, err
		}
	}
}

type readOutcome struct {
	reqs []LoadRequest
	n    int
	torn bool
	err  string
}

func readWith(read func(context.Context, string, func(*LoadRequest) error) (int, bool, error), path string) readOutcome {
	var o readOutcome
	n, torn, err := read(context.Background(), path, func(q *LoadRequest) error {
		o.reqs = append(o.reqs, *q)
		return nil
	})
	o.n, o.torn, o.err = n, torn, fmt.Sprint(err)
	return o
}

// ReadLoadRequests gives what it gave before, line for line, including its
// errors naming the line and field, and its handling of torn tails.
func TestReadLoadRequestsMatchesReference(t *testing.T) {
	good := sampleRequests()[0].AppendJSON(nil)
	longLine := `{"phase":"measure","status":"error","error_kind":"x","error":"` + strings.Repeat("ab", 129<<10) // past the 256 KiB read buffer + `"}`
	for _, c := range []struct {
		name string
		body string
	}{
		{"written lines", ""},
		{"string for int", `{"step":"1","phase":"measure","status":"ok"}` + "\n"},
		{"float for int", `{"step":1,"seq":2.5,"phase":"measure","status":"ok"}` + "\n"},
		{"null value", `{"step":null,"phase":"measure","status":"ok"}` + "\n"},
		{"unknown key, valid", `{"phase":"measure","status":"ok","retries":3}` + "\n"},
		{"folded key, valid", `{"Phase":"measure","STATUS":"ok","ſeq":4}` + "\n"},
		{"repeated key, valid", `{"phase":"warmup","status":"ok","phase":"measure"}` + "\n"},
		{"bad phase", `{"phase":"soon","status":"ok"}` + "\n"},
		{"error without kind", `{"phase":"measure","status":"error"}` + "\n"},
		{"negative tokens", `{"phase":"measure","status":"ok","chunks":-1}` + "\n"},
		{"syntax error", `{"phase":"measure",}` + "\n"},
		{"blank line", "\n"},
		{"spaces around", " \t" + string(good) + " \r\n"},
		{"lone surrogate", `{"phase":"measure","status":"error","error_kind":"x","error":"\udc00"}` + "\n"},
		{"invalid utf-8", "{\"phase\":\"measure\",\"status\":\"error\",\"error_kind\":\"\xfe\"}\n"},
		{"overflow", `{"phase":"measure","status":"ok","sent_ms":1e999}` + "\n"},
		{"line longer than the read buffer", longLine + "\n"},
		{"bad line longer than the read buffer", strings.Replace(longLine, "error", "errors", 1) + "\n"},
	} {
		for _, tail := range []string{"", `{"step":0,"seq":9,"pha`, string(good), longLine} {
			t.Run(fmt.Sprintf("%s/tail %.8q", c.name, tail), func(t *testing.T) {
				path := writeLines(t, benchLoadRequests(50), c.body+string(good)+"\n"+c.body+tail)
				want := readWith(readLoadRequestsReference, path)
				got := readWith(ReadLoadRequests, path)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got n %d torn %v err %s\nwant n %d torn %v err %s", got.n, got.torn, got.err, want.n, want.torn, want.err)
				}
			})
		}
	}
}

// FuzzFastLoadRequest holds the fast path to encoding/json: whatever it
// accepts, it reads as json.Unmarshal does, and decode as a whole gives
// json.Unmarshal's result and error for any input.
func FuzzFastLoadRequest(f *testing.F) {
	for _, q := range append(sampleRequests(), benchLoadRequests(120)[95:120]...) {
		f.Add(q.AppendJSON(nil))
	}
	for _, s := range []string{
		`{}`, `{"sent_ms":null,"good":null}`, `{"step":1.0}`, `{"Step":1}`, `{"step":1,"step":2}`, `{"error":"\ud800"}`,
		`{"error":"a\"b\\c\/d\u00e9\n"}`, `{"st\u0065p":4}`, `{"seq":9223372036854775808}`, `{"intended_ms":1e400}`,
		`{"phase":null}`, `{"usage":1}`, "{\"error\":\"a\x01b\\n\"}", `{"end_ms":-0,"queue_ms":1E-7}`, `{"good":{"x":1}}`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range []string{"-0", "0.1", "123456789012.345", "999999999999999", "1.000000000000001", "-0.000000000000001", "4.35"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if jsonNumber(line) {
			want, err := strconv.ParseFloat(string(line), 64)
			if got, ok := shortDecimal(line); ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
				t.Fatalf("shortDecimal(%s) = %v, ParseFloat %v, %v", line, got, want, err)
			}
		}
		if got, want := plainJSON(line), plainJSONBytewise(line); got != want {
			t.Fatalf("plainJSON(%q) = %v, want %v", line, got, want)
		}
		var d loadRequestDecoder
		checkFastLoadRequest(t, &d, line)
		// A reused decoder must not carry anything from one line to the next.
		checkFastLoadRequest(t, &d, bytes.TrimSpace(line))
	})
}

// benchLoadRequests is n lines shaped like a load run's: mostly measured
// successes with every time set, a warm-up, some errors with quoted text.
func benchLoadRequests(n int) []LoadRequest {
	r := rand.New(rand.NewPCG(1, 2))
	ms := func(v float64) *float64 { v = float64(int64(v*1000)) / 1000; return &v }
	reqs := make([]LoadRequest, n)
	for i := range reqs {
		intended := float64(i) * 33.333
		sent := intended + r.Float64()*2
		ttft := 80 + r.Float64()*200
		e2e := ttft + 1000 + r.Float64()*3000
		q := LoadRequest{Step: i / 5000, Seq: int64(i % 5000), Phase: PhaseMeasure, Status: LoadOK, HTTPStatus: 200,
			IntendedMS: *ms(intended), SentMS: ms(sent), FirstTokenMS: ms(sent + ttft), LastTokenMS: ms(sent + e2e - 1), EndMS: *ms(sent + e2e),
			TTFTMS: ms(ttft), TTFTIntendedMS: ms(sent - intended + ttft), E2EMS: ms(e2e), E2EIntendedMS: ms(sent - intended + e2e),
			TPOTMS: ms((e2e - ttft) / 127), ITLMeanMS: ms((e2e - ttft) / 127), InputTokens: 512 + r.IntN(512), OutputTokens: 128,
			StreamTokens: 128, Usage: true, Chunks: 129, FinishReason: "length"}
		switch {
		case i%100 < 3:
			q.Status, q.ErrorKind, q.HTTPStatus = LoadError, "http_503", 503
			q.Error = `endpoint: /v1/completions: 503 Service Unavailable: {"error":"overloaded"}`
			q.FirstTokenMS, q.LastTokenMS, q.TTFTMS, q.TTFTIntendedMS, q.TPOTMS, q.ITLMeanMS = nil, nil, nil, nil, nil, nil
			q.OutputTokens, q.StreamTokens, q.Usage, q.Chunks, q.FinishReason = 0, 0, false, 0, ""
		case i < 500:
			q.Phase = PhaseWarmup
		case i%50 == 7:
			q.QueueMS = 1.25
			good := i%100 != 7
			q.Good = &good
		}
		reqs[i] = q
	}
	return reqs
}

// BenchmarkReadLoadRequests reads a 10,000-line requests.jsonl with the
// code as it was and as it is.
func BenchmarkReadLoadRequests(b *testing.B) {
	const n = 10000
	var buf bytes.Buffer
	w := NewLoadRequestWriter(&buf)
	reqs := benchLoadRequests(n)
	for i := range reqs {
		if err := w.Write(&reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), LoadRequestsFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		read func(context.Context, string, func(*LoadRequest) error) (int, bool, error)
	}{
		{"encoding-json", readLoadRequestsReference}, // the code before the fast path
		{"fast", ReadLoadRequests},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, torn, err := c.read(context.Background(), path, func(*LoadRequest) error { return nil })
				if err != nil || torn || got != n {
					b.Fatal(got, torn, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/line")
		})
	}
}

// BenchmarkDecodeLoadRequest compares the decoders on one line at a time,
// without the file reading around them.
func BenchmarkDecodeLoadRequest(b *testing.B) {
	var lines [][]byte
	for _, q := range benchLoadRequests(1000) {
		lines = append(lines, q.AppendJSON(nil))
	}
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := new(LoadRequest)
			if err := json.Unmarshal(lines[i%len(lines)], q); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		var d loadRequestDecoder
		i := 0
		for b.Loop() {
			l := new(loadRequestLine)
			if err := d.decode(lines[i%len(lines)], &l.q, &l.pointees); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
