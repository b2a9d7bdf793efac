package reports

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeAtomic streams fill into a temporary file beside path, syncs it and
// renames it over path, so readers see the old file or the new one, never a
// torn one. results.WriteFileAtomic needs the whole content in memory; this
// lets samples.parquet stream.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	// CreateTemp makes the file owner-only; a report is meant to be shared.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}
