package simulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkTokenStep is the model's per-token cost in generation: one
// decoding step (distribution at the context, sample, append).
func BenchmarkTokenStep(b *testing.B) {
	for _, c := range []struct {
		name string
		samp sampling
	}{
		{"greedy", sampling{temp: 0, topP: 1}},
		{"temp1", sampling{temp: 1, topP: 1}},
		{"temp0.7_topp0.9", sampling{temp: 0.7, topP: 0.9}},
	} {
		b.Run(c.name, func(b *testing.B) {
			l, tk := testLM(b)
			prompt := tk.Tokenize("Once upon a time")
			const perSeq = 4096
			gr := &genRequest{m: model{base: 9}, prompt: prompt, h: ctxHash(prompt), n: 1, seeds: []uint64{1}, samp: c.samp, maxOut: perSeq, minOut: perSeq, topK: -1}
			q := newSeq(l, gr, 0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if q.finish != "" {
					b.StopTimer()
					q = newSeq(l, gr, 0)
					q.toks = make([]int, 0, perSeq)
					q.text = make([]byte, 0, perSeq*8)
					b.StartTimer()
				}
				q.step()
			}
		})
	}
}

// BenchmarkStreamChunk is the cost of rendering one streamed chunk.
func BenchmarkStreamChunk(b *testing.B) {
	s, err := New(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	prompt := s.tok.Tokenize("Once upon a time")
	gr := &genRequest{m: model{base: 9}, prompt: prompt, h: ctxHash(prompt), n: 1, seeds: []uint64{1}, samp: sampling{temp: 1, topP: 1}, maxOut: 1 << 30, minOut: 1 << 30, topK: -1}
	j := s.newJob(opCompletions, "/v1/completions", gr, fault{}, "demo", time.Now())
	q := j.seqs[0]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q.step()
		buf = s.appendCompletionChunk(buf[:0], j, q, q.flushText())
		q.sentToks = len(q.toks)
		q.clearPending()
		if len(q.toks) > 1<<16 {
			q.toks, q.text, q.emitted, q.sentToks, q.pendFrom = q.toks[:0], q.text[:0], 0, 0, 0
		}
	}
}

// BenchmarkForcedScoring is one letter-scoring request (one forced token,
// logprobs=20) and one continuation-scoring request (ten forced tokens)
// through ServeHTTP, without latency.
func BenchmarkForcedScoring(b *testing.B) {
	s, err := New(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	prompt := strings.Repeat("The following are multiple choice questions about science. ", 8) +
		"\n\nQuestion: Which gas do plants absorb?\nA. oxygen\nB. carbon dioxide\nC. nitrogen\nD. helium\nAnswer:"
	for _, c := range []struct {
		name   string
		forced string
	}{{"label", " B"}, {"sentence", " carbon dioxide, which they turn into sugar"}} {
		forced := s.tok.AppendTokens(nil, c.forced)
		body := []byte(fmt.Sprintf(`{"model":"demo","prompt":%q,"forced_output_tokens":%s,"logprobs":20,"max_tokens":%d}`,
			prompt, strings.Join(strings.Fields(fmt.Sprint(forced)), ","), len(forced)))
		b.Run(fmt.Sprintf("%s_%dtokens", c.name, len(forced)), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/dedicated/v1/completions", bytes.NewReader(body))
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

func BenchmarkTokenize(b *testing.B) {
	tk := NewTokenizer()
	text := strings.Repeat("The following are multiple choice questions (with answers) about high school biology. ", 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tk.Tokenize(text)
	}
}

// BenchmarkDecodeLetterRequest is the decoding of one letter-scoring body
// (a 2 KB prompt, one forced token, logprobs=20): the completionsRequest
// and the prompt's text, as the completions handler gets them.
func BenchmarkDecodeLetterRequest(b *testing.B) {
	body := letterRequestBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req completionsRequest
		text, textOK, e := decodeCompletions(body, &req)
		if e == nil && !textOK {
			text, e = promptText(req.Prompt)
		}
		if e != nil || len(text) < 2000 || len(req.ForcedOutputTokens) != 1 {
			b.Fatalf("%v: %d bytes of prompt, forced %v", e, len(text), req.ForcedOutputTokens)
		}
	}
}
