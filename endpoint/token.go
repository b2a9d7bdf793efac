package endpoint

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// maxTokenFile bounds what LoadToken reads: a token is well under 1 KiB, so a
// bigger file is the wrong file, and reading all of it would be pointless.
const maxTokenFile = 64 << 10

// LoadToken returns the token from file when file != "" (trimmed), else env
// (trimmed). An unreadable or empty file is an error naming the file, never
// its content. With neither set it returns "" and no error: New decides
// whether a token is required (loopback servers need none).
func LoadToken(env, file string) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("endpoint: token file: %w", err)
		}
		defer f.Close()
		buf, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
		if err != nil {
			return "", fmt.Errorf("endpoint: token file %q: %w", file, err)
		}
		if len(buf) > maxTokenFile {
			return "", fmt.Errorf("endpoint: token file %q: larger than %d KiB, not a token", file, maxTokenFile>>10)
		}
		tok := strings.TrimSpace(string(buf))
		if tok == "" {
			return "", fmt.Errorf("endpoint: token file %q is empty", file)
		}
		if err := checkToken(tok); err != nil {
			return "", fmt.Errorf("endpoint: token file %q: %w", file, err)
		}
		return tok, nil
	}
	tok := strings.TrimSpace(env)
	if tok == "" {
		return "", nil
	}
	if err := checkToken(tok); err != nil {
		return "", fmt.Errorf("endpoint: token from the environment: %w", err)
	}
	return tok, nil
}

// CheckToken reports whether tok can be sent as a bearer token, without
// quoting it.
func CheckToken(tok string) error {
	if err := checkToken(tok); err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	return nil
}

// checkToken rejects what cannot be a bearer token. The message never quotes
// the token: a file holding two lines may hold a secret on each. Only
// characters that JSON and URL encoders leave alone (bar '/' and '+',
// whose escaped forms the scrubber knows) are accepted, so a token a
// server echoes back is always recognised and removed.
func checkToken(tok string) error {
	for _, r := range tok {
		if !tokenChar(r) {
			return fmt.Errorf("the token holds whitespace or characters other than letters, digits and -._~+/=: (more than one line?)")
		}
	}
	return nil
}

func tokenChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=:", r)
}

// scrubber removes a token from strings that may end up in errors: a server
// that echoes the Authorization header into its error body must not leak it
// through us.
type scrubber struct {
	token   string
	escaped string // the token as JSON encoders that escape '/' write it
	query   string // the token percent-encoded, as in a redirect's URL
}

func newScrubber(token string) scrubber {
	s := scrubber{token: token}
	if strings.Contains(token, "/") {
		s.escaped = strings.ReplaceAll(token, "/", `\/`)
	}
	if q := url.QueryEscape(token); q != token {
		s.query = q
	}
	return s
}

const redacted = "[REDACTED]"

// bytes scrubs server bytes before anything cuts them: a token cut in two
// by a truncation would no longer match, and its first half would leak.
func (s scrubber) bytes(b []byte) []byte {
	if s.token == "" || !(bytes.Contains(b, []byte(s.token)) ||
		s.escaped != "" && bytes.Contains(b, []byte(s.escaped)) || s.query != "" && bytes.Contains(b, []byte(s.query))) {
		return b
	}
	return []byte(s.scrub(string(b)))
}

func (s scrubber) scrub(str string) string {
	if s.token == "" {
		return str
	}
	if strings.Contains(str, s.token) {
		str = strings.ReplaceAll(str, s.token, redacted)
	}
	if s.escaped != "" && strings.Contains(str, s.escaped) {
		str = strings.ReplaceAll(str, s.escaped, redacted)
	}
	if s.query != "" && strings.Contains(str, s.query) {
		str = strings.ReplaceAll(str, s.query, redacted)
	}
	return str
}
