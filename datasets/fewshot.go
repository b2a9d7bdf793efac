package datasets

import (
	"context"
	"io"
)

// FewShot holds a few-shot source (such as MMLU's dev split) in memory; it
// is small by nature.
type FewShot struct {
	bySubject map[string][]Example
}

// LoadFewShot reads a whole few-shot source.
func LoadFewShot(ctx context.Context, paths []string, opts Options) (*FewShot, error) {
	r, err := Open(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := &FewShot{bySubject: map[string][]Example{}}
	for {
		ex, err := r.Next()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		ex.Fields = nil // templates see the evaluated example's fields, not the shots'
		f.bySubject[ex.Subject] = append(f.bySubject[ex.Subject], ex)
	}
}

// For returns the first k examples of subject in file order, as lm-eval's
// first_n sampler does, leaving out excludeID (for when the few-shot source
// is the evaluated split itself). It may return fewer than k.
func (f *FewShot) For(subject string, k int, excludeID string) []Example {
	out := make([]Example, 0, k)
	for _, ex := range f.bySubject[subject] {
		if len(out) == k {
			break
		}
		if ex.ID == excludeID {
			continue
		}
		out = append(out, ex)
	}
	return out
}

// Subjects reports how many examples each subject has.
func (f *FewShot) Subjects() map[string]int {
	m := make(map[string]int, len(f.bySubject))
	for s, exs := range f.bySubject {
		m[s] = len(exs)
	}
	return m
}
