package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
)

// Prompt is the input of one request: Text for completions (and a single
// user message for chat), or Messages for chat.
type Prompt struct {
	Text     string
	Messages []endpoint.Message
	// InputTokens is the prompt's length when known before sending (the
	// calibrated synthetic prompts); 0 otherwise.
	InputTokens int

	// body is the request encoded on first use. Copies of a prompt (the
	// memo's, the synthetic pool's) share it, so a prompt sent again
	// costs no encoding: the request is the same every time.
	body *promptBody
}

type promptBody struct {
	once sync.Once
	req  endpoint.StreamRequest
	err  error
}

// source yields prompts in order, cycling back to the start at the end.
// It is not safe for concurrent use: prompts wraps it in a lock.
type source interface {
	next(ctx context.Context) (Prompt, error)
	close()
}

// Sources small enough are kept in memory after their first pass, so a
// run that cycles through a short prompt file or dataset reads it once,
// not once per pass: re-reading costs a seek and read per pass, charged to
// whichever request triggers it.
const (
	maxCachedPrompts = 4096
	maxCachedBytes   = 8 << 20
)

// memo keeps a source's first pass while it stays under the limits.
type memo struct {
	prompts []Prompt
	bytes   int
	off     bool // over the limits: not kept
	mem     []Prompt
	i       int
}

func (m *memo) keep(p Prompt, size int) {
	if m.off {
		return
	}
	m.prompts = append(m.prompts, p)
	m.bytes += size
	if len(m.prompts) > maxCachedPrompts || m.bytes > maxCachedBytes {
		m.prompts, m.off = nil, true
	}
}

// complete is called at the end of the first pass: from now on the
// prompts come from memory, if they were kept.
func (m *memo) complete() bool {
	if m.off || len(m.prompts) == 0 || m.mem != nil {
		return m.mem != nil
	}
	m.mem, m.prompts = m.prompts, nil
	return true
}

func (m *memo) next() (Prompt, bool) {
	if m.mem == nil {
		return Prompt{}, false
	}
	p := m.mem[m.i%len(m.mem)]
	m.i++
	return p, true
}

// prompts hands out a source's prompts to the requests, which take them
// when they start (so a slow read delays that request, visibly in its
// schedule lag, never the dispatcher). An error is sticky: the prompts
// cannot be read and the run must stop.
type prompts struct {
	mu  sync.Mutex
	src source
	err error
}

func newPrompts(src source) *prompts { return &prompts{src: src} }

func (p *prompts) next(ctx context.Context) (Prompt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return Prompt{}, p.err
	}
	if err := ctx.Err(); err != nil {
		return Prompt{}, err
	}
	pr, err := p.src.next(ctx)
	if err != nil && ctx.Err() == nil {
		p.err = err
	}
	return pr, err
}

func (p *prompts) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.src.close()
}

// RenderQuestion is the dataset prompt: the question, one lettered choice
// per line, and "Answer:".
func RenderQuestion(ex *datasets.Example) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(ex.Question))
	b.WriteByte('\n')
	for i, c := range ex.Choices {
		label := string(rune('A' + i))
		if i < len(ex.Labels) && ex.Labels[i] != "" {
			label = ex.Labels[i]
		}
		b.WriteString(label)
		b.WriteString(". ")
		b.WriteString(strings.TrimSpace(c))
		b.WriteByte('\n')
	}
	b.WriteString("Answer:")
	return b.String()
}

// datasetSource renders examples of a dataset, reopening it at the end.
type datasetSource struct {
	paths []string
	opts  datasets.Options
	chat  bool
	r     *datasets.Reader
	n     int // examples read in the current pass
	memo  memo
}

func openDataset(ctx context.Context, paths []string, opts datasets.Options, chat bool) (*datasetSource, error) {
	r, err := datasets.Open(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	return &datasetSource{paths: paths, opts: opts, chat: chat, r: r}, nil
}

func (s *datasetSource) next(ctx context.Context) (Prompt, error) {
	if p, ok := s.memo.next(); ok {
		return p, nil
	}
	for range 2 {
		ex, err := s.r.Next()
		if err == nil {
			s.n++
			text := RenderQuestion(&ex)
			p := textPrompt(text, s.chat)
			s.memo.keep(p, len(text))
			return p, nil
		}
		if err != io.EOF {
			return Prompt{}, err
		}
		if s.n == 0 {
			return Prompt{}, fmt.Errorf("loadgen: dataset %s has no examples", strings.Join(s.paths, ", "))
		}
		if s.memo.complete() {
			s.r.Close()
			p, _ := s.memo.next()
			return p, nil
		}
		s.r.Close()
		if s.r, err = datasets.Open(ctx, s.paths, s.opts); err != nil {
			return Prompt{}, err
		}
		s.n = 0
	}
	return Prompt{}, fmt.Errorf("loadgen: dataset %s has no examples", strings.Join(s.paths, ", "))
}

func (s *datasetSource) close() { s.r.Close() }

func textPrompt(text string, chat bool) Prompt {
	if chat {
		return Prompt{Messages: []endpoint.Message{{Role: "user", Content: text}}, body: &promptBody{}}
	}
	return Prompt{Text: text, body: &promptBody{}}
}

// promptsFile reads a JSONL file of {"prompt": "..."} or {"messages":
// [{"role": ..., "content": ...}, ...]} lines, rewinding at the end. Blank
// lines are skipped.
type promptsFile struct {
	path string
	f    *os.File
	r    *bufio.Reader
	line int
	n    int // prompts read in the current pass
	chat bool
	memo memo
}

// openPromptsFile opens path after reading it through once: a bad line is
// an error before the first request, not a step cut short at its line.
// The pass streams, so a file of any size costs no memory.
func openPromptsFile(ctx context.Context, path string, chat bool) (*promptsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: prompts: %w", err)
	}
	s := &promptsFile{path: path, f: f, r: bufio.NewReaderSize(f, 64<<10), chat: chat}
	s.memo.off = true // the check pass must not fill the memo
	for n := 0; ; n++ {
		if _, err := s.read(ctx); err != nil {
			if err == io.EOF && n > 0 {
				break
			}
			f.Close()
			if err == io.EOF {
				return nil, fmt.Errorf("loadgen: %s has no prompts", path)
			}
			return nil, err
		}
	}
	if err := s.rewind(); err != nil {
		f.Close()
		return nil, err
	}
	s.memo = memo{}
	return s, nil
}

type promptLine struct {
	Prompt   *json.RawMessage `json:"prompt"`
	Messages *json.RawMessage `json:"messages"`
}

func (s *promptsFile) next(ctx context.Context) (Prompt, error) {
	if p, ok := s.memo.next(); ok {
		return p, nil
	}
	for range 2 {
		p, err := s.read(ctx)
		if err != io.EOF {
			return p, err
		}
		if s.n == 0 {
			return Prompt{}, fmt.Errorf("loadgen: %s has no prompts", s.path)
		}
		if s.memo.complete() {
			p, _ := s.memo.next()
			return p, nil
		}
		if err := s.rewind(); err != nil {
			return Prompt{}, err
		}
	}
	return Prompt{}, fmt.Errorf("loadgen: %s has no prompts", s.path)
}

func (s *promptsFile) rewind() error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("loadgen: %s: %w", s.path, err)
	}
	s.r.Reset(s.f)
	s.line, s.n = 0, 0
	return nil
}

// read returns the file's next prompt, or io.EOF at its end.
func (s *promptsFile) read(ctx context.Context) (Prompt, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Prompt{}, err
		}
		b, err := s.r.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return Prompt{}, io.EOF
		}
		if err != nil && err != io.EOF {
			return Prompt{}, fmt.Errorf("loadgen: %s:%d: %w", s.path, s.line+1, err)
		}
		s.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		p, perr := s.parse(b)
		if perr != nil {
			return Prompt{}, fmt.Errorf("loadgen: %s:%d: %w", s.path, s.line, perr)
		}
		s.n++
		s.memo.keep(p, len(b))
		return p, nil
	}
}

func (s *promptsFile) parse(b []byte) (Prompt, error) {
	var pl promptLine
	if err := json.Unmarshal(b, &pl); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Prompt{}, fmt.Errorf("not a JSON object")
		}
		return Prompt{}, fmt.Errorf("invalid JSON: %v", err)
	}
	switch {
	case pl.Prompt != nil && pl.Messages != nil:
		return Prompt{}, errors.New(`give "prompt" or "messages", not both`)
	case pl.Prompt != nil:
		var text string
		if err := json.Unmarshal(*pl.Prompt, &text); err != nil {
			return Prompt{}, errors.New(`field "prompt": want a string`)
		}
		if strings.TrimSpace(text) == "" {
			return Prompt{}, errors.New(`field "prompt": empty`)
		}
		return textPrompt(text, s.chat), nil
	case pl.Messages != nil:
		if !s.chat {
			return Prompt{}, errors.New(`field "messages": chat messages need the chat API (--api chat)`)
		}
		var msgs []struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		}
		if err := json.Unmarshal(*pl.Messages, &msgs); err != nil {
			return Prompt{}, errors.New(`field "messages": want a list of {"role": "...", "content": "..."}`)
		}
		if len(msgs) == 0 {
			return Prompt{}, errors.New(`field "messages": empty list`)
		}
		out := make([]endpoint.Message, len(msgs))
		for i, m := range msgs {
			if m.Role == nil || *m.Role == "" {
				return Prompt{}, fmt.Errorf(`field "messages[%d].role": missing`, i)
			}
			if m.Content == nil {
				return Prompt{}, fmt.Errorf(`field "messages[%d].content": missing (want a string)`, i)
			}
			out[i] = endpoint.Message{Role: *m.Role, Content: *m.Content}
		}
		return Prompt{Messages: out, body: &promptBody{}}, nil
	}
	return Prompt{}, errors.New(`no "prompt" or "messages" field`)
}

func (s *promptsFile) close() { s.f.Close() }

// poolSource cycles through prompts held in memory (the synthetic pool:
// a bounded number, whatever the run's length).
type poolSource struct {
	pool []Prompt
	i    int
}

func (s *poolSource) next(ctx context.Context) (Prompt, error) {
	if err := ctx.Err(); err != nil {
		return Prompt{}, err
	}
	p := s.pool[s.i%len(s.pool)]
	s.i++
	return p, nil
}

func (s *poolSource) close() {}
