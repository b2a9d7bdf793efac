package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// refKept is the number of ranks a sampler keeps, computed the way HF
// transformers and vLLM do from a descending list of log-probabilities:
// scale by 1/temperature, keep the top k, renormalise, keep the smallest
// prefix whose renormalised mass reaches top_p (a rank stays while the
// mass above it is below top_p), then drop ranks whose probability is
// under min_p times the top one. It is written from the definitions, not
// from sampleRank, so the two can disagree.
func refKept(desc []float64, s sampling) int {
	w := make([]float64, len(desc))
	for r, x := range desc {
		w[r] = math.Exp((x - desc[0]) / s.temp)
	}
	m := len(w)
	if s.topK > 0 && s.topK < m {
		m = s.topK
	}
	var z float64
	for _, v := range w[:m] {
		z += v
	}
	if s.topP < 1 {
		var above float64
		for r := 0; r < m; r++ {
			if above/z >= s.topP {
				m = r
				break
			}
			above += w[r]
		}
	}
	if s.minP > 0 {
		k := 0
		for k < m && w[k]/w[0] >= s.minP {
			k++
		}
		m = max(1, k)
	}
	return m
}

// descLogprobs is the full next-token distribution at p, most likely
// first.
func descLogprobs(p *pos) []float64 {
	full := make([]float64, p.l.v)
	p.fullLogprobs(full)
	slices.Sort(full)
	slices.Reverse(full)
	return full
}

// chiSquare compares observed counts with expected probabilities, given
// unnormalised. Outcomes expected fewer than 5 times are pooled into one
// bin, as the test requires. It returns the statistic and its degrees of
// freedom.
func chiSquare(counts map[int]int, prob map[int]float64, n int) (stat float64, df int) {
	for k := range counts {
		if _, ok := prob[k]; !ok {
			return math.Inf(1), 1 // drawn but impossible: no fit at all
		}
	}
	keys := make([]int, 0, len(prob))
	for k := range prob {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a fixed summation order: the statistic is reproducible
	var total float64
	for _, k := range keys {
		total += prob[k]
	}
	var poolE float64
	poolO := 0
	bins := 0
	for _, k := range keys {
		e := float64(n) * prob[k] / total
		if e < 5 {
			poolE += e
			poolO += counts[k]
			continue
		}
		d := float64(counts[k]) - e
		stat += d * d / e
		bins++
	}
	if poolE > 0 {
		d := float64(poolO) - poolE
		stat += d * d / max(poolE, 1e-300)
		bins++
	}
	return stat, max(1, bins-1)
}

// chiSquareLimit is a generous acceptance bound: the statistic a correct
// sampler exceeds with probability 1e-6. The draws are seeded, so the
// test is deterministic; the bound only has to separate right from wrong.
func chiSquareLimit(df int) float64 {
	return distuv.ChiSquared{K: float64(df)}.Quantile(1 - 1e-6)
}

// top_k is applied first and top_p then measured against the renormalised
// top-k mass, as in HF transformers and vLLM; min_p (a ratio to the top
// probability) is unaffected by the renormalisation. Checked both on the
// set of ranks a sampler can reach and on the distribution it draws from.
func TestTopPAfterTopK(t *testing.T) {
	l, tk := testLM(t)
	cases := []sampling{
		{temp: 1, topK: 2, topP: 0.6},
		{temp: 1, topK: 3, topP: 0.7},
		{temp: 1, topK: 10, topP: 0.9},
		{temp: 0.7, topK: 5, topP: 0.8},
		{temp: 1.5, topK: 40, topP: 0.95},
		{temp: 2, topK: 50, topP: 0.7},
		{temp: 1, topK: 20, topP: 0.9, minP: 0.05},
		{temp: 1, topP: 0.5},            // no top_k: the whole vocabulary
		{temp: 1, topK: 8, topP: 1},     // no top_p
		{temp: 0.5, topK: 4, topP: 0.3}, // top_p keeps only the first
	}
	contexts := []string{"Once upon a time", "Question: which one?\nAnswer:", "The quick brown fox jumps over"}
	for _, s := range cases {
		t.Run(fmt.Sprintf("T%g_k%d_p%g_minp%g", s.temp, s.topK, s.topP, s.minP), func(t *testing.T) {
			for ci, text := range contexts {
				ctx := tk.Tokenize(text)
				for step := 0; step < 8; step++ {
					p := l.at(model{base: 0x5151}, ctxHash(ctx), ctx[len(ctx)-1])
					desc := descLogprobs(&p)
					want := refKept(desc, s)
					// u = 0 draws the first kept rank and u just below 1 the
					// last: together they give the kept set.
					if r := p.sampleRank(s, 0, nil); r != 0 {
						t.Fatalf("context %d step %d: u=0 drew rank %d", ci, step, r)
					}
					if r := p.sampleRank(s, math.Nextafter(1, 0), nil); r != want-1 {
						t.Fatalf("context %d step %d: keeps ranks 0..%d, want 0..%d (top-k mass renormalised before top-p)", ci, step, r, want-1)
					}
					if step == 0 {
						// Within the kept set, rank r is drawn with probability
						// exp(lp[r]/T), renormalised.
						prob := map[int]float64{}
						for r := 0; r < want; r++ {
							prob[r] = math.Exp((desc[r] - desc[0]) / s.temp)
						}
						counts := map[int]int{}
						const n = 20000
						for i := 0; i < n; i++ {
							counts[p.sampleRank(s, unit(mix(uint64(i)^0xC0FFEE)), nil)]++
						}
						if stat, df := chiSquare(counts, prob, n); stat > chiSquareLimit(df) {
							t.Fatalf("context %d: chi-square %.1f over %d df exceeds %.1f", ci, stat, df, chiSquareLimit(df))
						}
					}
					ctx = append(ctx, p.tokenAt(step%3))
				}
			}
		})
	}
}

// Sampling at temperature T draws token t with probability
// softmax(logprob/T), the model's own logprobs scaled; temperature 0 is
// greedy. The requests go through the same validation as the HTTP API
// (so a temperature the parser dropped would show), and each of the N
// draws is one seeded first step of a generation. Counts are checked with
// a chi-square test against the expected distribution, and, so that the
// test can fail, against the other temperatures' distributions too.
func TestTemperatureMatchesSoftmax(t *testing.T) {
	srv, err := New(fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	temps := []float64{0.5, 1, 2}
	for _, prompt := range []string{"Once upon a time", "Question: which planet is largest?\nAnswer:"} {
		// draws and expected distributions per temperature, by token (EOS
		// included: sampling it ends the generation).
		counts := map[float64]map[int]int{}
		probs := map[float64]map[int]float64{}
		for _, temp := range append([]float64{0}, temps...) {
			body, _ := json.Marshal(map[string]any{"model": "demo:lora-a", "prompt": prompt, "max_tokens": 1, "temperature": temp})
			var req completionsRequest
			text, textOK, e := decodeCompletions(body, &req)
			if e != nil {
				t.Fatal(e)
			}
			m, _, e := srv.resolve(dedicated, req.Model)
			if e != nil {
				t.Fatal(e)
			}
			gr, _, _, e := srv.completionsRequest(&req, text, textOK)
			if e != nil {
				t.Fatal(e)
			}
			gr.m = m
			p := srv.lm.at(m, gr.h, gr.prompt[len(gr.prompt)-1])
			full := make([]float64, srv.lm.v)
			p.fullLogprobs(full)
			argmax := 0
			for tok, v := range full {
				if v > full[argmax] {
					argmax = tok
				}
			}
			c := map[int]int{}
			for i := 0; i < n; i++ {
				g := *gr
				g.seeds = []uint64{uint64(i)}
				q := newSeq(srv.lm, &g, 0)
				tok := EOS
				if q.step() {
					tok = q.toks[0]
				}
				c[tok]++
			}
			if temp == 0 {
				if len(c) != 1 || c[argmax] != n {
					t.Fatalf("%q: temperature 0 drew %d distinct tokens (argmax %d drawn %d of %d times)", prompt, len(c), argmax, c[argmax], n)
				}
				continue
			}
			pr := map[int]float64{}
			for tok, v := range full {
				if tok != PAD && tok != BOS { // never generated
					pr[tok] = math.Exp((v - full[argmax]) / temp)
				}
			}
			counts[temp], probs[temp] = c, pr
		}
		for _, temp := range temps {
			for _, other := range temps {
				stat, df := chiSquare(counts[temp], probs[other], n)
				limit := chiSquareLimit(df)
				switch {
				case other == temp && stat > limit:
					t.Errorf("%q: draws at T=%g do not fit softmax(logprobs/%g): chi-square %.1f over %d df, limit %.1f", prompt, temp, temp, stat, df, limit)
				case other != temp && stat <= limit:
					t.Errorf("%q: draws at T=%g also fit softmax(logprobs/%g) (chi-square %.1f over %d df): the test cannot tell temperatures apart", prompt, temp, other, stat, df)
				}
				if other == temp {
					t.Logf("%q T=%g: chi-square %.1f over %d df (limit %.1f)", prompt, temp, stat, df, limit)
				}
			}
		}
	}
}

// refDistribution is what a sampler draws from, as HF transformers and
// vLLM compute it: the masked tokens (min_tokens' end of sequence, tokens
// never generated) are removed first, as a logits processor setting them
// to -inf does, and only then do top_k, top_p and min_p filter what is
// left. It returns unnormalised probabilities of the tokens that can be
// drawn.
func refDistribution(full []float64, masked map[int]bool, s sampling) map[int]float64 {
	var toks []int
	for tok := range full {
		if !masked[tok] {
			toks = append(toks, tok)
		}
	}
	slices.SortStableFunc(toks, func(a, b int) int { return cmpFloat(full[b], full[a]) })
	if s.greedy() {
		return map[int]float64{toks[0]: 1}
	}
	desc := make([]float64, len(toks))
	for i, tok := range toks {
		desc[i] = full[tok]
	}
	out := map[int]float64{}
	for i := 0; i < refKept(desc, s); i++ {
		out[toks[i]] = math.Exp((desc[i] - desc[0]) / s.temp)
	}
	return out
}

// Before min_tokens, the end of sequence is masked before the filters, so
// top_k keeps k tokens that can be drawn and top_p measures their mass,
// even where EOS is the most likely token. (Drawing from the unmasked
// filters and redrawing past EOS would keep only k-1 tokens there.)
func TestMinTokensMasksBeforeFilters(t *testing.T) {
	l, tk := testLM(t)
	m := model{base: 0x77}
	// Find a position where EOS is the most likely token.
	ctx := tk.Tokenize("Once upon a time")
	var p pos
	for i := 0; ; i++ {
		p = l.at(m, ctxHash(ctx), ctx[len(ctx)-1])
		if p.tokenAt(0) == EOS {
			break
		}
		if i > 100000 {
			t.Fatal("no position with EOS on top")
		}
		ctx = append(ctx, p.tokenAt(1+i%5))
	}
	full := make([]float64, l.v)
	p.fullLogprobs(full)
	masked := map[int]bool{PAD: true, BOS: true, EOS: true}
	cases := []sampling{
		{temp: 0, topP: 1},
		{temp: 1, topK: 1, topP: 1},
		{temp: 1, topP: 1},
		{temp: 1, topK: 2, topP: 1},
		{temp: 0.8, topK: 5, topP: 0.7},
		{temp: 1, topP: 0.5},
		{temp: 1.3, topP: 1, minP: 0.3},
	}
	for _, s := range cases {
		t.Run(fmt.Sprintf("T%g_k%d_p%g_minp%g", s.temp, s.topK, s.topP, s.minP), func(t *testing.T) {
			want := refDistribution(full, masked, s)
			const n = 20000
			counts := map[int]int{}
			for i := 0; i < n; i++ {
				gr := &genRequest{m: m, prompt: ctx, h: ctxHash(ctx), n: 1, seeds: []uint64{uint64(i)}, samp: s, maxOut: 10, minOut: 5, topK: -1}
				q := newSeq(l, gr, 0)
				if !q.step() {
					t.Fatalf("seed %d: the sequence ended before min_tokens", i)
				}
				counts[q.toks[0]]++
			}
			if len(counts) != len(want) && len(want) <= 50 {
				t.Errorf("drew %d distinct tokens, want %d", len(counts), len(want))
			}
			if stat, df := chiSquare(counts, want, n); stat > chiSquareLimit(df) {
				t.Fatalf("chi-square %.1f over %d df exceeds %.1f (drew %v, want %v)", stat, df, chiSquareLimit(df), counts, want)
			}
		})
	}
}
