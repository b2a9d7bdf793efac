package scorers

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
)

func (s *Scorer) scoreContinuation(ctx context.Context, ex *datasets.Example, rec *recorder) (*scored, error) {
	choices := s.opts.Prompt.Choices(ex)
	text, err := s.context(ex, func(shot *datasets.Example) string {
		return s.opts.Prompt.Choices(shot)[shot.Answer]
	})
	if err != nil {
		return nil, err
	}
	conts := make([]string, len(choices))
	charLen := make([]int, len(choices))
	for i, c := range choices {
		conts[i] = TargetDelimiter + c
		charLen[i] = utf8.RuneCountInString(c)
	}
	ll, greedy, err := s.forcedEach(ctx, text, conts, rec)
	if err != nil {
		return &scored{method: methodContinuation}, err
	}
	return &scored{method: methodContinuation, loglik: ll, charLen: charLen, greedy: greedy}, nil
}

// splitContext moves trailing whitespace of the context into the
// continuation, as lm-eval's _encode_pair does (n = len(ctx) -
// len(ctx.rstrip())), so the space is scored with the word it belongs to.
// "Whitespace" is Python's, Unicode-aware, since rstrip is.
func splitContext(text, cont string) (string, string) {
	trimmed := pyRstrip(text)
	if n := len(text) - len(trimmed); n > 0 {
		return trimmed, text[len(trimmed):] + cont
	}
	return text, cont
}

// forcedEach scores every continuation with its own forced request. Each is
// tokenized in context as lm-eval's _encode_pair does: the context is
// tokenize(context), and the continuation is what tokenize(context +
// continuation) holds after that many tokens, which keeps merges across the
// boundary right. The requests of one question go out together, so a
// server's prefix cache sees them back to back.
func (s *Scorer) forcedEach(ctx context.Context, text string, conts []string, rec *recorder) ([]float64, []bool, error) {
	ll := make([]float64, len(conts))
	greedy := make([]bool, len(conts))
	known := make([]bool, len(conts))
	g, gctx := errgroup.WithContext(ctx)
	for i, cont := range conts {
		g.Go(func() error {
			c, k := splitContext(text, cont)
			ctxTok, err := s.tok.tokens(gctx, c, rec)
			if err != nil {
				return fmt.Errorf("tokenize: %w", err)
			}
			whole, err := s.tok.tokens(gctx, c+k, rec)
			if err != nil {
				return fmt.Errorf("tokenize: %w", err)
			}
			if len(whole) <= len(ctxTok) {
				return fmt.Errorf("choice %d: continuation %q adds no tokens after the context", i, k)
			}
			forced := slices.Clone(whole[len(ctxTok):])
			req := &endpoint.CompletionRequest{
				// lm-eval sends context_enc + continuation_enc, which is not
				// whole when a merge across the boundary changed the
				// whole's earlier tokens.
				Tokens:             ctxTok,
				ForcedOutputTokens: forced,
				// One top entry per position is enough to tell whether the
				// forced token was the argmax (is_greedy).
				Logprobs:  endpoint.Ptr(1),
				MaxTokens: endpoint.Ptr(len(forced)),
			}
			resp, err := s.complete(gctx, req, rec)
			if err != nil {
				return fmt.Errorf("choice %d: %w", i, err)
			}
			res, err := checkForced(resp, forced)
			if err != nil {
				return fmt.Errorf("choice %d: %w", i, err)
			}
			sum := 0.0
			for _, v := range res.logprobs {
				sum += v
			}
			ll[i] = sum
			if res.top != nil {
				known[i] = true
				greedy[i] = true
				for p, v := range res.logprobs {
					if len(res.top[p]) == 0 || !greedyAt(v, res.top[p]) {
						greedy[i] = false
						known[i] = len(res.top[p]) > 0
						break
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	for _, k := range known {
		if !k {
			return ll, nil, nil
		}
	}
	return ll, greedy, nil
}
