package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve prints where it listens, answers there, requires --token when
// given one, and stops cleanly on cancel.
func TestServePrintsItsAddressAndNeedsItsToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"evalbench", "serve", "--addr", "127.0.0.1:0", "--token", "sim-secret"},
			env{stdout: pw, stderr: io.Discard, getenv: func(string) string { return "" }})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	url := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "simulator listening on "); ok {
			url = strings.Fields(u)[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		cancel()
		t.Fatalf("serve printed no address (exit %d)", <-done)
	}
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer sim-secret", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodPost, url+"/dedicated/v1/tokenize", strings.NewReader(`{"model":"demo","prompt":"hi"}`))
		req.Header.Set("Content-Type", "application/json")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Authorization %q: status %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after cancel, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

func TestServeTokenFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--token", "a", "--token-file", "x"}, "not both"},
		{[]string{"serve", "--token", "a b"}, "--token: want"},
		{[]string{"serve", "--token", ""}, "--token: want"},
		{[]string{"serve", "--token-file", "/nonexistent/token"}, "token file"},
	} {
		if r := evalbench(t, nil, c.args...); r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "a b") {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
