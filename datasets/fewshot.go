package datasets

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FewShot holds a few-shot source (such as MMLU's dev split) in memory; it
// is small by nature.
type FewShot struct {
	bySubject map[string][]shot
	files     []os.FileInfo // the resolved few-shot files, for os.SameFile

	mu    sync.Mutex
	fileI map[string]int // an evaluated file's index in files, or -1
}

// shot is a few-shot example and where it came from.
type shot struct {
	ex   Example
	file int // index in FewShot.files
	row  int
}

// LoadFewShot reads a whole few-shot source. Every record must be valid,
// whatever opts.OnInvalid says: skipping a bad shot would silently shift
// every prompt of its subject.
func LoadFewShot(ctx context.Context, paths []string, opts Options) (*FewShot, error) {
	opts.OnInvalid = Fail
	r, err := Open(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := &FewShot{bySubject: map[string][]shot{}, fileI: map[string]int{}}
	byName := map[string]int{}
	for _, p := range r.files {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		byName[displayName(p)] = len(f.files)
		f.files = append(f.files, st)
	}
	for {
		ex, err := r.Next()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		ex.Fields = nil // templates see the evaluated example's fields, not the shots'
		f.bySubject[ex.Subject] = append(f.bySubject[ex.Subject], shot{ex: ex, file: byName[ex.Source.File], row: ex.Source.Row})
	}
}

// ForExample returns the first k examples of ex's subject in file order, as
// lm-eval's first_n sampler does. When ex is itself one of the shots (the
// few-shot source is, or includes, the evaluated file) that shot is left
// out and the next one taken, as lm-eval does when the few-shot split is
// the test split. Whether it is the same record is decided by the file
// (os.SameFile, so another path to the same file counts) and the row, never
// by ID: "<file stem>:<row>" IDs of test/x.csv and dev/x.csv are equal. It
// may return fewer than k.
func (f *FewShot) ForExample(ex *Example, k int) []Example {
	self := f.fileOf(ex.Source.File)
	out := make([]Example, 0, k)
	for _, s := range f.bySubject[ex.Subject] {
		if len(out) == k {
			break
		}
		if self >= 0 && s.file == self && s.row == ex.Source.Row {
			continue
		}
		out = append(out, s.ex)
	}
	return out
}

// fileOf returns the index of the few-shot file that is the file name
// (as Example.Source.File gives it), or -1.
func (f *FewShot) fileOf(name string) int {
	if name == "" {
		return -1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.fileI[name]; ok {
		return i
	}
	i := -1
	if st, err := os.Stat(filepath.FromSlash(name)); err == nil {
		for j, fi := range f.files {
			if os.SameFile(st, fi) {
				i = j
				break
			}
		}
	}
	f.fileI[name] = i
	return i
}

// Subjects reports how many examples each subject has.
func (f *FewShot) Subjects() map[string]int {
	m := make(map[string]int, len(f.bySubject))
	for s, exs := range f.bySubject {
		m[s] = len(exs)
	}
	return m
}
