package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/evalbench/evalbench/endpoint"
)

// Tokenizer counts the tokens of a text the way the server does.
// *endpoint.Client implements it with the tokenize endpoint.
type Tokenizer interface {
	Tokenize(ctx context.Context, model, prompt string) ([]int, endpoint.Call, error)
}

// synthWords are common English words: each is one or two tokens in the
// usual BPE vocabularies, so a prompt can be brought to a target length a
// word at a time.
var synthWords = strings.Fields(`the of and to in is was for on that with as by at from his it
an were are which this be has had or not but have its first new their after one also two who
they been other her into more time over only may year she where most city some when world
during three than people between about would years part such later can up out many both
called well there while through state area under known since these made used all school
series high four like five game number well group being will each government including
however then team town before war life water small found world county film north south
east west river light music house power around great old left back best same last end home
city work place public general second national early long members under family light
number road country several system began began line side form through took season much`)

// maxCalibrate bounds the tokenize calls spent on one synthetic prompt.
const maxCalibrate = 40

// calibrate builds text of target tokens (as the server counts them,
// special tokens included) within ±1. It keeps a bracket [lo, hi] of word
// counts known to fall short of and overshoot the target, guesses inside
// it from the mean tokens per word, and when two adjacent word counts
// straddle the target (a long word jumps over it) swaps that word for
// another. It returns the text and its exact token count.
func calibrate(ctx context.Context, tok Tokenizer, model string, target int, rng *rand.Rand) (string, int, error) {
	if target < 1 {
		return "", 0, fmt.Errorf("loadgen: input-tokens %d: want at least 1", target)
	}
	words := []string{}
	pick := func() string { return synthWords[rng.IntN(len(synthWords))] }
	textOf := func(n int) string {
		for len(words) < n {
			words = append(words, pick())
		}
		return strings.Join(words[:n], " ")
	}
	count := func(text string) (int, error) {
		ids, _, err := tok.Tokenize(ctx, model, text)
		if err != nil {
			return 0, fmt.Errorf("loadgen: calibrating a %d-token synthetic prompt: %w", target, err)
		}
		return len(ids), nil
	}
	base, err := count("")
	if err != nil {
		return "", 0, err
	}
	if base > target+1 {
		return "", 0, fmt.Errorf("loadgen: input-tokens %d: the server adds %d tokens to any text", target, base)
	}
	lo, hi := 0, -1 // word counts known short of / past the target; -1: none yet
	n := max(target-base, 1)
	closest := base
	for range maxCalibrate {
		text := textOf(n)
		c, err := count(text)
		if err != nil {
			return "", 0, err
		}
		if abs(c-target) < abs(closest-target) {
			closest = c
		}
		if abs(c-target) <= 1 {
			return text, c, nil
		}
		if c < target {
			lo = n
		} else {
			hi = n
		}
		if hi >= 0 && hi-lo <= 1 {
			// Word hi jumps from short of the target to past it.
			words[hi-1] = pick()
			n, hi = hi, -1
			continue
		}
		perWord := max(float64(c-base)/float64(n), 0.25)
		guess := n + int(float64(target-c)/perWord+0.5*sign(target-c))
		if hi < 0 {
			n = max(guess, lo+1)
		} else {
			n = min(max(guess, lo+1), hi-1)
		}
	}
	return "", 0, fmt.Errorf("loadgen: input-tokens %d: could not build a prompt within ±1 token in %d tokenize calls (closest: %d)", target, maxCalibrate, closest)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// syntheticPool builds n distinct prompts of target tokens, each from its
// own seeded word sequence (so no two share a prefix beyond chance), a few
// at a time. The pool is the cache: built once per run, used in turn.
func syntheticPool(ctx context.Context, tok Tokenizer, model string, target, n int, seed uint64, chat bool) ([]Prompt, error) {
	pool := make([]Prompt, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(seed, 0x5e7+uint64(i)))
			text, c, err := calibrate(gctx, tok, model, target, rng)
			if err != nil {
				return err
			}
			pool[i] = textPrompt(text, chat)
			pool[i].InputTokens = c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return pool, nil
}
