package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// --cpuprofile writes a profile of the command, whatever the command.
func TestCPUProfileFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	r := evalbench(t, nil, "--cpuprofile", path, "ping", "--base-url", "sim", "--model", "demo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
	if r := evalbench(t, nil, "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir"), "ping", "--base-url", "sim", "--model", "demo"); r.code != exitUsage {
		t.Errorf("unwritable profile: exit %d, want %d: %s", r.code, exitUsage, r.stderr)
	}
}

// run and load collect garbage less often, unless GOGC says how.
func TestRequestsGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	requestsGC(env{getenv: func(string) string { return "" }})
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent %d, want %d", got, gcPercent)
	}
	requestsGC(env{getenv: func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	}})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC set, want it left alone (100)", got)
	}
}
