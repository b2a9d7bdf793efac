package simulator

import (
	"math"
	"slices"
	"sort"
	"testing"
)

func testLM(t testing.TB) (*lm, *Tokenizer) {
	tk := NewTokenizer()
	return newLM(tk, mix(1)), tk
}

func testModels() map[string]model {
	return map[string]model{
		"base":      {base: 0x1234},
		"adapter-a": {base: 0x1234, adapter: 0xA1 | 1},
		"adapter-b": {base: 0x1234, adapter: 0xB2 | 1},
		"other":     {base: 0x9876},
	}
}

// Every profile is a proper distribution, and every position's ranking is a
// bijection, so the full next-token distribution sums to one.
func TestDistributionIsNormalised(t *testing.T) {
	l, tk := testLM(t)
	for p, lp := range l.profiles {
		if d := math.Abs(logSumExp(lp)); d > 1e-12 {
			t.Fatalf("profile %d: logsumexp = %g", p, d)
		}
		for r := 1; r < len(lp); r++ {
			if !(lp[r] < lp[r-1]) {
				t.Fatalf("profile %d not strictly decreasing at rank %d", p, r)
			}
		}
	}
	full := make([]float64, l.v)
	contexts := [][]int{
		{BOS},
		tk.Tokenize("Question: what is 2+2?\nAnswer:"),
		tk.Tokenize("The quick brown fox"),
		tk.Tokenize("日本"),
	}
	for name, m := range testModels() {
		for _, ctx := range contexts {
			for extra := 0; extra < 20; extra++ {
				c := append(slices.Clone(ctx), extra*37%l.v)
				p := l.at(m, ctxHash(c), c[len(c)-1])
				p.fullLogprobs(full)
				if d := math.Abs(logSumExp(full)); d > 1e-9 {
					t.Fatalf("%s: logsumexp of the full distribution = %g", name, d)
				}
				seen := make([]bool, l.v)
				for r := 0; r < l.v; r++ {
					tok := p.tokenAt(r)
					if seen[tok] {
						t.Fatalf("%s: token %d holds two ranks", name, tok)
					}
					seen[tok] = true
					if back := p.rankOf(tok); back != r {
						t.Fatalf("%s: rankOf(tokenAt(%d)) = %d", name, r, back)
					}
				}
			}
		}
	}
}

func TestFeistelIsPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 100, 255, 256, 257, 1400} {
		f := newFeistel(n)
		seen := make([]bool, n)
		for x := 0; x < n; x++ {
			y := f.fwd(42, x)
			if y < 0 || y >= n || seen[y] {
				t.Fatalf("n=%d: fwd(%d) = %d repeats or is out of range", n, x, y)
			}
			seen[y] = true
			if back := f.inv(42, y); back != x {
				t.Fatalf("n=%d: inv(fwd(%d)) = %d", n, x, back)
			}
		}
	}
}

// The model is peaked like a real one: the top token usually has a
// probability between about 0.15 and 0.65.
func TestDistributionShape(t *testing.T) {
	l, tk := testLM(t)
	var tops []float64
	h := ctxHash(tk.Tokenize("Once upon a time"))
	for i := 0; i < 2000; i++ {
		p := l.at(model{base: 7}, h, 42)
		tops = append(tops, math.Exp(p.lp[0]))
		h = ctxNext(h, i%l.v)
	}
	sort.Float64s(tops)
	med := tops[len(tops)/2]
	if med < 0.15 || med > 0.65 {
		t.Fatalf("median top probability %.3f", med)
	}
	if tops[0] < 0.1 || tops[len(tops)-1] > 0.8 {
		t.Fatalf("top probabilities range %.3f..%.3f", tops[0], tops[len(tops)-1])
	}
}

// After ":" the answer labels hold the ten top ranks, in an order that
// depends on the context.
func TestLabelsLeadAfterColon(t *testing.T) {
	l, tk := testLM(t)
	firsts := map[int]int{}
	for q := 0; q < 200; q++ {
		ctx := tk.Tokenize("Question " + string(rune('a'+q%26)) + string(rune('a'+q/26)) + "\nAnswer:")
		p := l.at(model{base: 3}, ctxHash(ctx), ctx[len(ctx)-1])
		var top []string
		for r := 0; r < maxHints; r++ {
			top = append(top, tk.TokenString(p.tokenAt(r)))
		}
		for c := 'A'; c < 'A'+maxHints; c++ {
			if !slices.Contains(top, " "+string(c)) {
				t.Fatalf("label %q not in the top ten %q", " "+string(c), top)
			}
		}
		firsts[p.tokenAt(0)]++
	}
	if len(firsts) < 8 {
		t.Fatalf("the most likely label barely varies across questions: %v", firsts)
	}
}

// Adapters are related to their base model but differ from it and from
// each other; another endpoint is unrelated.
func TestModelsDiffer(t *testing.T) {
	l, tk := testLM(t)
	ms := testModels()
	ctx := tk.Tokenize("Question: pick one.\nAnswer:")
	h := ctxHash(ctx)
	dist := map[string][]float64{}
	for name, m := range ms {
		p := l.at(m, h, ctx[len(ctx)-1])
		d := make([]float64, l.v)
		p.fullLogprobs(d)
		dist[name] = d
	}
	names := []string{"base", "adapter-a", "adapter-b", "other"}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if slices.Equal(dist[names[i]], dist[names[j]]) {
				t.Errorf("%s and %s have identical distributions", names[i], names[j])
			}
		}
	}
}

func TestSamplingRespectsSettings(t *testing.T) {
	l, tk := testLM(t)
	ctx := tk.Tokenize("Once upon a time")
	h := ctxHash(ctx)
	for i := 0; i < 300; i++ {
		p := l.at(model{base: 5}, h, ctx[len(ctx)-1])
		u := unit(mix(uint64(i)))
		if r := p.sampleRank(sampling{temp: 0, topP: 1}, u, nil); r != 0 {
			t.Fatalf("greedy drew rank %d", r)
		}
		if r := p.sampleRank(sampling{temp: 1, topK: 3, topP: 1}, u, nil); r >= 3 {
			t.Fatalf("top_k 3 drew rank %d", r)
		}
		r := p.sampleRank(sampling{temp: 1, topP: 0.5}, u, nil)
		var mass float64
		for k := 0; k < r; k++ {
			mass += math.Exp(p.lp[k])
		}
		if mass >= 0.5 {
			t.Fatalf("top_p 0.5 drew rank %d with %.3f of the mass above it", r, mass)
		}
		if r := p.sampleRank(sampling{temp: 1, topP: 1, minP: 0.5}, u, nil); p.lp[r] < p.lp[0]+math.Log(0.5) {
			t.Fatalf("min_p 0.5 drew rank %d", r)
		}
		h = ctxNext(h, i)
	}
	// At temperature 1 the empirical rank frequencies follow the profile.
	p := l.at(model{base: 5}, h, 0)
	counts := make([]int, 3)
	const n = 20000
	for i := 0; i < n; i++ {
		if r := p.sampleRank(sampling{temp: 1, topP: 1}, unit(mix(uint64(i)*7919)), nil); r < 3 {
			counts[r]++
		}
	}
	for r, c := range counts {
		want := math.Exp(p.lp[r])
		got := float64(c) / n
		if math.Abs(got-want) > 4*math.Sqrt(want*(1-want)/n)+1e-3 {
			t.Errorf("rank %d drawn %.4f of the time, want %.4f", r, got, want)
		}
	}
}

// Four-choice labels usually lead: the top token after ":" is one of " A"
// to " D" most of the time, but not always.
func TestFavouredLabels(t *testing.T) {
	l, tk := testLM(t)
	abcd := 0
	const n = 1000
	for q := 0; q < n; q++ {
		h := ctxNext(ctxHash(tk.Tokenize("Answer")), q)
		p := l.at(model{base: 11}, h, int(must(tk.ID(":"))))
		if s := tk.TokenString(p.tokenAt(0)); s >= " A" && s <= " D" {
			abcd++
		}
	}
	if abcd < n*70/100 || abcd > n*95/100 {
		t.Fatalf("top token in A-D %d of %d times", abcd, n)
	}
}

func must(id int, ok bool) int {
	if !ok {
		panic("missing token")
	}
	return id
}
