package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// ReadLoadRequests streams the lines of a requests.jsonl file to fn, in file
// order. A torn last line (a crash mid-write) is skipped; a bad line
// elsewhere is an error naming the line.
func ReadLoadRequests(ctx context.Context, path string, fn func(*LoadRequest) error) (n int, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var (
		d    loadRequestDecoder
		long []byte
	)
	for line := 1; ; line++ {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, torn, err
			}
		}
		b, rerr := readLine(r, &long)
		if len(b) == 0 && rerr == io.EOF {
			return n, torn, nil
		}
		if rerr != nil && rerr != io.EOF {
			return n, torn, fmt.Errorf("results: %s:%d: %w", path, line, rerr)
		}
		// A new record per line, as fn may keep the pointer; the fast
		// path's pointer fields live in the same allocation.
		l := new(loadRequestLine)
		q := &l.q
		perr := d.decode(bytes.TrimSpace(b), q, &l.pointees)
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
		if err := fn(q); err != nil {
			return n, torn, err
		}
	}
}

// readLine is r.ReadBytes('\n') without a copy of every line: the result is
// valid until the next read, which is long enough, since decoding copies
// what it keeps. A line longer than r's buffer is gathered in *long.
func readLine(r *bufio.Reader, long *[]byte) ([]byte, error) {
	b, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	*long = append((*long)[:0], b...)
	for {
		b, err = r.ReadSlice('\n')
		*long = append(*long, b...)
		if err != bufio.ErrBufferFull {
			return *long, err
		}
	}
}

// Building requests.parquet after a load run decodes every line of
// requests.jsonl, and with encoding/json that was most of the CPU the load
// generator spends per request. Lines as LoadRequestWriter writes them are
// therefore read with fastjson. The fast path takes only what it can read
// exactly as encoding/json would: valid JSON (vouched for by plainJSON or
// fastEligible, and jsonNumber for every number) holding a flat object of
// known keys, each at most once, with values of the field's own JSON type
// (null only for pointer fields). Anything else (an unknown or case-folded
// key, a repeated key, a string for a number, a float for an int, null for
// a value field, a number out of range, text with escapes fastjson reads
// differently) goes to json.Unmarshal, which gives its answer or the error
// ReadLoadRequests reports. A differential fuzz test holds the two to the
// same LoadRequest.

// loadRequestDecoder decodes requests.jsonl lines; it reuses its parser
// between lines, so it is not safe for concurrent use.
type loadRequestDecoder struct {
	p   fastjson.Parser
	num []byte
}

// loadRequestLine is one line's record and the values its pointer fields
// point to, allocated together.
type loadRequestLine struct {
	q        LoadRequest
	pointees loadRequestPointees
}

// decode fills q, which must be zero, from the line b as json.Unmarshal
// does, and returns json.Unmarshal's error where it fails. The fast path
// points q's pointer fields into p, which must be zero.
func (d *loadRequestDecoder) decode(b []byte, q *LoadRequest, p *loadRequestPointees) error {
	if d.fast(b, q, p) {
		return nil
	}
	*q = LoadRequest{} // the fast path may have filled part of it
	return json.Unmarshal(b, q)
}

// plainJSON reports whether b has no backslash and no byte below 0x20. In
// such a line every string is its own text, with nothing for fastjson to
// unescape or for its validator to vet: the parser checks the structure,
// and the fast path checks each number it converts, which leaves nothing
// unchecked.
func plainJSON(b []byte) bool {
	// Byte by byte, this scan was a sixth of the fast path. Eight at a
	// time: (w - n*ones) &^ w has some high bit set exactly when a byte of
	// w is below n (for n <= 0x80), and a backslash is a zero byte of
	// w ^ '\\'*ones.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; len(b) >= 8; b = b[8:] {
		w := binary.LittleEndian.Uint64(b)
		x := w ^ '\\'*ones
		if ((w-0x20*ones)&^w|(x-ones)&^x)&highs != 0 {
			return false
		}
	}
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return true
}

// fastEligible says the line is one fastjson reads exactly as encoding/json
// would (the rules of endpoint's check of the same name): valid UTF-8
// (encoding/json would replace bad bytes), no \uD800-\uDFFF escapes (it
// would replace a lone surrogate; fastjson keeps it), and valid JSON.
// fastjson's validator misses a raw control character that comes before an
// escape in the same string, so text with both is left to encoding/json too.
func fastEligible(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	if bytes.IndexByte(data, '\\') >= 0 {
		if bytes.IndexFunc(data, func(r rune) bool { return r < 0x20 }) >= 0 {
			return false
		}
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(`\u`))
			if j < 0 {
				break
			}
			i += j + 2
			if i < len(data) && (data[i] == 'd' || data[i] == 'D') {
				return false
			}
		}
	}
	return fastjson.ValidateBytes(data) == nil
}

// Indexes of the LoadRequest fields: bits of the seen-keys mask.
const (
	lrStep = iota
	lrSeq
	lrPhase
	lrStatus
	lrHTTPStatus
	lrErrorKind
	lrError
	lrIntendedMS
	lrSentMS
	lrFirstTokenMS
	lrLastTokenMS
	lrEndMS
	lrTTFTMS
	lrTTFTIntendedMS
	lrE2EMS
	lrE2EIntendedMS
	lrTPOTMS
	lrITLMeanMS
	lrQueueMS
	lrInputTokens
	lrOutputTokens
	lrStreamTokens
	lrUsage
	lrChunks
	lrFinishReason
	lrGood
)

// loadRequestField is the index of the field a key names exactly, or -1:
// for any other key the fast path declines rather than reproduce
// encoding/json's case-insensitive matching.
func loadRequestField(key []byte) int {
	switch string(key) {
	case "step":
		return lrStep
	case "seq":
		return lrSeq
	case "phase":
		return lrPhase
	case "status":
		return lrStatus
	case "http_status":
		return lrHTTPStatus
	case "error_kind":
		return lrErrorKind
	case "error":
		return lrError
	case "intended_ms":
		return lrIntendedMS
	case "sent_ms":
		return lrSentMS
	case "first_token_ms":
		return lrFirstTokenMS
	case "last_token_ms":
		return lrLastTokenMS
	case "end_ms":
		return lrEndMS
	case "ttft_ms":
		return lrTTFTMS
	case "ttft_intended_ms":
		return lrTTFTIntendedMS
	case "e2e_ms":
		return lrE2EMS
	case "e2e_intended_ms":
		return lrE2EIntendedMS
	case "tpot_ms":
		return lrTPOTMS
	case "itl_mean_ms":
		return lrITLMeanMS
	case "queue_ms":
		return lrQueueMS
	case "input_tokens":
		return lrInputTokens
	case "output_tokens":
		return lrOutputTokens
	case "stream_tokens":
		return lrStreamTokens
	case "usage":
		return lrUsage
	case "chunks":
		return lrChunks
	case "finish_reason":
		return lrFinishReason
	case "good":
		return lrGood
	}
	return -1
}

// loadRequestPointees holds what a line's pointer fields point to, saving
// an allocation per field; each field has its own slot, so none alias.
type loadRequestPointees struct {
	ms   [9]float64
	good bool
}

// fast fills q (pointing into p) from b and reports true, or reports false
// for the caller to reset q and ask encoding/json.
func (d *loadRequestDecoder) fast(b []byte, q *LoadRequest, p *loadRequestPointees) bool {
	if plainJSON(b) {
		if !utf8.Valid(b) {
			return false
		}
	} else if !fastEligible(b) {
		return false
	}
	v, err := d.p.ParseBytes(b)
	if err != nil || v.Type() != fastjson.TypeObject {
		return false
	}
	o, _ := v.Object()
	var seen uint32
	ok := true
	// optMS reads a *float64 field: null leaves it nil, as encoding/json
	// sets a pointer to nil on null.
	optMS := func(x *fastjson.Value, slot int, dst **float64) bool {
		if x.Type() == fastjson.TypeNull {
			return true
		}
		f, ok := d.float(x)
		if ok {
			p.ms[slot] = f
			*dst = &p.ms[slot]
		}
		return ok
	}
	o.Visit(func(key []byte, x *fastjson.Value) {
		if !ok {
			return
		}
		i := loadRequestField(key)
		if i < 0 || seen&(1<<i) != 0 {
			ok = false
			return
		}
		seen |= 1 << i
		switch i {
		case lrStep:
			q.Step, ok = d.int(x)
		case lrSeq:
			q.Seq, ok = d.int64(x)
		case lrPhase:
			q.Phase, ok = fastLoadString(x)
		case lrStatus:
			q.Status, ok = fastLoadString(x)
		case lrHTTPStatus:
			q.HTTPStatus, ok = d.int(x)
		case lrErrorKind:
			q.ErrorKind, ok = fastLoadString(x)
		case lrError:
			q.Error, ok = fastLoadString(x)
		case lrIntendedMS:
			q.IntendedMS, ok = d.float(x)
		case lrSentMS:
			ok = optMS(x, 0, &q.SentMS)
		case lrFirstTokenMS:
			ok = optMS(x, 1, &q.FirstTokenMS)
		case lrLastTokenMS:
			ok = optMS(x, 2, &q.LastTokenMS)
		case lrEndMS:
			q.EndMS, ok = d.float(x)
		case lrTTFTMS:
			ok = optMS(x, 3, &q.TTFTMS)
		case lrTTFTIntendedMS:
			ok = optMS(x, 4, &q.TTFTIntendedMS)
		case lrE2EMS:
			ok = optMS(x, 5, &q.E2EMS)
		case lrE2EIntendedMS:
			ok = optMS(x, 6, &q.E2EIntendedMS)
		case lrTPOTMS:
			ok = optMS(x, 7, &q.TPOTMS)
		case lrITLMeanMS:
			ok = optMS(x, 8, &q.ITLMeanMS)
		case lrQueueMS:
			q.QueueMS, ok = d.float(x)
		case lrInputTokens:
			q.InputTokens, ok = d.int(x)
		case lrOutputTokens:
			q.OutputTokens, ok = d.int(x)
		case lrStreamTokens:
			q.StreamTokens, ok = d.int(x)
		case lrUsage:
			q.Usage, ok = fastBool(x)
		case lrChunks:
			q.Chunks, ok = d.int(x)
		case lrFinishReason:
			q.FinishReason, ok = fastLoadString(x)
		case lrGood:
			if x.Type() == fastjson.TypeNull {
				return
			}
			if p.good, ok = fastBool(x); ok {
				q.Good = &p.good
			}
		}
	})
	return ok
}

// number returns the literal text of a JSON number, so that it is converted
// by the same strconv call encoding/json makes.
func (d *loadRequestDecoder) number(x *fastjson.Value) ([]byte, bool) {
	if x.Type() != fastjson.TypeNumber {
		return nil, false
	}
	d.num = x.MarshalTo(d.num[:0])
	return d.num, jsonNumber(d.num)
}

// jsonNumber reports whether s is a number in JSON's grammar. fastjson's
// parser takes more (nan, inf, 01, 1., +1), and strconv converts much of
// that, where encoding/json reports a syntax error.
func jsonNumber(s []byte) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func (d *loadRequestDecoder) float(x *fastjson.Value) (float64, bool) {
	s, ok := d.number(x)
	if !ok {
		return 0, false
	}
	if f, ok := shortDecimal(s); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(s), 64)
	return f, err == nil
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// shortDecimal converts a JSON number of at most 15 digits and no exponent,
// which is every time LoadRequestWriter writes, to the float64
// strconv.ParseFloat gives, at a fraction of its cost: the digits and the
// power of ten are both exact in a float64, so one division rounds
// correctly, and a correctly rounded result is the one ParseFloat returns.
// It reports false for any other number, for strconv to convert. s must be
// in JSON's number grammar.
func shortDecimal(s []byte) (float64, bool) {
	i, neg := 0, false
	if s[0] == '-' {
		i, neg = 1, true
	}
	var m uint64
	n, frac := 0, -1
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			m = m*10 + uint64(c-'0')
			n++
		case c == '.':
			frac = n
		default:
			return 0, false // an exponent
		}
	}
	if n > 15 {
		return 0, false
	}
	f := float64(m)
	if neg {
		f = -f
	}
	if frac >= 0 {
		f /= exactPow10[n-frac]
	}
	return f, true
}

// int64 declines a fraction or an exponent ("1.0", "1e3") as ParseInt does,
// where encoding/json reports an error.
func (d *loadRequestDecoder) int64(x *fastjson.Value) (int64, bool) {
	s, ok := d.number(x)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

func (d *loadRequestDecoder) int(x *fastjson.Value) (int, bool) {
	s, ok := d.number(x)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, strconv.IntSize)
	return int(n), err == nil
}

func fastBool(x *fastjson.Value) (bool, bool) {
	switch x.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	}
	return false, false
}

// fastLoadString reads a string field. The values nearly every line
// carries are returned as constants, saving an allocation each.
func fastLoadString(x *fastjson.Value) (string, bool) {
	if x.Type() != fastjson.TypeString {
		return "", false
	}
	b, _ := x.StringBytes()
	for _, c := range [...]string{PhaseMeasure, LoadOK, "length", "stop", PhaseWarmup, PhaseCooldown, LoadError, LoadCancelled} {
		if string(b) == c {
			return c, true
		}
	}
	return string(b), true
}
