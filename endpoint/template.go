package endpoint

import "bytes"

// The token events of a stream are alike but for a value or two: a
// completions stream's differ in their text and token ID (the id, model
// and created stay the same), a chat stream's in the delta's content. So
// an event read in full (and found simple: one choice, no usage, no
// logprobs) is kept as a template, with where those values sit in it. An
// event that is the template byte for byte outside those values has the
// template's structure and members: only the values are read, and checked
// as the full read checks them (a string, an integer). Anything else is
// read in full, and may become the template.
//
// Why that reads an event as the full read would: JSON's grammar does not
// look inside a string or a number, so putting one string literal for
// another, or one integer literal for another followed by the same byte,
// changes nothing else about the document.

type spanKind uint8

const (
	spanText  spanKind = iota + 1 // choices[0].text, or choices[0].delta.content: a string
	spanToken                     // choices[0].token: an integer
)

// span is where a value sits in an event: [start, end).
type span struct {
	kind       spanKind
	start, end int
}

// eventTemplate is the last simple event read in full.
type eventTemplate struct {
	data  []byte
	spans [2]span
	n     int // spans in use; 0: no template
	chat  bool
	comp  completionStreamChoice // its choice, decoded
	chatc chatStreamChoice
	hits  int // events read from the template (for tests)
}

// valueStart skips the space before the next value and returns where it
// starts.
func (s *scanner) valueStart() int {
	s.peek()
	return s.i
}

// note records that the value of the first choice from start to here is
// of kind, if it is of the shape a template can take (a string for text,
// a number for a token).
func (s *scanner) note(kind spanKind, start int) {
	if s.elem != 0 || s.nspans == len(s.spans) || start >= len(s.data) {
		return
	}
	switch c := s.data[start]; {
	case kind == spanText && c == '"':
	case kind == spanToken && (c == '-' || '0' <= c && c <= '9'):
	default:
		return
	}
	s.spans[s.nspans] = span{kind, start, s.i}
	s.nspans++
}

// learnCompletion keeps data, just read in full into w, as the template if
// it is simple.
func (s *scanner) learnCompletion(data []byte, w *completionChunkWire) {
	if w.Event != "" || w.Text != "" || w.Token.has || w.Token.list != nil || w.Usage != nil || len(w.Choices) != 1 {
		return
	}
	c := &w.Choices[0]
	if c.Tokens != nil || c.Token.list != nil || c.Logprobs != nil {
		return
	}
	s.learn(data, false)
	s.tmpl.comp = *c
}

func (s *scanner) learnChat(data []byte, w *chatChunkWire) {
	if w.Usage != nil || len(w.Choices) != 1 {
		return
	}
	c := &w.Choices[0]
	if c.Logprobs != nil || c.Delta.ToolCalls != nil {
		return
	}
	s.learn(data, true)
	s.tmpl.chatc = *c
}

func (s *scanner) learn(data []byte, chat bool) {
	t := &s.tmpl
	t.n = 0
	if s.nspans == 0 {
		return
	}
	t.data = append(t.data[:0], data...)
	t.spans, t.n, t.chat = s.spans, s.nspans, chat
}

// templated is what an event read through the template holds.
type templated struct {
	text     []byte // unescaped into s.esc: valid until the next string
	token    int
	hasText  bool
	hasToken bool
}

// fromTemplate reads data through the template, if it matches.
func (s *scanner) fromTemplate(data []byte, chat bool) (v templated, ok bool) {
	t := &s.tmpl
	if t.n == 0 || t.chat != chat {
		return v, false
	}
	pos := t.spans[0].start
	if len(data) < pos || !bytes.Equal(data[:pos], t.data[:pos]) {
		return v, false
	}
	for k, sp := range t.spans[:t.n] {
		if k > 0 {
			gap := t.data[t.spans[k-1].end:sp.start]
			if !bytes.HasPrefix(data[pos:], gap) {
				return v, false
			}
			pos += len(gap)
		}
		switch sp.kind {
		case spanText:
			if pos >= len(data) || data[pos] != '"' {
				return v, false
			}
			s.reset(data)
			s.i = pos
			b, _, ok := s.str()
			if !ok {
				return v, false
			}
			v.text, v.hasText, pos = b, true, s.i
		case spanToken:
			n := numberEnd(data[pos:])
			if n <= 0 {
				return v, false
			}
			id, ok := intLiteral(data[pos : pos+n])
			if !ok || int64(int(id)) != id {
				return v, false
			}
			v.token, v.hasToken, pos = int(id), true, pos+n
		}
	}
	if !bytes.Equal(data[pos:], t.data[t.spans[t.n-1].end:]) {
		return v, false
	}
	t.hits++
	return v, true
}

// completionFromTemplate fills w from data through the template, if it
// matches.
func (s *scanner) completionFromTemplate(data []byte, w *completionChunkWire) bool {
	v, ok := s.fromTemplate(data, false)
	if !ok {
		return false
	}
	c := s.tmpl.comp
	if v.hasText {
		c.Text = string(v.text)
	}
	if v.hasToken {
		c.Token = tokenIDs{one: v.token, has: true}
	}
	w.Choices = append(w.Choices[:0], c)
	return true
}

func (s *scanner) chatFromTemplate(data []byte, w *chatChunkWire) bool {
	v, ok := s.fromTemplate(data, true)
	if !ok {
		return false
	}
	c := s.tmpl.chatc
	if v.hasText {
		c.Delta.Content = string(v.text)
	}
	w.Choices = append(w.Choices[:0], c)
	return true
}
