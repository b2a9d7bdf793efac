package results

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkSampleJSON fails unless AppendJSON writes exactly json.Marshal's
// bytes, or, where json.Marshal fails, appends nothing. A prefix in the
// buffer checks that it appends rather than overwrites.
func checkSampleJSON(t *testing.T, s *Sample) {
	t.Helper()
	want, werr := json.Marshal(s)
	prefix := []byte("prefix ")
	got := s.AppendJSON(append([]byte(nil), prefix...))
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("AppendJSON overwrote the buffer: %q", got)
	}
	got = got[len(prefix):]
	if werr != nil {
		if len(got) != 0 {
			t.Fatalf("json.Marshal fails (%v) but AppendJSON wrote %q", werr, got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON:\n%s\njson.Marshal:\n%s", got, want)
	}
}

func TestSampleAppendJSON(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	withSample := func(mod func(*Sample)) *Sample {
		s := benchSample()
		mod(s)
		return s
	}
	floats := func(v ...float64) *Sample {
		return withSample(func(s *Sample) {
			s.LogLik = v
			s.Requests = nil
			for i := 0; i+1 < len(v); i += 2 {
				s.Requests = append(s.Requests, Request{Kind: "completions", LatencyMS: v[i], ElapsedMS: v[i+1]})
			}
		})
	}
	text := func(v string) *Sample {
		return withSample(func(s *Sample) {
			s.Model, s.ID, s.Subject, s.Error, s.Method, s.Status = v, v, v, v, v, Status(v)
			s.Requests[0].Kind = v
		})
	}
	for _, c := range []struct {
		name string
		s    *Sample
	}{
		{"typical", benchSample()},
		{"journal test sample", okSample("demo", "q0")},
		{"zero", &Sample{}},
		{"nil", nil},
		{"empty lists", &Sample{LogLik: []float64{}, CharLen: []int{}, Greedy: []bool{}, Requests: []Request{}}},
		{"empty request lists", &Sample{Requests: []Request{{Errors: []int{}}, {}}}},
		{"failed", withSample(func(s *Sample) {
			s.Status, s.Error, s.LogLik, s.CharLen, s.Greedy = StatusFailed, "endpoint: 503 Service Unavailable", nil, nil, nil
			s.Requests = []Request{{Kind: "completions", LatencyMS: 3, ElapsedMS: 9012.5, Attempts: 4, Status: 503, Errors: []int{0, 429, 503, 503}}}
		})},
		{"extreme ints", withSample(func(s *Sample) {
			s.Seq, s.Gold, s.NumChoices, s.Pred, s.PredNorm = math.MaxInt, math.MinInt, -1, 0, -0
			s.CharLen = []int{math.MinInt, -1, 0, math.MaxInt}
			s.Requests[0].Errors = []int{math.MinInt, math.MaxInt}
			s.Requests[0].PromptTokens, s.Requests[0].CompletionTokens, s.Requests[0].CachedTokens = -1, math.MaxInt, 1
		})},
		// The cutoffs of encoding/json's exponent form, on both sides.
		{"exponent cutoffs", floats(1e-6, 9.999999999999999e-7, 1e21, 9.999999999999998e20, -1e-6, -1e21, 1e-7)},
		{"exponent cleanup", floats(1.5e-9, 1e-10, 1e-100, 5e-324, 1.7976931348623157e308, -1e22, 1e300)},
		{"zeros and integers", floats(0, math.Copysign(0, -1), 1, -1, 100, 1e20, 123456789012345680000, 4503599627370497)},
		{"shortest digits", floats(0.1, -0.061232566833496094, 1.0/3, -2.5e-5, 33.333, 1e-5, 0.000001000001)},
		{"empty strings", text("")},
		{"plain ascii", text(" !#$%'()*+,-./0123456789:;=?@AZ[]^_`az{|}~\x7f")},
		{"non-ascii", text("Zürich 日本語 🙂 \ufffd")},
		{"times", withSample(func(s *Sample) {
			s.Start = at.In(time.FixedZone("IST", 5*3600+30*60))
			s.End = at.Truncate(time.Second).In(time.FixedZone("", -8*3600)) // no fraction
		})},
		{"time with monotonic reading", withSample(func(s *Sample) { s.Start, s.End = time.Now(), time.Now().Add(time.Millisecond) })},
		{"time zone offset seconds", withSample(func(s *Sample) { s.End = at.In(time.FixedZone("", 3600+59)) })},
		{"time year bounds", withSample(func(s *Sample) {
			s.Start = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
			s.End = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := json.Marshal(c.s); err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			checkSampleJSON(t, c.s)
		})
	}
	for _, c := range []struct {
		name string
		s    *Sample
	}{
		// json.Marshal fails on these; AppendJSON must append nothing.
		{"NaN", floats(-1, math.NaN())},
		{"+Inf latency", withSample(func(s *Sample) { s.Requests[0].LatencyMS = math.Inf(1) })},
		{"-Inf elapsed", withSample(func(s *Sample) { s.Requests[0].ElapsedMS = math.Inf(-1) })},
		{"year 10000", withSample(func(s *Sample) { s.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"year -1", withSample(func(s *Sample) { s.Start = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"zone hour 24", withSample(func(s *Sample) { s.Start = at.In(time.FixedZone("", 24*3600)) })},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := json.Marshal(c.s); err == nil {
				t.Fatal("json.Marshal succeeds: the case no longer tests refusal")
			}
			checkSampleJSON(t, c.s)
		})
	}
	// Each thing encoding/json rewrites, alone in an otherwise plain
	// string, so the fast path cannot pass it on the strength of another.
	for _, hazard := range []string{"<", ">", "&", `"`, `\`, "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t",
		"\u2028", "\u2029", "\xff", "\xe2\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"} {
		t.Run(fmt.Sprintf("string %q", hazard), func(t *testing.T) {
			checkSampleJSON(t, text("abc"+hazard+"déf"))
			checkSampleJSON(t, text(hazard))
		})
	}
}

// Every byte value at every position of a word and of the tail, against
// neighbours on the edges of appendSampleString's word-at-a-time tests.
func TestAppendSampleString(t *testing.T) {
	for _, fill := range []byte{'a', 0x20, 0x21, '"' - 1, '"' + 1, '&' + 1, '<' - 1, '>' + 1, '\\' + 1, 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xff} {
		// A position in the first word, in the second and in the tail.
		for _, n := range []int{1, 7, 8, 9, 16, 17} {
			for i := range n {
				for c := range 256 {
					b := bytes.Repeat([]byte{fill}, n)
					b[i] = byte(c)
					want, _ := json.Marshal(string(b))
					if got := appendSampleString(nil, string(b)); !bytes.Equal(got, want) {
						t.Fatalf("appendSampleString(%q) = %s, want %s", b, got, want)
					}
				}
			}
		}
	}
}

// fillNonZero sets every field reachable from v to a value json.Marshal
// writes, so that a field added to Sample or Request without a line in
// AppendJSON shows up as a difference (and one added to LoadRequest
// without a case in the fast path's decoder).
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", -3*3600))))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(t, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonZero(t, v.Field(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillNonZero(t, v.Index(i))
		}
	case reflect.String:
		v.SetString("s<" + v.Type().Name() + ">")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(-7)
	case reflect.Float64:
		v.SetFloat(-1.25e-7)
	case reflect.Bool:
		v.SetBool(true)
	default:
		t.Fatalf("fillNonZero: no value for a %s field; teach the test and AppendJSON about it", v.Type())
	}
}

func TestSampleAppendJSONEveryField(t *testing.T) {
	var s Sample
	fillNonZero(t, reflect.ValueOf(&s).Elem())
	if len(s.Requests) == 0 || len(s.Requests[0].Errors) == 0 {
		t.Fatalf("fillNonZero left lists empty: %+v", s)
	}
	checkSampleJSON(t, &s)
}

type nopJournalFile struct{ io.Writer }

func (nopJournalFile) Sync() error  { return nil }
func (nopJournalFile) Close() error { return nil }

// Append writes exactly json.Marshal's line, and for a sample json.Marshal
// refuses returns the error it returned before, writing nothing.
func TestJournalAppendMatchesMarshal(t *testing.T) {
	var buf bytes.Buffer
	j := newJournal(nopJournalFile{&buf}, nil, func() {})
	defer j.Close()
	nan := benchSample()
	nan.LogLik[1] = math.NaN()
	farFuture := benchSample()
	farFuture.End = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	long := benchSample()
	long.Error = strings.Repeat("x<", maxPooledLine) // larger than a pooled buffer may be
	var want bytes.Buffer
	refused := 0
	for _, s := range []*Sample{benchSample(), nan, escapingSample(), farFuture, long, okSample("demo", "q1")} {
		b, merr := json.Marshal(s)
		err := j.Append(s)
		if merr != nil {
			refused++
			if wantErr := fmt.Sprintf("results: encode sample %s: %v", s.ID, merr); err == nil || err.Error() != wantErr {
				t.Errorf("Append error %v, want %s", err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want.Write(b)
		want.WriteByte('\n')
	}
	if refused != 2 {
		t.Errorf("json.Marshal refused %d samples, want the NaN and the far future", refused)
	}
	if !bytes.Equal(buf.Bytes(), want.Bytes()) {
		t.Errorf("journal:\n%.2000s\nwant:\n%.2000s", buf.Bytes(), want.Bytes())
	}
}

// escapingSample is a sample whose strings all need escaping.
func escapingSample() *Sample {
	s := benchSample()
	s.ID, s.Subject, s.Error = "q\"1\"", "a&b", "\xff\u2028"
	return s
}

// A journal written by many goroutines at once holds every line intact:
// pooled buffers are not handed to a second Append while still in use.
func TestJournalConcurrentAppendBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				s := benchSample()
				s.ID = fmt.Sprintf("w%d-%d", w, i)
				s.Error = strings.Repeat("é", (w*each+i)%300) // lines of many lengths
				if err := j.Append(s); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	for _, line := range lines {
		var s Sample
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("line %.200q: %v", line, err)
		}
		if want, _ := json.Marshal(&s); string(want) != line {
			t.Fatalf("line\n%s\nre-encodes as\n%s", line, want)
		}
	}
}

// FuzzSampleAppendJSON holds AppendJSON to json.Marshal over arbitrary
// samples. floats holds raw float64 bits, so every value (subnormals, huge
// ones, negative zero, NaN payloads) is reachable; ints holds int64s; flags
// chooses between nil and empty lists, bools and how many requests.
func FuzzSampleAppendJSON(f *testing.F) {
	le := func(v ...float64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	ints := func(v ...int64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
		return b
	}
	f.Add("demo", "q0", "algebra", "ok", "", "letter", "completions", int64(3), int64(1), int64(4),
		le(-2, -0.5, -3, -4), ints(1, 1, 1, 1, 429), uint64(0b1011_1111), 12.5, 13.25,
		int64(1741964966), int64(535897932), int64(1741964967), int32(0))
	f.Add("m", "id", "", "failed", "boom <html> \"quoted\"", "", "tokenize", int64(0), int64(0), int64(0),
		[]byte{}, []byte{}, uint64(0), 0.0, math.Copysign(0, -1), int64(0), int64(0), int64(-62135596800), int32(19800))
	f.Add("日本", "\xff", "\u2028", "\x00", "\t\n", "a&b", "<", int64(math.MaxInt64), int64(math.MinInt64), int64(-1),
		le(1e-6, 9.999999999999999e-7, 1e21, 1e-7, 5e-324, math.MaxFloat64, math.Copysign(0, -1), 1.5e-9),
		ints(math.MinInt64, math.MaxInt64), uint64(math.MaxUint64), 1e21, 1e-7,
		int64(253402300799), int64(999999999), int64(253402300800), int32(-86400))
	f.Add("x", "y", "z", "ok", "", "", "", int64(1), int64(2), int64(3), le(math.NaN()), []byte{1}, uint64(0b100), math.Inf(1), 1.0,
		int64(-62167219201), int64(-1), int64(0), int32(86399))
	f.Fuzz(func(t *testing.T, model, id, subject, status, errText, method, kind string, seq, gold, n int64,
		floatBits, intBits []byte, flags uint64, latency, elapsed float64, startSec, startNsec, endSec int64, zone int32) {
		bit := func(i uint) bool { return flags&(1<<i) != 0 }
		var lls []float64
		if bit(0) {
			lls = []float64{}
		}
		for ; len(floatBits) >= 8; floatBits = floatBits[8:] {
			lls = append(lls, math.Float64frombits(binary.LittleEndian.Uint64(floatBits)))
		}
		var is []int
		if bit(1) {
			is = []int{}
		}
		for ; len(intBits) >= 8; intBits = intBits[8:] {
			is = append(is, int(int64(binary.LittleEndian.Uint64(intBits))))
		}
		var greedy []bool
		if bit(2) {
			greedy = []bool{}
		}
		for i := range uint(flags>>8) % 6 {
			greedy = append(greedy, bit(16+i))
		}
		loc := time.UTC
		if bit(3) {
			loc = time.FixedZone("", int(zone))
		}
		s := &Sample{
			Model: model, ID: id, Subject: subject, Seq: int(seq), Gold: int(gold), NumChoices: int(n),
			Status: Status(status), Error: errText, Method: method,
			LogLik: lls, CharLen: is, Greedy: greedy,
			Pred: int(seq ^ n), PredNorm: int(gold - n), Acc: bit(4), AccNorm: bit(5),
			Start: time.Unix(startSec, startNsec).In(loc), End: time.Unix(endSec, startNsec^endSec).In(loc),
		}
		if bit(6) {
			s.Requests = []Request{}
		}
		for i := range (flags >> 12) % 4 {
			r := Request{Kind: kind, LatencyMS: latency, ElapsedMS: elapsed, Attempts: int(i), Status: int(n)}
			if len(is) > 0 {
				r.Errors = is[:int(i)%len(is)]
				r.PromptTokens, r.CompletionTokens, r.CachedTokens = is[0], is[len(is)-1], is[len(is)/2]
			} else if bit(7) {
				r.Errors = []int{}
			}
			if i == 1 && len(lls) > 0 {
				r.LatencyMS = lls[0]
			}
			s.Requests = append(s.Requests, r)
		}
		checkSampleJSON(t, s)
	})
}

func benchSample() *Sample {
	start := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	return &Sample{
		Model: "llama-3.1-8b-instruct", ID: "mmlu/high_school_physics/0123", Subject: "high_school_physics",
		Seq: 4123, Gold: 2, NumChoices: 4, Status: StatusOK, Method: "letter",
		LogLik:  []float64{-3.2154896259307861, -0.061232566833496094, -4.5197391510009766, -6.0034556388854980},
		CharLen: []int{1, 1, 1, 1},
		Greedy:  []bool{false, true, false, false},
		Pred:    1, PredNorm: 1,
		Requests: []Request{{Kind: "completions", LatencyMS: 123.456789, ElapsedMS: 123.503211, Attempts: 1, Status: 200,
			PromptTokens: 612, CompletionTokens: 1}},
		Start: start, End: start.Add(123503211 * time.Nanosecond),
	}
}

func BenchmarkSampleJSON(b *testing.B) {
	s := benchSample()
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = s.AppendJSON(buf[:0])
		}
	})
}

// BenchmarkJournalAppend is Append's CPU without the write system call.
func BenchmarkJournalAppend(b *testing.B) {
	j := newJournal(nopJournalFile{io.Discard}, nil, func() {})
	defer j.Close()
	s := benchSample()
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Append(s); err != nil {
			b.Fatal(err)
		}
	}
}
