package scorers

import (
	"context"
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/evalbench/evalbench/endpoint"
)

// tokenCache tokenizes through the endpoint's /v1/tokenize, which applies the
// server's own tokenizer and BOS policy, caching by string. The cache is
// bounded so memory stays flat however large the dataset, and concurrent
// requests for one string share a single call.
//
// The cache is keyed by string within one Scorer, i.e. one model. Adapters
// of one endpoint share its tokenizer, but keeping the caches apart costs
// only repeated tokenize calls and never a wrong split.
type tokenCache struct {
	api   API
	model string
	cache *lru.Cache[string, []int]
	group singleflight.Group
}

func newTokenCache(api API, model endpoint.ModelID, size int) *tokenCache {
	c, err := lru.New[string, []int](size)
	if err != nil {
		// Only a non-positive size fails, and defaults() rules that out.
		panic(err)
	}
	return &tokenCache{api: api, model: model.String(), cache: c}
}

// tokens returns the token IDs of text. The returned slice must not be
// modified.
func (t *tokenCache) tokens(ctx context.Context, text string, rec *recorder) ([]int, error) {
	if ids, ok := t.cache.Get(text); ok {
		return ids, nil
	}
	v, err, _ := t.group.Do(text, func() (any, error) {
		ids, call, err := t.api.Tokenize(ctx, t.model, text)
		rec.add("tokenize", call, nil, err)
		if err != nil {
			return nil, err
		}
		ids = slices.Clip(ids)
		t.cache.Add(text, ids)
		return ids, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]int), nil
}
