package scorers

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/results"
)

// recordingAPI keeps every completions request a scorer sends.
type recordingAPI struct {
	API
	mu   sync.Mutex
	reqs []endpoint.CompletionRequest
}

func (r *recordingAPI) Completions(ctx context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, *req)
	r.mu.Unlock()
	return r.API.Completions(ctx, req)
}

func mustCustom(t *testing.T, doc string, method Method) *Prompt {
	t.Helper()
	p, err := CustomPrompt(doc, nil, method)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spaced returns the choices of p with one more space in front, which is
// what lm-eval's split makes of a context ending in one space.
func spaced(p *Prompt, choices func(*datasets.Example) []string) *Prompt {
	p.choices = func(ex *datasets.Example) []string {
		var out []string
		for _, c := range choices(ex) {
			out = append(out, " "+c)
		}
		return out
	}
	return p
}

func labelTexts(ex *datasets.Example) []string {
	out := make([]string, len(ex.Choices))
	for i := range out {
		out[i] = labelOf(ex, i)
	}
	return out
}

// lm-eval moves a context's trailing whitespace into the continuation: a
// template ending in "Answer: " scores "  A" after "…Answer:", never " A"
// after "…Answer: ". The letter method's one-request path must make the same
// split as its exact path, and both must equal lm-eval's pair scored
// directly: context without the space, continuation with it.
func TestLetterTrailingWhitespaceSplitsAsLMEval(t *testing.T) {
	const doc = "{{strip .Question}}\n{{range $i, $c := .Choices}}{{index $.Labels $i}}. {{$c}}\n{{end}}Answer: "
	api := startSim(t, nil)
	exs := readExamples(t, sampleTest, 12)
	fs := fewShot(t)
	fast := newScorer(t, api, Options{Method: Letter, Prompt: mustCustom(t, doc, Letter), Shots: 5, FewShot: fs})
	exact := newScorer(t, api, Options{Method: Letter, Prompt: mustCustom(t, doc, Letter), Shots: 5, FewShot: fs})
	exact.labels.exact, exact.labels.reason = true, "forced by the test"
	ref := spaced(mustCustom(t, strings.TrimSuffix(doc, " "), Continuation), labelTexts)
	ref.describe = mmluPrompt().describe
	lmeval := newScorer(t, api, Options{Method: Continuation, Prompt: ref, Shots: 5, FewShot: fs})

	a, b, c := scoreAll(t, fast, exs), scoreAll(t, exact, exs), scoreAll(t, lmeval, exs)
	for i := range exs {
		if !slices.Equal(b[i].LogLik, c[i].LogLik) {
			t.Fatalf("%s: exact path %v, lm-eval's split %v", exs[i].ID, b[i].LogLik, c[i].LogLik)
		}
		if !slices.Equal(a[i].LogLik, b[i].LogLik) {
			t.Fatalf("%s: one-request path %v (%s), exact path %v", exs[i].ID, a[i].LogLik, a[i].Method, b[i].LogLik)
		}
		if !slices.Equal(a[i].CharLen, []int{1, 1, 1, 1}) {
			t.Fatalf("%s: char_len %v: acc_norm divides by the label, not the moved space", exs[i].ID, a[i].CharLen)
		}
	}
}

// The continuation method makes the same split: with the context's
// trailing space moved, the request's context is tokenize("…Answer:") and
// the space is forced and scored with the choice.
func TestContinuationTrailingWhitespaceSplitsAsLMEval(t *testing.T) {
	sim := startSim(t, nil)
	exs := readExamples(t, samplePIQA, 6)
	rec := &recordingAPI{API: sim}
	withSpace := newScorer(t, rec, Options{Method: Continuation, Prompt: mustCustom(t, "Question: {{.Question}}\nAnswer: ", Continuation)})
	ref := spaced(mustCustom(t, "Question: {{.Question}}\nAnswer:", Continuation), choiceTexts)
	lmeval := newScorer(t, sim, Options{Method: Continuation, Prompt: ref})
	a, b := scoreAll(t, withSpace, exs), scoreAll(t, lmeval, exs)
	for i := range exs {
		if !slices.Equal(a[i].LogLik, b[i].LogLik) {
			t.Fatalf("%s: context with its trailing space %v, lm-eval's split %v", exs[i].ID, a[i].LogLik, b[i].LogLik)
		}
	}
	contexts := map[string]bool{}
	for _, ex := range exs {
		toks, _, err := sim.Tokenize(context.Background(), "demo", "Question: "+ex.Question+"\nAnswer:")
		if err != nil {
			t.Fatal(err)
		}
		contexts[fmt.Sprint(toks)] = true
	}
	if len(rec.reqs) != 2*len(exs) {
		t.Fatalf("%d completions for %d two-choice questions", len(rec.reqs), len(exs))
	}
	for _, req := range rec.reqs {
		if !contexts[fmt.Sprint(req.Tokens)] {
			t.Fatalf("context tokens %v are not tokenize(context without its trailing space)", clip(req.Tokens))
		}
	}
}

// lm-eval sends tokenize(context) followed by what tokenize(context +
// continuation) has after that many tokens, even when a merge across the
// boundary changed the earlier tokens of the whole.
func TestContinuationContextIsTokenizedAlone(t *testing.T) {
	const marker = 77
	h := rewriting(t, "/tokenize", func(req, reply map[string]any) {
		if p, _ := req["prompt"].(string); !strings.HasSuffix(p, "Answer:") {
			toks := reply["tokens"].([]any)
			toks[1] = float64(marker) // the merge rewrote the whole's first text token
		}
	})
	rec := &recordingAPI{API: clientFor(t, h)}
	s := newScorer(t, rec, Options{Method: Continuation, Prompt: questionAnswerPrompt("piqa")})
	ex := readExamples(t, samplePIQA, 1)[0]
	smp := s.Score(context.Background(), &ex, 0)
	if smp.Status != results.StatusOK {
		t.Fatalf("%s", smp.Error)
	}
	if len(rec.reqs) != 2 {
		t.Fatalf("%d completions for 2 choices", len(rec.reqs))
	}
	for _, req := range rec.reqs {
		if len(req.Tokens) < 2 || req.Tokens[1] == marker {
			t.Fatalf("context tokens %v come from the whole's tokenization, not the context's", clip(req.Tokens))
		}
	}
}

// fakeLM is an in-process model whose every figure is known in advance: one
// token per character (a BOS, then code point + 10), and a log-probability
// of -1 for every forced token. A choice's log-likelihood is therefore minus
// the characters of " " + choice.
type fakeLM struct{}

func (fakeLM) Tokenize(_ context.Context, _, prompt string) ([]int, endpoint.Call, error) {
	ids := []int{1}
	for _, r := range prompt {
		ids = append(ids, int(r)+10)
	}
	return ids, endpoint.Call{}, nil
}

func (fakeLM) Completions(_ context.Context, req *endpoint.CompletionRequest) (*endpoint.CompletionResponse, endpoint.Call, error) {
	lp := &endpoint.Logprobs{}
	for _, id := range req.ForcedOutputTokens {
		s := string(rune(id - 10))
		lp.TokenLogprobs = append(lp.TokenLogprobs, -1)
		lp.Tokens = append(lp.Tokens, s)
		lp.TopLogprobs = append(lp.TopLogprobs, map[string]float64{s: -1})
	}
	ch := endpoint.CompletionChoice{Tokens: slices.Clone(req.ForcedOutputTokens), Logprobs: lp}
	return &endpoint.CompletionResponse{Choices: []endpoint.CompletionChoice{ch}}, endpoint.Call{}, nil
}

// acc_norm divides by the choice's length in characters, as lm-eval's
// len(choice) on a Python str does, not in UTF-8 bytes. The rows are built
// so that the two give different predictions: normalised by characters the
// longer plain choice wins, by bytes the accented or Japanese one would.
func TestAccNormCountsCharactersNotBytes(t *testing.T) {
	cases := []struct {
		id       string
		charLen  []int
		loglik   []float64
		pred     int
		predNorm int
	}{
		{"creme", []int{12, 13}, []float64{-13, -14}, 0, 1},
		{"tea", []int{6, 8}, []float64{-7, -9}, 0, 1},
	}
	exs := readExamples(t, filepath.Join("testdata", "piqa_nonascii.jsonl"), 0)
	s := newScorer(t, fakeLM{}, Options{Method: Continuation, Prompt: questionAnswerPrompt("piqa")})
	for i, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			ex := &exs[i]
			if ex.ID != tc.id {
				t.Fatalf("fixture row %d is %q", i, ex.ID)
			}
			if utf8.RuneCountInString(ex.Choices[0]) == len(ex.Choices[0]) {
				t.Fatalf("fixture choice %q is ASCII: the test proves nothing", ex.Choices[0])
			}
			smp := s.Score(context.Background(), ex, i)
			if smp.Status != results.StatusOK {
				t.Fatal(smp.Error)
			}
			if !slices.Equal(smp.CharLen, tc.charLen) || !slices.Equal(smp.LogLik, tc.loglik) {
				t.Fatalf("char_len %v loglik %v, want %v %v", smp.CharLen, smp.LogLik, tc.charLen, tc.loglik)
			}
			if smp.Pred != tc.pred || smp.PredNorm != tc.predNorm || smp.AccNorm != (tc.predNorm == ex.Answer) {
				t.Fatalf("pred %d pred_norm %d acc_norm %v, want %d %d", smp.Pred, smp.PredNorm, smp.AccNorm, tc.pred, tc.predNorm)
			}
		})
	}
	// The same rows on the simulator: char_len is characters there too.
	sim := newScorer(t, startSim(t, nil), Options{Method: Continuation, Prompt: questionAnswerPrompt("piqa")})
	for _, smp := range scoreAll(t, sim, exs) {
		if !slices.Equal(smp.CharLen, cases[smp.Seq].charLen) {
			t.Fatalf("%s: char_len %v, want %v", smp.ID, smp.CharLen, cases[smp.Seq].charLen)
		}
	}
}
