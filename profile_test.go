package main

import (
	"os"
	"path/filepath"
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
