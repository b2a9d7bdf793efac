package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalbench/evalbench/configs"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/simulator"
)

func TestSimConfigOverridesOnlyWhatIsSet(t *testing.T) {
	def := simulator.DefaultConfig()
	got := simConfig(configs.Simulator{TTFT: 7 * time.Millisecond, Capacity: 3, Rate429: 0.25, ChunkTokens: 4, Adapters: []string{"x"}})
	if got.Latency.TTFT != 7*time.Millisecond || got.Capacity != 3 || got.Faults.Rate429 != 0.25 || got.Quirks.ChunkTokens != 4 || len(got.Adapters) != 1 {
		t.Fatalf("overrides lost: %+v", got)
	}
	if got.Latency.ITL != def.Latency.ITL || got.Seed != def.Seed || got.Faults.RetryAfter != def.Faults.RetryAfter {
		t.Fatalf("unset keys must keep the simulator's defaults: %+v", got)
	}
	if _, err := simulator.New(got); err != nil {
		t.Fatal(err)
	}
}

// FRIENDLI_TOKEN and FRIENDLI_TEAM go to FriendliAI's API only; a token
// file names the token for whatever server --base-url is, team included
// when --team says so.
func TestTokenGoesOnlyWhereItIsMeant(t *testing.T) {
	var mu sync.Mutex
	var auth, team []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		team = append(team, r.Header.Get("X-Friendli-Team"))
		mu.Unlock()
		http.Error(w, `{"detail":"no"}`, http.StatusUnauthorized)
	}))
	defer ts.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("flp_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envs := map[string]string{"FRIENDLI_TOKEN": "flp_from_env", "FRIENDLI_TEAM": "team-env"}
	for _, c := range []struct {
		name       string
		args       []string
		auth, team string
	}{
		{"environment, not Friendli", nil, "", ""},
		{"token file", []string{"--token-file", tokenFile}, "Bearer flp_from_file", ""},
		{"token file and team", []string{"--token-file", tokenFile, "--team", "t1"}, "Bearer flp_from_file", "t1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			auth, team = nil, nil
			mu.Unlock()
			args := append([]string{"ping", "--base-url", ts.URL, "--model", "demo"}, c.args...)
			if r := evalbench(t, envs, args...); r.code == 0 || !strings.Contains(r.stderr, "401") {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(auth) == 0 {
				t.Fatal("no request reached the server")
			}
			for i := range auth {
				if auth[i] != c.auth || team[i] != c.team {
					t.Errorf("request %d: Authorization %q, team %q; want %q, %q", i, auth[i], team[i], c.auth, c.team)
				}
			}
		})
	}
}

// The environment's token and team reach FriendliAI's hosts.
func TestEnvironmentTokenForFriendli(t *testing.T) {
	for _, host := range []string{"api.friendli.ai", "x.friendli.ai", "friendli.ai"} {
		if !endpoint.IsFriendliCloud(host) {
			t.Errorf("%s is FriendliAI's", host)
		}
	}
	for _, host := range []string{"friendli.ai.example.com", "notfriendli.ai", "127.0.0.1", ""} {
		if endpoint.IsFriendliCloud(host) {
			t.Errorf("%s is not FriendliAI's", host)
		}
	}
	// Against the real host nothing is sent here (tests stay on loopback):
	// the missing-token check shows the environment is read for it.
	r := evalbench(t, map[string]string{"FRIENDLI_TOKEN": "a b"}, "ping", "--base-url", "https://api.friendli.ai/dedicated", "--model", "demo")
	if r.code == 0 || !strings.Contains(r.stderr, "token from the environment") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// The embedded simulator brings the Ps a server process would have, and
// gives them back on Close; a GOMAXPROCS in the environment is the user's
// and left alone.
func TestEmbeddedSimulatorProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		name string
		env  map[string]string
		want int
	}{
		{"default", nil, simulator.EmbeddedProcs(before)},
		{"GOMAXPROCS set", map[string]string{"GOMAXPROCS": "1"}, before},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := env{getenv: func(k string) string { return c.env[k] }}
			cn, err := connect(t.Context(), e, connSettings{baseURL: "sim"})
			if err != nil {
				t.Fatal(err)
			}
			got := runtime.GOMAXPROCS(0)
			cn.Close()
			if got != c.want {
				t.Errorf("GOMAXPROCS %d with the simulator running, want %d", got, c.want)
			}
			if after := runtime.GOMAXPROCS(0); after != before {
				t.Errorf("GOMAXPROCS %d after Close, want %d back", after, before)
			}
		})
	}
}
