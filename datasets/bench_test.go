package datasets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkReadMMLUCSV reads the full MMLU test split (14,042 rows, 57 files).
func BenchmarkReadMMLUCSV(b *testing.B) {
	needShared(b)
	path := filepath.Join(sharedData, "mmlu", "test")
	rows := 0
	for b.Loop() {
		r, err := Open(b.Context(), []string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		r.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkStreamMemory streams generated JSONL of growing size and reports
// the heap in use at the end of each read: it should stay flat as the file
// grows 10x (only the 8-byte-per-row ID hashes grow).
func BenchmarkStreamMemory(b *testing.B) {
	for _, rows := range []int{20000, 200000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "big.jsonl")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < rows; i++ {
				fmt.Fprintf(f, `{"question":"question %d with some words in it to be realistic","subject":"s%d","choices":["alpha","beta","gamma","delta"],"answer":%d}`+"\n", i, i%57, i%4)
			}
			f.Close()
			var peak uint64
			for b.Loop() {
				r, err := Open(b.Context(), []string{path}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := r.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				r.Close()
			}
			b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
		})
	}
}
