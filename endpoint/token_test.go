package endpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "  flp_abc123\n")
	empty := write("empty", " \n\t\n")
	twoLines := write("two", "flp_first\nflp_second\n")
	huge := write("huge", strings.Repeat("x", 70<<10))
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, env, file string
		want            string
		wantErr         string
	}{
		{name: "env", env: " flp_env \n", want: "flp_env"},
		{name: "neither", want: ""},
		{name: "file wins over env", env: "flp_env", file: good, want: "flp_abc123"},
		{name: "file", file: good, want: "flp_abc123"},
		{name: "missing file", env: "flp_env", file: missing, wantErr: "missing"},
		{name: "empty file", file: empty, wantErr: `token file "` + empty + `" is empty`},
		{name: "two lines", file: twoLines, wantErr: "more than one line"},
		{name: "huge file", file: huge, wantErr: "not a token"},
		{name: "directory", file: dir, wantErr: dir},
		{name: "env with inner space", env: "a b", wantErr: "token from the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadToken(tt.env, tt.file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "endpoint: ") {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				for _, secret := range []string{"flp_first", "flp_second", "xxxxxxxx"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows the file's content: %v", err)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
