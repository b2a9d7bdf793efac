package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// readerVersion changes when the same bytes start to give other examples.
const readerVersion = 2

// Fingerprint identifies a dataset selection by content: the base name and
// bytes of every resolved file (and PIQA-style label files), plus the layout
// and field options. The same data on another machine, under another
// directory, gives the same fingerprint, so a journal can be resumed there.
//
// readerVersion is part of it: when the reader starts to read the same
// bytes into different examples (CRLF kept inside quoted CSV fields, in
// version 2), a journal written by the old reader must not be resumed as if
// its prompts were the new ones.
func Fingerprint(ctx context.Context, paths []string, opts Options) (string, error) {
	files, err := resolve(paths)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "reader=%d\n", readerVersion)
	fmt.Fprintf(h, "layout=%s\n", opts.Layout)
	keys := make([]string, 0, len(opts.Fields))
	for k := range opts.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "field %s=%s\n", k, opts.Fields[k])
	}
	for _, p := range files {
		all := []string{p}
		if lp := siblingLabels(p); lp != "" {
			all = append(all, lp)
		}
		for _, q := range all {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			if err := hashFile(h, q); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	fmt.Fprintf(w, "file %s %d\n", filepath.Base(path), st.Size())
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("datasets: %s: %w", path, err)
	}
	return nil
}
