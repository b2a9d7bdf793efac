package simulator

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// genRequest is a validated generation: one prompt, n sequences.
type genRequest struct {
	m      model
	prompt []int
	h      uint64 // context hash of prompt
	forced []int  // output tokens to force, or nil
	// forcedFinish is the finish_reason once the forced tokens are out.
	forcedFinish string
	n            int
	seeds        []uint64
	samp         sampling
	maxOut       int // output tokens at most
	minOut       int // EOS (and eos_token) are masked before this many
	stops        [][]byte
	maxStop      int // longest stop string, in bytes
	stopToks     [][]int
	eosExtra     []int
	topK         int // top-k alternatives to record per token; -1 records no logprobs
}

func (gr *genRequest) setStops(raw []byte) *apiError {
	stops, e := parseStop(raw)
	if e != nil {
		return e
	}
	for _, st := range stops {
		gr.stops = append(gr.stops, []byte(st))
		gr.maxStop = max(gr.maxStop, len(st))
	}
	return nil
}

// topEntry is one alternative in a top-k list.
type topEntry struct {
	tok int
	lp  float64
}

// seq is one sequence being generated. Records of tokens since the last
// flush (the pending* fields) are what a stream chunk carries; a
// non-streaming reply never flushes and so carries everything.
type seq struct {
	l     *lm
	r     *genRequest
	index int
	seed  uint64
	h     uint64
	prev  int

	toks   []int
	text   []byte
	finish string // "" while generating
	chars  charCounter

	// stream state
	sentToks   int  // tokens already streamed
	started    bool // a chunk went out
	finishSent bool

	// records (logprobs) since the last flush
	pendFrom int // index into toks of the first pending record
	emitted  int // bytes of text flushed
	lps      []float64
	offsets  []int
	tops     []topEntry // topK per pending token
	chosen   []bool     // per pending token: chosen token is among tops
}

func newSeq(l *lm, r *genRequest, index int) *seq {
	s := &seq{l: l, r: r, index: index, h: r.h, prev: -1}
	if len(r.seeds) > index {
		s.seed = r.seeds[index]
	}
	if len(r.prompt) > 0 {
		s.prev = r.prompt[len(r.prompt)-1]
	}
	capHint := min(r.maxOut, 256)
	if r.forced != nil {
		capHint = len(r.forced)
		if r.topK >= 0 {
			// A scoring request's records have known sizes: one
			// allocation each instead of regrowing them token by token.
			s.lps, s.offsets, s.chosen = make([]float64, 0, capHint), make([]int, 0, capHint), make([]bool, 0, capHint)
			s.tops = make([]topEntry, 0, capHint*r.topK)
		}
	}
	s.toks = make([]int, 0, capHint)
	return s
}

// step runs one decoding step. It reports whether a token was produced; a
// step that samples EOS ends the sequence without one.
func (s *seq) step() bool {
	if s.finish != "" {
		return false
	}
	p := s.l.at(s.r.m, s.h, s.prev)
	var tok int
	if s.r.forced != nil {
		tok = s.r.forced[len(s.toks)]
	} else {
		tok = s.sample(&p)
		if tok == EOS || s.isExtraEOS(tok) {
			s.finish = "stop"
			return false
		}
	}
	if k := s.r.topK; k >= 0 {
		r := p.rankOf(tok)
		s.lps = append(s.lps, p.lp[r])
		in := r < k
		s.tops = slices.Grow(s.tops, k) // else appending k one by one grows it several times per token
		for i := 0; i < k; i++ {
			s.tops = append(s.tops, topEntry{p.tokenAt(i), p.lp[i]})
		}
		s.chosen = append(s.chosen, in)
		s.offsets = append(s.offsets, s.chars.n)
	}
	s.toks = append(s.toks, tok)
	piece := s.l.tok.TokenBytes(tok)
	before := len(s.text)
	s.text = append(s.text, piece...)
	s.chars.feed(piece)
	s.h = ctxNext(s.h, tok)
	s.prev = tok

	if s.r.forced != nil {
		if len(s.toks) == len(s.r.forced) {
			s.finish = s.r.forcedFinish
		}
		return true
	}
	if s.r.maxStop > 0 {
		from := max(0, before-s.r.maxStop+1)
		cut := -1
		for _, st := range s.r.stops {
			if i := bytes.Index(s.text[from:], st); i >= 0 && (cut < 0 || from+i < cut) {
				cut = from + i
			}
		}
		if cut >= 0 {
			s.text = s.text[:cut]
			s.finish = "stop"
			return true
		}
	}
	for _, st := range s.r.stopToks {
		if len(st) > 0 && len(s.toks) >= len(st) && equalInts(s.toks[len(s.toks)-len(st):], st) {
			s.finish = "stop"
			return true
		}
	}
	if len(s.toks) >= s.r.maxOut {
		s.finish = "length"
	}
	return true
}

func (s *seq) isExtraEOS(t int) bool {
	for _, e := range s.r.eosExtra {
		if t == e {
			return true
		}
	}
	return false
}

// allowed reports whether t may be generated now: never PAD or BOS, and no
// end of sequence before min_tokens.
func (s *seq) allowed(t int) bool {
	if t == PAD || t == BOS {
		return false
	}
	return len(s.toks) >= s.r.minOut || (t != EOS && !s.isExtraEOS(t))
}

// maskedRanks appends to dst, in ascending order, the ranks at p of the
// tokens that may not be generated now: never PAD or BOS, and no end of
// sequence (EOS, eos_token) before min_tokens.
func (s *seq) maskedRanks(dst []int, p *pos) []int {
	dst = append(dst, p.rankOf(PAD), p.rankOf(BOS))
	if len(s.toks) < s.r.minOut {
		dst = append(dst, p.rankOf(EOS))
		for _, t := range s.r.eosExtra {
			dst = append(dst, p.rankOf(t))
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// sample draws the next token from the sampling distribution with the
// masked tokens removed first. The draw depends only on (seed, context).
// Validation guarantees that some token is not masked.
func (s *seq) sample(p *pos) int {
	if s.r.samp.greedy() {
		// The most likely allowed token; cheaper than ranking the mask.
		for r := 0; r < s.l.v; r++ {
			if t := p.tokenAt(r); s.allowed(t) {
				return t
			}
		}
		return EOS // not reached: validation leaves a token to generate
	}
	var buf [8]int
	masked := s.maskedRanks(buf[:0], p)
	u := unit(mix(s.seed ^ s.h ^ saltSample))
	return p.tokenAt(p.sampleRank(s.r.samp, u, masked))
}

// flushText returns the text that can be sent now: all of it once the
// sequence is done, else all but what could still turn into a stop string
// and any incomplete UTF-8 character at the end.
func (s *seq) flushText() []byte {
	end := len(s.text)
	if s.finish == "" {
		end -= max(0, s.r.maxStop-1)
		if end > s.emitted {
			i := end - 1
			for i > s.emitted && i > end-utf8.UTFMax && !utf8.RuneStart(s.text[i]) {
				i--
			}
			if !utf8.FullRune(s.text[i:end]) {
				end = i
			}
		}
	}
	if end <= s.emitted {
		return nil
	}
	out := s.text[s.emitted:end]
	s.emitted = end
	return out
}

// pendingToks are the tokens produced since the last flush.
func (s *seq) pendingToks() []int { return s.toks[s.pendFrom:] }

// clearPending drops the records of flushed tokens.
func (s *seq) clearPending() {
	s.pendFrom = len(s.toks)
	s.lps, s.offsets, s.tops, s.chosen = s.lps[:0], s.offsets[:0], s.tops[:0], s.chosen[:0]
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// charCounter counts the characters of a byte stream fed piecewise, for
// text_offset: a token's offset is the number of characters completed
// before its first byte. Invalid bytes count one character each, as they
// become one U+FFFD each in the JSON text.
type charCounter struct {
	n    int
	pend [utf8.UTFMax]byte
	np   int
}

func (c *charCounter) feed(b []byte) {
	for _, x := range b {
		c.pend[c.np] = x
		c.np++
		for c.np > 0 && utf8.FullRune(c.pend[:c.np]) {
			_, w := utf8.DecodeRune(c.pend[:c.np])
			c.n++
			copy(c.pend[:], c.pend[w:c.np])
			c.np -= w
		}
	}
}
