package scorers

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/simulator"
)

// scoreAll scores examples in order and fails the test on a failed sample.
func scoreAll(t *testing.T, s *Scorer, exs []datasets.Example) []*results.Sample {
	t.Helper()
	out := make([]*results.Sample, len(exs))
	for i := range exs {
		out[i] = s.Score(context.Background(), &exs[i], i)
		if out[i].Status != results.StatusOK {
			t.Fatalf("%s: %s", exs[i].ID, out[i].Error)
		}
	}
	return out
}

func countKind(s *results.Sample, kind string) int {
	n := 0
	for _, r := range s.Requests {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// Most MMLU questions must cost one completions request: the labels are read
// from the top-K of the first label's position.
func TestLetterOneRequestPerQuestion(t *testing.T) {
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 40)
	s := newScorer(t, api, Options{Method: Letter, Shots: 5, FewShot: fewShot(t)})
	got := scoreAll(t, s, exs)
	single := 0
	for _, smp := range got {
		if smp.Method == methodLetter && countKind(smp, "completions") == 1 {
			single++
		}
		if len(smp.LogLik) != 4 || smp.Greedy == nil {
			t.Fatalf("%s: loglik %v greedy %v", smp.ID, smp.LogLik, smp.Greedy)
		}
	}
	if single < len(got)*9/10 {
		t.Fatalf("only %d of %d questions took one request", single, len(got))
	}
	if path := s.LabelPath(); !strings.HasPrefix(path, "one request per question") {
		t.Fatalf("label path: %s", path)
	}
}

// Letter scoring (one request, labels from top_logprobs) and continuation
// scoring of the same labels (one forced request each, tokenized in context)
// must give the same log-likelihoods when every label is a single token.
func TestLetterAgreesWithContinuation(t *testing.T) {
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 20)
	fs := fewShot(t)
	letter := newScorer(t, api, Options{Method: Letter, Shots: 5, FewShot: fs})
	labels := mmluPrompt()
	labels.choices = func(ex *datasets.Example) []string {
		out := make([]string, len(ex.Choices))
		for i := range out {
			out[i] = labelOf(ex, i)
		}
		return out
	}
	cont := newScorer(t, api, Options{Method: Continuation, Prompt: labels, Shots: 5, FewShot: fs})
	a, b := scoreAll(t, letter, exs), scoreAll(t, cont, exs)
	for i := range exs {
		for k := range a[i].LogLik {
			if math.Abs(a[i].LogLik[k]-b[i].LogLik[k]) > 1e-9 {
				t.Fatalf("%s choice %d: letter %v, continuation %v", exs[i].ID, k, a[i].LogLik, b[i].LogLik)
			}
		}
		if a[i].Pred != b[i].Pred || a[i].Acc != b[i].Acc || b[i].Method != methodContinuation {
			t.Fatalf("%s: letter %+v vs continuation %+v", exs[i].ID, a[i], b[i])
		}
		if countKind(b[i], "completions") != 4 {
			t.Fatalf("continuation must force each of 4 labels, sent %d", countKind(b[i], "completions"))
		}
	}
}

// With a top-K too small to hold every label, the missing labels are scored
// with their own forced requests, and the result equals forcing every label.
func TestTopKFallbackMatchesExact(t *testing.T) {
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 20)
	fs := fewShot(t)
	fallback := newScorer(t, api, Options{Method: Letter, TopK: 1, Shots: 5, FewShot: fs})
	exact := newScorer(t, api, Options{Method: Letter, Shots: 5, FewShot: fs})
	exact.labels.exact, exact.labels.reason = true, "forced by the test"
	a, b := scoreAll(t, fallback, exs), scoreAll(t, exact, exs)
	fellBack := 0
	for i := range exs {
		if !slices.Equal(a[i].LogLik, b[i].LogLik) {
			t.Fatalf("%s: fallback %v, exact %v", exs[i].ID, a[i].LogLik, b[i].LogLik)
		}
		if b[i].Method != methodLetterExact || countKind(b[i], "completions") != 4 {
			t.Fatalf("%s: exact path used %s with %d requests", exs[i].ID, b[i].Method, countKind(b[i], "completions"))
		}
		if a[i].Method == methodLetterFallback {
			fellBack++
			if n := countKind(a[i], "completions"); n < 2 || n > 4 {
				t.Fatalf("%s: fallback sent %d completions", exs[i].ID, n)
			}
		}
	}
	if fellBack == 0 {
		t.Fatal("top_k=1 never needed the fallback path: the test proves nothing")
	}
}

// A tokenizer that splits " A" into two tokens after the context rules the
// one-request path out: every question then forces each label in full.
func TestLabelsNotSingleTokenTakeExactPath(t *testing.T) {
	h := rewriting(t, "/tokenize", func(req, reply map[string]any) {
		prompt, _ := req["prompt"].(string)
		toks, _ := reply["tokens"].([]any)
		for _, l := range []string{" A", " B", " C", " D"} {
			if strings.HasSuffix(prompt, "Answer:"+l) && len(toks) > 0 {
				// Replace the label token by two: a bare space and the letter.
				base := reply["tokens"].([]any)
				space, letter := 220.0, float64(65+strings.Index("ABCD", l[1:]))
				reply["tokens"] = append(append([]any{}, base[:len(base)-1]...), space, letter)
			}
		}
	})
	api := clientFor(t, h)
	exs := readExamples(t, sampleTest, 3)
	s := newScorer(t, api, Options{Method: Letter})
	got := scoreAll(t, s, exs)
	for _, smp := range got {
		if smp.Method != methodLetterExact || countKind(smp, "completions") != 4 {
			t.Fatalf("%s: %s with %d completions", smp.ID, smp.Method, countKind(smp, "completions"))
		}
	}
	if !strings.Contains(s.LabelPath(), "not a single token") {
		t.Fatalf("label path: %s", s.LabelPath())
	}
}

// The legacy engines' list-of-floats logprobs carry no top_logprobs, so the
// other labels must be forced one by one, with the same result.
func TestLegacyLogprobsShape(t *testing.T) {
	exs := readExamples(t, sampleTest, 10)
	fs := fewShot(t)
	legacy := newScorer(t, startSim(t, func(c *simulator.Config) { c.Quirks.LegacyLogprobs = true }), Options{Method: Letter, Shots: 5, FewShot: fs})
	current := newScorer(t, startSim(t, nil), Options{Method: Letter, Shots: 5, FewShot: fs})
	a, b := scoreAll(t, legacy, exs), scoreAll(t, current, exs)
	for i := range exs {
		if !slices.Equal(a[i].LogLik, b[i].LogLik) {
			t.Fatalf("%s: legacy %v, current %v", exs[i].ID, a[i].LogLik, b[i].LogLik)
		}
		if a[i].Method != methodLetterFallback || a[i].Greedy != nil {
			t.Fatalf("%s: legacy shape scored by %s, greedy %v", exs[i].ID, a[i].Method, a[i].Greedy)
		}
	}
}

// Every reply is checked; a reply that fails a check fails the sample with
// the reason and is never scored.
func TestBadRepliesFailTheSample(t *testing.T) {
	editLogprobs := func(f func(lp map[string]any)) http.Handler {
		return rewriting(t, "/completions", func(_, reply map[string]any) {
			ch := reply["choices"].([]any)[0].(map[string]any)
			f(ch["logprobs"].(map[string]any))
		})
	}
	cases := []struct {
		name string
		api  func() *endpoint.Client
		want string
	}{
		{"too few logprobs", func() *endpoint.Client {
			return startSim(t, func(c *simulator.Config) { c.Quirks.FewerLogprobs = true })
		}, "0 token logprobs for 1 forced tokens"},
		{"wrong tokens", func() *endpoint.Client {
			return startSim(t, func(c *simulator.Config) { c.Quirks.WrongTokens = true })
		}, "are not the forced tokens"},
		{"positive logprob", func() *endpoint.Client {
			return clientFor(t, editLogprobs(func(lp map[string]any) { lp["token_logprobs"] = []any{0.25} }))
		}, "positive log-probability"},
		{"null logprob", func() *endpoint.Client {
			return clientFor(t, editLogprobs(func(lp map[string]any) { lp["token_logprobs"] = []any{nil} }))
		}, "token_logprobs"},
		{"logprobs of unknown shape", func() *endpoint.Client {
			return clientFor(t, rewriting(t, "/completions", func(_, reply map[string]any) {
				reply["choices"].([]any)[0].(map[string]any)["logprobs"] = "high"
			}))
		}, "logprobs"},
		{"no token ids", func() *endpoint.Client {
			return clientFor(t, rewriting(t, "/completions", func(_, reply map[string]any) {
				delete(reply["choices"].([]any)[0].(map[string]any), "tokens")
			}))
		}, "no choices[0].tokens"},
		{"two choices for n=1", func() *endpoint.Client {
			return clientFor(t, rewriting(t, "/completions", func(_, reply map[string]any) {
				ch := reply["choices"].([]any)
				reply["choices"] = append(ch, ch[0])
			}))
		}, "2 choices"},
		{"token strings not one per forced token", func() *endpoint.Client {
			return clientFor(t, editLogprobs(func(lp map[string]any) { lp["tokens"] = []any{" A", " B"} }))
		}, "2 logprobs.tokens for 1 forced tokens"},
		{"no choices", func() *endpoint.Client {
			return clientFor(t, rewriting(t, "/completions", func(_, reply map[string]any) { reply["choices"] = []any{} }))
		}, "no choices"},
		{"top_logprobs disagrees with the forced token", func() *endpoint.Client {
			return clientFor(t, editLogprobs(func(lp map[string]any) {
				tops := lp["top_logprobs"].([]any)
				tops[0] = map[string]any{" A": -9.0, " B": -0.1, " C": -0.2, " D": -0.3}
				lp["tokens"] = []any{" A"}
			}))
		}, ""},
	}
	exs := readExamples(t, sampleTest, 2)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScorer(t, tc.api(), Options{Method: Letter})
			for i := range exs {
				smp := s.Score(context.Background(), &exs[i], i)
				if tc.want == "" {
					// A dictionary that contradicts the forced token's own
					// logprob is distrusted: every label is forced instead.
					if smp.Status != results.StatusOK || smp.Method == methodLetter {
						t.Fatalf("%+v", smp)
					}
					continue
				}
				if smp.Status != results.StatusFailed || !strings.Contains(smp.Error, tc.want) {
					t.Fatalf("status %s, error %q; want failed with %q", smp.Status, smp.Error, tc.want)
				}
				if smp.LogLik != nil || smp.Acc {
					t.Fatalf("a failed sample carries scores: %+v", smp)
				}
				if len(smp.Requests) == 0 {
					t.Fatal("a failed sample must still record its requests")
				}
			}
		})
	}
}

// An endpoint error (here a 404 for an unknown adapter) fails the sample
// with the server's words, not a score.
func TestEndpointErrorFailsSample(t *testing.T) {
	api := startSim(t, nil)
	model, _ := endpoint.ParseModelID("demo:no-such-adapter")
	s, err := New(api, model, Options{Method: Letter, Prompt: mmluPrompt()})
	if err != nil {
		t.Fatal(err)
	}
	ex := readExamples(t, sampleTest, 1)[0]
	smp := s.Score(context.Background(), &ex, 0)
	if smp.Status != results.StatusFailed || !strings.Contains(smp.Error, "404") {
		t.Fatalf("%+v", smp)
	}
}

// Adapters are different models: their log-likelihoods differ.
func TestAdaptersScoreDifferently(t *testing.T) {
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 5)
	base := newScorer(t, api, Options{Method: Letter})
	model, _ := endpoint.ParseModelID("demo:lora-a")
	lora, err := New(api, model, Options{Method: Letter, Prompt: mmluPrompt()})
	if err != nil {
		t.Fatal(err)
	}
	a, b := scoreAll(t, base, exs), scoreAll(t, lora, exs)
	same := 0
	for i := range a {
		if slices.Equal(a[i].LogLik, b[i].LogLik) {
			same++
		}
		if b[i].Model != "demo:lora-a" {
			t.Fatalf("model %q", b[i].Model)
		}
	}
	if same == len(a) {
		t.Fatal("the adapter scored exactly like the base model")
	}
}

// Continuation scoring on PIQA: each solution is forced in context, and the
// sum of its token logprobs is its log-likelihood; acc_norm divides by the
// choice's length in characters.
func TestContinuationPIQA(t *testing.T) {
	var completions atomic.Int64
	h := rewriting(t, "/completions", func(req, reply map[string]any) {
		completions.Add(1)
		forced := req["forced_output_tokens"].([]any)
		lp := reply["choices"].([]any)[0].(map[string]any)["logprobs"].(map[string]any)
		if len(lp["token_logprobs"].([]any)) != len(forced) || req["max_tokens"].(float64) != float64(len(forced)) {
			t.Errorf("request %v got %v", req, lp)
		}
	})
	api := clientFor(t, h)
	exs := readExamples(t, samplePIQA, 10)
	s := newScorer(t, api, Options{Method: Continuation, Prompt: questionAnswerPrompt("piqa")})
	got := scoreAll(t, s, exs)
	for i, smp := range got {
		if len(smp.LogLik) != 2 || smp.CharLen[0] != len([]rune(exs[i].Choices[0])) {
			t.Fatalf("%s: %+v", smp.ID, smp)
		}
		norm := []float64{smp.LogLik[0] / float64(smp.CharLen[0]), smp.LogLik[1] / float64(smp.CharLen[1])}
		if want := argmax(norm, nil); smp.PredNorm != want {
			t.Fatalf("%s: pred_norm %d, want %d", smp.ID, smp.PredNorm, want)
		}
		// Multi-token continuations must have summed several logprobs.
		if smp.LogLik[0] > -1 && smp.LogLik[1] > -1 {
			t.Fatalf("%s: implausibly high log-likelihoods for whole sentences: %v", smp.ID, smp.LogLik)
		}
	}
	if completions.Load() != int64(2*len(exs)) {
		t.Fatalf("%d completions for %d two-choice questions", completions.Load(), len(exs))
	}
}

// Under concurrency only the first VerifyQuestions questions check the label
// split; the rest wait for the verdict instead of each paying five tokenize
// calls for it.
// scoreConcurrently scores every example at once, as the runner's fan-out does.
func scoreConcurrently(s *Scorer, exs []datasets.Example) []*results.Sample {
	got := make([]*results.Sample, len(exs))
	var wg sync.WaitGroup
	for i := range exs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.Score(context.Background(), &exs[i], i)
		}()
	}
	wg.Wait()
	return got
}

func TestVerificationIsNotRepeatedUnderConcurrency(t *testing.T) {
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 48)
	s := newScorer(t, api, Options{Method: Letter, VerifyQuestions: 3})
	got := scoreConcurrently(s, exs)
	tokenize := 0
	for _, smp := range got {
		if smp.Status != results.StatusOK || smp.Method != methodLetter {
			t.Fatalf("%s: %s %s", smp.ID, smp.Status, smp.Error)
		}
		tokenize += countKind(smp, "tokenize")
	}
	if want := 3 * (1 + 4); tokenize != want {
		t.Fatalf("%d tokenize calls for %d concurrent questions, want %d (3 verifications)", tokenize, len(exs), want)
	}
}

// A server that tokenizes text prompts unlike /v1/tokenize (here: one token
// more, as a different BOS policy gives) makes the scorer carry token IDs.
// The questions waiting for the verdict must not go ahead with text prompts
// before the verifying questions' completions have shown that: only those
// may ever send text.
func TestTextTokenizationMismatchIsSettledBeforeOthersGo(t *testing.T) {
	var text atomic.Int64
	h := rewriting(t, "/completions", func(req, reply map[string]any) {
		if p, _ := req["prompt"].(string); p != "" {
			text.Add(1)
			// Hold the reply, so questions let through too early would
			// be seen sending text meanwhile.
			time.Sleep(30 * time.Millisecond)
			u := reply["usage"].(map[string]any)
			u["prompt_tokens"] = u["prompt_tokens"].(float64) + 1
		}
	})
	api := clientFor(t, h)
	exs := readExamples(t, sampleTest, 48)
	s := newScorer(t, api, Options{Method: Letter, VerifyQuestions: 3})
	got := scoreConcurrently(s, exs)
	for _, smp := range got {
		if smp.Status != results.StatusOK {
			t.Fatalf("%s: %s", smp.ID, smp.Error)
		}
	}
	if n := text.Load(); n < 1 || n > 3 {
		t.Fatalf("%d completions sent text prompts; only the 3 verifying questions may", n)
	}
	if !strings.Contains(s.LabelPath(), "token IDs") {
		t.Fatalf("label path: %s", s.LabelPath())
	}
}
