package datasets

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
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
// the heap in use at the end of each read: it should stay nearly flat as the
// file grows 10x (only the duplicate-ID set grows, about 14 bytes a row).
// BenchmarkReadLarge measures the process's peak RSS instead.
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

// BenchmarkReadLarge reads a generated 1,000,000-row file through the
// public reader, as JSONL and as Parquet (the same rows, in 4 row groups),
// and reports rows/s and peak RSS.
//
// Every read runs in a child process, the test binary re-run as
// TestHelperRead on one file, and the parent reads the child's rusage
// Maxrss. The child reports the rows it read and how long reading took, so
// rows/s leaves out the process start. The peaks for a 100,000-row file and
// a 10-row one (the binary's own footprint) are measured in the same run,
// so RSS-ratio-1M/100k shows how memory grows with the file: what grows is
// the duplicate-ID set, about 14 bytes a row, and the garbage collector's
// headroom over it (GOGC), nothing that holds rows.
//
// On Linux a child's Maxrss also counts the parent's memory resident at the
// fork (exec keeps the high-water mark of the forked image it replaces), so
// the parent must stay small: it writes the files through a child as well
// (TestHelperGenerate) and never reads them itself. peak-RSS-10rows-MB
// bounds what a child can have inherited that way. The files go to a
// temporary directory (about 180 MB for JSONL).
//
//	go test ./datasets -run '^$' -bench ReadLarge -benchtime 1x
func BenchmarkReadLarge(b *testing.B) {
	for _, format := range []string{"jsonl", "parquet"} {
		b.Run(format, func(b *testing.B) {
			dir := b.TempDir()
			tiny := childGenerate(b, dir, format, 10)
			small := childGenerate(b, dir, format, 100_000)
			big := childGenerate(b, dir, format, 1_000_000)
			base := childRead(b, tiny, 10)
			rssSmall := childRead(b, small, 100_000)
			var rows int
			var secs, rssBig float64
			for b.Loop() {
				r := childRead(b, big, 1_000_000)
				rows += 1_000_000
				secs += r.seconds
				rssBig = max(rssBig, r.rssMB)
			}
			b.ReportMetric(float64(rows)/secs, "rows/s")
			b.ReportMetric(rssBig, "peak-RSS-MB")
			b.ReportMetric(rssSmall.rssMB, "peak-RSS-100k-MB")
			b.ReportMetric(base.rssMB, "peak-RSS-10rows-MB")
			b.ReportMetric(rssBig/rssSmall.rssMB, "RSS-ratio-1M/100k")
		})
	}
}

// TestHelperRead is BenchmarkReadLarge's reading child: it reads the file
// named by EVALBENCH_READ_FILE and prints how many examples it read and how
// long that took. It does nothing in a normal test run.
func TestHelperRead(t *testing.T) {
	path := os.Getenv("EVALBENCH_READ_FILE")
	if path == "" {
		t.Skip("helper for BenchmarkReadLarge; runs only as its child process")
	}
	start := time.Now()
	n := readRows(t, path)
	fmt.Printf("evalbench-read-rows=%d seconds=%f\n", n, time.Since(start).Seconds())
}

// TestHelperGenerate is BenchmarkReadLarge's writing child: it writes
// EVALBENCH_GEN_ROWS generated rows to EVALBENCH_GEN_FILE (.jsonl or
// .parquet), so the parent's memory never holds them.
func TestHelperGenerate(t *testing.T) {
	path := os.Getenv("EVALBENCH_GEN_FILE")
	if path == "" {
		t.Skip("helper for BenchmarkReadLarge; runs only as its child process")
	}
	rows, err := strconv.Atoi(os.Getenv("EVALBENCH_GEN_ROWS"))
	if err != nil {
		t.Fatal(err)
	}
	generateRows(t, path, rows)
}

func readRows(tb testing.TB, path string) int {
	r, err := Open(context.Background(), []string{path}, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Next(); err == io.EOF {
			return n
		} else if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

func runHelper(b *testing.B, test string, env ...string) (string, *os.ProcessState) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v\n%s", test, err, out)
	}
	return string(out), cmd.ProcessState
}

func childGenerate(b *testing.B, dir, format string, rows int) string {
	path := filepath.Join(dir, fmt.Sprintf("rows%d.%s", rows, format))
	runHelper(b, "TestHelperGenerate", "EVALBENCH_GEN_FILE="+path, "EVALBENCH_GEN_ROWS="+strconv.Itoa(rows))
	return path
}

type childResult struct{ rssMB, seconds float64 }

// childRead reads path in a child process, checks it read every row, and
// returns its peak RSS in MB and its reading time.
func childRead(b *testing.B, path string, rows int) childResult {
	out, ps := runHelper(b, "TestHelperRead", "EVALBENCH_READ_FILE="+path)
	var res childResult
	var n int
	i := strings.Index(out, "evalbench-read-rows=")
	if i < 0 {
		b.Fatalf("child printed no count:\n%s", out)
	}
	if _, err := fmt.Sscanf(out[i:], "evalbench-read-rows=%d seconds=%f", &n, &res.seconds); err != nil || n != rows {
		b.Fatalf("child read %d rows, want %d (%v):\n%s", n, rows, err, out)
	}
	mb, ok := maxRSSMB(ps)
	if !ok {
		b.Skip("peak RSS is not available on this system")
	}
	res.rssMB = mb
	return res
}

// benchRow is the generated Parquet row, as pyarrow writes cais/mmlu.
type benchRow struct {
	Question string   `json:"question" parquet:"question"`
	Subject  string   `json:"subject" parquet:"subject,dict"`
	Choices  []string `json:"choices" parquet:"choices,list"`
	Answer   int64    `json:"answer" parquet:"answer"`
}

func benchRowAt(i int) benchRow {
	return benchRow{
		Question: fmt.Sprintf("Question %d: which of the following statements about item %d is true?", i, i*7919%100003),
		Subject:  fmt.Sprintf("subject_%d", i%57),
		Choices:  []string{fmt.Sprintf("alpha %d", i), "beta", fmt.Sprintf("gamma %d", i%13), "delta"},
		Answer:   int64(i % 4),
	}
}

// generateRows writes rows generated rows as JSONL or Parquet, by path's
// extension.
func generateRows(b testing.TB, path string, rows int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".jsonl":
		w := bufio.NewWriterSize(f, 1<<20)
		enc := json.NewEncoder(w)
		for i := 0; i < rows; i++ {
			if err := enc.Encode(benchRowAt(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	case ".parquet":
		w := parquet.NewGenericWriter[benchRow](f, parquet.Compression(&zstd.Codec{}))
		group := max(rows/4, 1)
		batch := make([]benchRow, 0, 4096)
		for i := 0; i < rows; i++ {
			batch = append(batch, benchRowAt(i))
			if len(batch) == cap(batch) || i == rows-1 || (i+1)%group == 0 {
				if _, err := w.Write(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			if (i+1)%group == 0 && i+1 < rows {
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	default:
		b.Fatalf("%s: want .jsonl or .parquet", path)
	}
}
