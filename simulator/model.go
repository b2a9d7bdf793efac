package simulator

import (
	"math"
	"slices"
	"sort"
	"sync"
)

// The language model.
//
// Next-token distributions must be exact (a proper log-softmax over the
// whole vocabulary), a pure function of (seed, model, context), peaked like
// a real model's, and cheap: load tests generate tens of thousands of tokens
// a second on two shared cores, so per-token work cannot touch every token.
//
// So a distribution is a fixed profile of log-probabilities by rank (one of
// numProfiles Zipf-like curves, each normalised once at start-up), and the
// context decides which token holds which rank: a keyed pseudo-random
// permutation (Feistel, O(1) both ways). The log-probability of token t is
// profile[rank(t)], the top-k is the first k ranks, and sampling draws a
// rank from the profile's cumulative distribution. Normalisation is exact by
// construction.
//
// Structure on top of the permutation:
//   - Tokens are permuted within rank classes: words with a leading space
//     and punctuation hold the top ranks, other pieces the next ones, and
//     rare tokens (specials, control and non-ASCII byte tokens) the lowest
//     ranks, which carry an extra penalty; so generated text is mostly
//     space-separated words and almost always printable.
//   - Hints: after some tokens a small set is promoted to the top ranks in a
//     context-dependent order. After ":" those are the answer labels " A" to
//     " J" (" A" to " D" favoured), so a multiple-choice prompt ending
//     "Answer:" puts every label in the top ten, as a real model does, and a
//     top-20 reply holds them all.
//   - EOS is swapped to the top rank at eosPerMille of the positions without
//     hints, so unconstrained generations end (about 100 tokens greedy).
//   - An adapter is the base model of its endpoint with ranks shuffled inside
//     blocks of four and a different profile: a related but different model.
const (
	numProfiles = 16
	rarePenalty = 12.0
	eosPerMille = 10
	maxHints    = 10
	maxOverride = 2*maxHints + 2

	favouredHints  = 4
	favouredWeight = 8.0
)

// lm holds the tables shared by every model of one Server.
type lm struct {
	tok *Tokenizer
	v   int
	// Tokens fall in rank classes: classes[0] (words with a leading space,
	// punctuation, newlines) takes the top ranks, classes[1] (other pieces:
	// word starts without a space, sub-words) the next, classes[2] (rare
	// tokens) the last. So generated text is mostly space-separated words.
	classes [numClasses]rankClass
	classOf []uint8 // token -> class
	index   []int32 // token -> index within its class

	// profiles[p][r] is the log-probability of rank r under profile p.
	profiles [numProfiles][]float64
	// lpText renders the first lpTextRanks of every profile.
	lpText floatText
	// blockLimit bounds the ranks an adapter shuffles (a multiple of four
	// short of the rare ranks, so rare tokens stay rare).
	blockLimit int

	hintOf   []int8 // token -> index into hintSets, or -1
	hintSets [][]int32

	cdfMu    sync.RWMutex
	cdfCache map[cdfKey][]float64
}

const numClasses = 3

type rankClass struct {
	members []int32 // in ID order
	first   int     // first rank of the class
	f       feistel
}

type cdfKey struct {
	profile int
	temp    float64
}

const maxCDFCache = 16 * 32

// lpTextRanks covers the top-20 lists scorers ask for, and the chosen token
// when it is near them.
const lpTextRanks = 32

// model identifies one distribution family: an endpoint's base model, or
// one of its adapters.
type model struct {
	base    uint64
	adapter uint64 // 0 for the base model
}

func newLM(tok *Tokenizer, seed uint64) *lm {
	l := &lm{tok: tok, v: tok.VocabSize(), cdfCache: map[cdfKey][]float64{}}
	l.index = make([]int32, l.v)
	l.classOf = make([]uint8, l.v)
	for id := 0; id < l.v; id++ {
		c := tokenClass(tok, id)
		l.classOf[id] = c
		l.index[id] = int32(len(l.classes[c].members))
		l.classes[c].members = append(l.classes[c].members, int32(id))
	}
	first := 0
	for c := range l.classes {
		l.classes[c].first = first
		l.classes[c].f = newFeistel(len(l.classes[c].members))
		first += len(l.classes[c].members)
	}
	rareFrom := l.classes[2].first
	l.blockLimit = rareFrom &^ 3

	raw := make([]float64, l.v)
	for p := range l.profiles {
		s := 1.1 + 0.9*float64(p)/float64(numProfiles-1)
		for r := range raw {
			noise := 0.25 * (unit(mix(seed^saltNoise^uint64(p)<<32^uint64(r))) - 0.5)
			raw[r] = -s*math.Log(float64(r+1)) + noise
			if r >= rareFrom {
				raw[r] -= rarePenalty
			}
		}
		slices.SortFunc(raw, func(a, b float64) int { return -cmpFloat(a, b) })
		for r := 1; r < len(raw); r++ {
			if raw[r] >= raw[r-1] {
				raw[r] = math.Nextafter(raw[r-1], math.Inf(-1))
			}
		}
		z := logSumExp(raw)
		lp := make([]float64, l.v)
		for r, x := range raw {
			lp[r] = x - z
		}
		l.profiles[p] = lp
	}
	l.lpText = floatText{}
	for _, lp := range l.profiles {
		l.lpText.add(lp[:min(lpTextRanks, len(lp))]...)
	}

	l.hintOf = make([]int8, l.v)
	for i := range l.hintOf {
		l.hintOf[i] = -1
	}
	var labels []int32
	for c := 'A'; c < 'A'+maxHints; c++ {
		if id, ok := tok.ID(" " + string(c)); ok {
			labels = append(labels, int32(id))
		}
	}
	if colon, ok := tok.ID(":"); ok && len(labels) > 0 {
		l.hintOf[colon] = int8(len(l.hintSets))
		l.hintSets = append(l.hintSets, labels)
	}
	return l
}

// tokenClass: 2 for rare tokens (specials, control bytes other than tab,
// LF and CR, DEL, the byte tokens of 0x80-0xFF); 0 for tokens that start a
// word with a space, ASCII punctuation and line breaks; 1 for the rest.
func tokenClass(tok *Tokenizer, id int) uint8 {
	if id < firstByteID {
		return 2
	}
	if id < firstByteID+256 {
		b := id - firstByteID
		switch {
		case (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b >= 0x7F:
			return 2
		case b == ' ' || b == '\n' || (b > ' ' && b < 0x7F && !isAlnum(byte(b))):
			return 0
		}
		return 1
	}
	if s := tok.TokenString(id); s[0] == ' ' || s[0] == '\n' || s[0] == '\r' {
		return 0
	}
	return 1
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	var s float64
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// ctxStart is the hash of the empty context; ctxNext extends a context by a
// token. A distribution depends on the context only through this rolling
// hash, so scoring a prompt given as text or as the same token IDs yields
// identical logprobs.
const ctxStart uint64 = 0x6A09E667F3BCC909

func ctxNext(h uint64, tok int) uint64 { return mix(h*0x100000001B3 ^ uint64(tok)) }

func ctxHash(toks []int) uint64 {
	h := ctxStart
	for _, t := range toks {
		h = ctxNext(h, t)
	}
	return h
}

// pos is the next-token distribution at one position.
type pos struct {
	l       *lm
	lp      []float64 // the profile: log-probability by rank
	prof    int
	keys    [numClasses]uint64
	ka      uint64 // adapter shuffle key, 0 for a base model
	nov     int
	ovRank  [maxOverride]int32
	ovToken [maxOverride]int32
}

// at returns the distribution after the context with hash h whose last
// token is prev (-1 for an empty context).
func (l *lm) at(m model, h uint64, prev int) pos {
	x := mix(h ^ m.base)
	p := pos{l: l, prof: int(mix(x^saltProfile) % numProfiles)}
	for c := range p.keys {
		p.keys[c] = mix(x ^ saltClass ^ uint64(c)<<40)
	}
	if prev >= 0 && prev < l.v && l.hintOf[prev] >= 0 {
		set := l.hintSets[l.hintOf[prev]]
		// A weighted shuffle (Efraimidis-Spirakis): the first hints (" A"
		// to " D") are favoured, so four-choice questions usually have
		// their labels on top, yet " E" to " J" can lead too.
		var order [maxHints]int32
		var keys [maxHints]float64
		n := copy(order[:], set)
		r := mix(x ^ saltHints)
		for i := 0; i < n; i++ {
			r = mix(r)
			w := 1.0
			if i < favouredHints {
				w = favouredWeight
			}
			keys[i] = math.Log(unit(r)+0x1p-60) / w
			for j := i; j > 0 && keys[j] > keys[j-1]; j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		for i := 0; i < n; i++ {
			p.swap(i, p.where(int(order[i])))
		}
	} else if mix(x^saltEOS)%1000 < eosPerMille {
		p.swap(0, p.where(EOS))
	}
	if m.adapter != 0 {
		p.ka = mix(x ^ m.adapter)
		p.prof = (p.prof + 1 + int(p.ka%3)) % numProfiles
	}
	p.lp = l.profiles[p.prof]
	return p
}

// baseAt and baseRank are the plain permutation, before overrides.
func (p *pos) baseAt(r int) int {
	c := 0
	for c < numClasses-1 && r >= p.l.classes[c+1].first {
		c++
	}
	cl := &p.l.classes[c]
	return int(cl.members[cl.f.fwd(p.keys[c], r-cl.first)])
}

func (p *pos) baseRank(t int) int {
	c := p.l.classOf[t]
	cl := &p.l.classes[c]
	return cl.first + cl.f.inv(p.keys[c], int(p.l.index[t]))
}

// get and where read the arrangement with overrides, before the adapter
// shuffle.
func (p *pos) get(r int) int {
	for i := 0; i < p.nov; i++ {
		if int(p.ovRank[i]) == r {
			return int(p.ovToken[i])
		}
	}
	return p.baseAt(r)
}

func (p *pos) where(t int) int {
	// A token whose base rank was overridden has itself moved to another
	// overridden rank (swaps only exchange overridden ranks), so looking at
	// the overrides first is exact.
	for i := 0; i < p.nov; i++ {
		if int(p.ovToken[i]) == t {
			return int(p.ovRank[i])
		}
	}
	return p.baseRank(t)
}

func (p *pos) set(r, t int) {
	for i := 0; i < p.nov; i++ {
		if int(p.ovRank[i]) == r {
			p.ovToken[i] = int32(t)
			return
		}
	}
	p.ovRank[p.nov], p.ovToken[p.nov] = int32(r), int32(t)
	p.nov++
}

func (p *pos) swap(i, j int) {
	if i == j {
		return
	}
	ti, tj := p.get(i), p.get(j)
	p.set(i, tj)
	p.set(j, ti)
}

// perm4 lists the 24 permutations of four items; perm4inv their inverses.
var perm4, perm4inv = func() (f, b [24][4]int8) {
	n := 0
	for a := int8(0); a < 4; a++ {
		for c := int8(0); c < 4; c++ {
			for d := int8(0); d < 4; d++ {
				e := 6 - a - c - d
				if a == c || a == d || c == d || e < 0 || e > 3 || e == a || e == c || e == d {
					continue
				}
				f[n] = [4]int8{a, c, d, e}
				for i, v := range f[n] {
					b[n][v] = int8(i)
				}
				n++
			}
		}
	}
	return f, b
}()

func (p *pos) shuffle(r int, table *[24][4]int8) int {
	if p.ka == 0 || r >= p.l.blockLimit {
		return r
	}
	b := r >> 2
	sel := mix(p.ka^uint64(b)*0x9E3779B97F4A7C15) % 24
	return b<<2 | int(table[sel][r&3])
}

// tokenAt is the token holding rank r (0 = most likely).
func (p *pos) tokenAt(r int) int { return p.get(p.shuffle(r, &perm4)) }

// rankOf is the rank of token t.
func (p *pos) rankOf(t int) int { return p.shuffle(p.where(t), &perm4inv) }

// logprob is log P(t | context).
func (p *pos) logprob(t int) float64 { return p.lp[p.rankOf(t)] }

// fullLogprobs fills dst (length VocabSize) with log P(t | context) for
// every token: for tests of normalisation, never on a request path.
func (p *pos) fullLogprobs(dst []float64) {
	for t := range dst {
		dst[t] = p.logprob(t)
	}
}

// sampling holds a request's sampling settings.
type sampling struct {
	temp float64 // 0 = greedy
	topK int     // 0 = off
	topP float64 // 1 = off
	minP float64 // 0 = off
}

func (s sampling) greedy() bool { return s.temp == 0 || s.topK == 1 }

// sampleRank draws a rank. u is uniform in [0, 1). masked lists ranks that
// may not be drawn (ascending, no duplicates, at least one rank left out of
// it). They are removed before any filter, as HF transformers' and vLLM's
// logits processors set them to -inf before the warpers run: top_k counts,
// top_p measures and min_p compares only the ranks that remain.
func (p *pos) sampleRank(s sampling, u float64, masked []int) int {
	if s.greedy() {
		return freeRank(0, masked)
	}
	cdf := p.l.cdf(p.prof, s.temp)
	// cum(r) is the weight of the unmasked ranks 0..r. Masked ranks are a
	// handful (specials, EOS before min_tokens), so this stays O(1).
	cum := func(r int) float64 {
		c := cdf[r]
		for _, x := range masked {
			if x > r {
				break
			}
			c -= cdf[x]
			if x > 0 {
				c += cdf[x-1]
			}
		}
		return c
	}
	m := len(cdf)
	if s.topK > 0 && s.topK < m {
		m = s.topK
		for _, x := range masked {
			if x < m {
				m++ // a masked rank below the cut does not count
			}
		}
		m = min(m, len(cdf))
	}
	if s.topP < 1 {
		// top_p is a share of the mass top_k left, renormalised, as HF
		// transformers and vLLM apply them: top-k, then top-p.
		target := s.topP * cum(m-1)
		if k := sort.Search(m, func(i int) bool { return cum(i) >= target }) + 1; k < m {
			m = k
		}
	}
	if s.minP > 0 {
		// p_T(r) >= minP*p_T(top)  <=>  lp[r] >= lp[top] + T*ln(minP).
		top := freeRank(0, masked)
		floor := p.lp[top] + s.temp*math.Log(s.minP)
		k := sort.Search(m, func(r int) bool { return p.lp[r] < floor })
		m = max(top+1, min(m, k))
	}
	target := u * cum(m-1)
	r := sort.Search(m, func(i int) bool { return cum(i) > target })
	// A masked rank adds no weight, so it is only found through rounding;
	// the draw belongs to the next unmasked rank (or the last one kept).
	r = min(r, m-1)
	if f := freeRank(r, masked); f < m {
		return f
	}
	for slices.Contains(masked, r) {
		r-- // rank top < m is unmasked, so this stops there at the latest
	}
	return r
}

// freeRank is the first rank from r on that is not masked.
func freeRank(r int, masked []int) int {
	for _, x := range masked {
		if x == r {
			r++
		} else if x > r {
			break
		}
	}
	return r
}

// cdf returns the cumulative unnormalised weights exp((lp[r]-lp[0])/temp)
// of a profile, cached per (profile, temperature) since both come from a
// small set in practice.
func (l *lm) cdf(prof int, temp float64) []float64 {
	k := cdfKey{prof, temp}
	l.cdfMu.RLock()
	c, ok := l.cdfCache[k]
	l.cdfMu.RUnlock()
	if ok {
		return c
	}
	lp := l.profiles[prof]
	c = make([]float64, len(lp))
	var sum float64
	for r, x := range lp {
		sum += math.Exp((x - lp[0]) / temp)
		c[r] = sum
	}
	l.cdfMu.Lock()
	if len(l.cdfCache) >= maxCDFCache {
		clear(l.cdfCache)
	}
	l.cdfCache[k] = c
	l.cdfMu.Unlock()
	return c
}
