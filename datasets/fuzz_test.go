package datasets

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/valyala/fastjson"
)

// fuzzRead reads data as the named file and checks the invariants that must
// hold for any input: no panic, and every error either names a record's
// place or is a whole-file error.
func fuzzRead(t *testing.T, name string, data []byte, opts Options) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.OnInvalid = Skip
	r, err := Open(t.Context(), []string{path}, opts)
	if err != nil {
		return
	}
	defer r.Close()
	for i := 0; i < 10000; i++ {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) && re.Line == 0 && re.Row == 0 && re.Field == "" && re.File == "" {
				t.Fatalf("record error without a place: %v", err)
			}
			return
		}
		if len(ex.Choices) < 2 || ex.Answer < 0 || ex.Answer >= len(ex.Choices) || len(ex.Labels) != len(ex.Choices) || ex.ID == "" {
			t.Fatalf("invalid example accepted: %+v", ex)
		}
	}
	for _, e := range r.Skipped() {
		if e.File == "" || (e.Line == 0 && name != "f.parquet") {
			t.Fatalf("skipped record without a place: %v", e)
		}
	}
}

func FuzzJSONLRecord(f *testing.F) {
	for _, s := range []string{
		goodRow,
		`{"question":"q","choices":["a","b"],"answer":"B"}`,
		`{"id":1,"question":"q","choices":{"text":["a","b"],"label":["1","2"]},"answerKey":"2"}`,
		`{"goal":"g","sol1":"a","sol2":"b","label":0}`,
		`{"ctx":"c","endings":["a","b"],"label":"1","activity_label":"x"}`,
		`{"question_id":3,"question":"q","options":["a","b",null],"answer":"A","category":"c"}`,
		"{\"question\":\"\xff\",\"choices\":[\"a\",\"b\"],\"answer\":0}",
		`{"question":"q","choices":["a","b"],"answer":1e400}`,
		`[]`, `{`, "\xEF\xBB\xBF" + goodRow,
	} {
		f.Add([]byte(s + "\n" + s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f.jsonl", data, Options{})
	})
}

func FuzzCSVRecord(f *testing.F) {
	for _, s := range []string{
		"q,a,b,c,d,A\nq2,a,b,c,d,B",
		"\"multi\nline\",a,b,c,d,C\r\n",
		"question,choices,answer\nq,\"[\"\"a\"\",\"\"b\"\"]\",1\n",
		"question,A,B,answer\nq,x,y,B\n",
		"a\"b,c,d,e,f,A\n",
		"q,a,b,c,d,Z\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f_test.csv", data, Options{})
	})
}

// FuzzFastRecord holds the fastjson path to the standard decoder: whatever
// valid text it reads, it reads to the same values. (Text the standard
// decoder alters, bad UTF-8 and lone surrogates, is refused either way.)
func FuzzFastRecord(f *testing.F) {
	for _, s := range []string{
		goodRow,
		`{"a":1,"a":2,"b":[1,2.5,-0,1e400,-1e400,9223372036854775808],"c":{"d":null,"e":true,"f":false},"g":"\u00e9\n\"x\"","h":[]}`,
		`{"id":"x","n":0.30000000000000004,"big":12345678901234567890123}`,
		`{}`, `[]`, `"s"`, `1`, "\"\x00\\b\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p fastjson.Parser
		fast, ok := fastValue(&p, data)
		if !ok || invalidUTF8At(data) >= 0 {
			return
		}
		if bad, _ := loneSurrogateAt(data); bad >= 0 {
			return
		}
		slow, err := decodeValue(data)
		if err != nil {
			t.Fatalf("%q: the fast path read what the standard decoder refuses: %v", data, err)
		}
		if !reflect.DeepEqual(fast, slow) && !(bothNaN(fast, slow)) {
			t.Fatalf("%q:\nfast %#v\nslow %#v", data, fast, slow)
		}
	})
}

func bothNaN(a, b any) bool {
	x, ok1 := a.(float64)
	y, ok2 := b.(float64)
	return ok1 && ok2 && math.IsNaN(x) && math.IsNaN(y)
}
