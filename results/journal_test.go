package results

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func okSample(model, id string) *Sample {
	return &Sample{
		Model: model, ID: id, Subject: "algebra", Gold: 1, NumChoices: 4,
		Status: StatusOK, Method: "letter",
		LogLik:  []float64{-2, -0.5, -3, -4},
		CharLen: []int{1, 1, 1, 1},
		Pred:    1, PredNorm: 1, Acc: true, AccNorm: true,
		Requests: []Request{{Kind: "completions", LatencyMS: 12.5, Attempts: 2, Status: 200, Errors: []int{429}}},
		Start:    time.Unix(100, 0).UTC(), End: time.Unix(101, 0).UTC(),
	}
}

func readAll(t *testing.T, path string) ([]*Sample, JournalInfo) {
	t.Helper()
	var got []*Sample
	info, err := ReadJournal(context.Background(), path, func(s *Sample) error {
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadJournal: %v", err)
	}
	return got, info
}

func TestJournalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := j.Append(okSample("demo", fmt.Sprint("q", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	got, info := readAll(t, path)
	if info.Samples != 3 || info.Torn || len(got) != 3 {
		t.Fatalf("info %+v, %d samples", info, len(got))
	}
	if got[2].ID != "q2" || got[0].Requests[0].Errors[0] != 429 || !got[0].Start.Equal(time.Unix(100, 0)) {
		t.Fatalf("decoded %+v", got[0])
	}
	st, _ := os.Stat(path)
	if info.ValidSize != st.Size() {
		t.Fatalf("ValidSize %d, file %d", info.ValidSize, st.Size())
	}
}

func TestJournalTornTail(t *testing.T) {
	cases := []struct {
		name string
		tail string
	}{
		{"half a line", `{"model":"demo","id":"q9","sta`},
		{"whole object without newline", strings.TrimSuffix(mustLine(okSample("demo", "q9")), "\n")},
		{"garbage after crash", "\x00\x00\x00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), JournalFile)
			good := mustLine(okSample("demo", "q0")) + mustLine(okSample("demo", "q1"))
			if err := os.WriteFile(path, []byte(good+tc.tail), 0o644); err != nil {
				t.Fatal(err)
			}
			got, info := readAll(t, path)
			if !info.Torn || len(got) != 2 || info.ValidSize != int64(len(good)) {
				t.Fatalf("torn=%v samples=%d valid=%d want %d", info.Torn, len(got), info.ValidSize, len(good))
			}
			// Appending after a torn tail must not glue onto it.
			j, err := OpenJournal(path, info.ValidSize)
			if err != nil {
				t.Fatal(err)
			}
			if err := j.Append(okSample("demo", "q9")); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			got, info = readAll(t, path)
			if info.Torn || len(got) != 3 || got[2].ID != "q9" {
				t.Fatalf("after resume: torn=%v n=%d", info.Torn, len(got))
			}
		})
	}
}

func TestJournalDamagedMiddleLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	body := mustLine(okSample("demo", "q0")) + "{not json}\n" + mustLine(okSample("demo", "q2"))
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadJournal(context.Background(), path, func(*Sample) error { return nil })
	if err == nil || !strings.Contains(err.Error(), JournalFile+":2:") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
}

func TestJournalMissingIsEmpty(t *testing.T) {
	got, info := readAll(t, filepath.Join(t.TempDir(), "nope.jsonl"))
	if len(got) != 0 || info.Samples != 0 {
		t.Fatal("missing journal should read as empty")
	}
}

func TestJournalConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := j.Append(okSample("demo", fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(okSample("demo", "late")); err == nil {
		t.Fatal("append after close should fail")
	}
	got, info := readAll(t, path)
	if len(got) != 400 || info.Torn {
		t.Fatalf("got %d samples, torn=%v", len(got), info.Torn)
	}
}

// syncCounter is a journal file that tells the test of every fsync, which
// the file's contents cannot show.
type syncCounter struct {
	*os.File
	syncs chan struct{}
}

func (c *syncCounter) Sync() error {
	err := c.File.Sync()
	c.syncs <- struct{}{}
	return err
}

// A finished sample reaches the file at once (flushed) and the disk within
// SyncInterval (fsynced on the next tick), not only at Close: a crash loses
// at most a second of work.
func TestJournalFsyncsWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	file := &syncCounter{File: f, syncs: make(chan struct{}, 8)}
	tick := make(chan time.Time)
	j := newJournal(file, tick, func() {})
	defer j.Close()
	if err := j.Append(okSample("demo", "q0")); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, path)
	if len(got) != 1 {
		t.Fatalf("appended line not visible to a reader before Close: %d", len(got))
	}
	if len(file.syncs) != 0 {
		t.Fatal("fsync before any tick: Append must not pay for an fsync per line")
	}
	tick <- time.Now()
	select {
	case <-file.syncs:
	case <-time.After(10 * time.Second):
		t.Fatal("no fsync on the tick after an append")
	}
}

// mustLine encodes a sample exactly as Journal.Append writes it.
func mustLine(s *Sample) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}
