package endpoint

// A load test decodes thousands of stream events a second, and
// encoding/json spends most of that time in reflection. The common event
// shapes are therefore read by a scanner (scanner.go) straight into the
// same wire structs the strict decoder fills, so the code that turns them
// into chunks cannot tell the two apart; the members an event carries but
// no chunk needs (id, object, model, created) are stepped over, checked but
// not built. Whatever is off the common path (a value of another type,
// logprobs, tool calls, an error field, a key that matches one of ours
// only without regard to case, a repeated key, invalid UTF-8, an escaped
// surrogate outside a pair, a number encoding/json refuses) makes the fast
// path decline, and the strict decoder decodes the event and gives its
// answer or its error. A fuzz test holds the two to the same chunks.

var (
	completionKeys       = keys("event", "index", "text", "token", "choices", "usage", "error")
	completionChoiceKeys = keys("index", "text", "token", "tokens", "finish_reason", "logprobs")
	chatKeys             = keys("choices", "usage", "error")
	chatChoiceKeys       = keys("index", "delta", "finish_reason", "logprobs")
	chatDeltaKeys        = keys("content", "reasoning_content", "reasoning", "tool_calls")
	usageKeys            = keys("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details")
)

// fastCompletion fills w (zero but for its choices' capacity) from a
// completions stream event, or reports false.
func (s *scanner) fastCompletion(data []byte, w *completionChunkWire) bool {
	if s.completionFromTemplate(data, w) {
		return true
	}
	s.reset(data)
	s.nspans = 0
	present, ok := s.object(completionKeys, func(key string) bool {
		switch key {
		case "event":
			return s.string(&w.Event)
		case "index":
			return s.intField(&w.Index)
		case "text":
			return s.string(&w.Text)
		case "token":
			return s.tokenIDs(&w.Token)
		case "choices":
			return scanObjects(s, &w.Choices, completionChoiceKeys, completionChoiceField)
		case "usage":
			return s.usage(&w.Usage)
		}
		return s.null() // error: anything but null is for the strict decoder
	})
	if !present || !ok || !s.end() {
		return false
	}
	s.learnCompletion(data, w)
	return true
}

func completionChoiceField(s *scanner, c *completionStreamChoice, key string) bool {
	switch key {
	case "index":
		return s.intField(&c.Index)
	case "text":
		start := s.valueStart()
		ok := s.string(&c.Text)
		s.note(spanText, start)
		return ok
	case "token":
		start := s.valueStart()
		ok := s.tokenIDs(&c.Token)
		s.note(spanToken, start)
		return ok
	case "tokens":
		l, ok := s.ints()
		c.Tokens = l
		return ok
	case "finish_reason":
		return s.finish(&c.FinishReason)
	}
	return s.null() // logprobs: the strict decoder reads them
}

// fastChat fills w (zero but for its choices' capacity) from a chat stream
// event, or reports false.
func (s *scanner) fastChat(data []byte, w *chatChunkWire) bool {
	if s.chatFromTemplate(data, w) {
		return true
	}
	s.reset(data)
	s.nspans = 0
	present, ok := s.object(chatKeys, func(key string) bool {
		switch key {
		case "choices":
			return scanObjects(s, &w.Choices, chatChoiceKeys, chatChoiceField)
		case "usage":
			return s.usage(&w.Usage)
		}
		return s.null() // error
	})
	if !present || !ok || !s.end() {
		return false
	}
	s.learnChat(data, w)
	return true
}

func chatChoiceField(s *scanner, c *chatStreamChoice, key string) bool {
	switch key {
	case "index":
		return s.intField(&c.Index)
	case "delta":
		_, ok := s.object(chatDeltaKeys, func(key string) bool {
			switch key {
			case "content":
				start := s.valueStart()
				ok := s.string(&c.Delta.Content)
				s.note(spanText, start)
				return ok
			case "reasoning_content":
				return s.string(&c.Delta.ReasoningContent)
			case "reasoning":
				return s.string(&c.Delta.Reasoning)
			}
			// Tool-call deltas are nested and rare: the strict decoder
			// reads them.
			return s.null()
		})
		return ok
	case "finish_reason":
		return s.finish(&c.FinishReason)
	}
	return s.null() // logprobs: the strict decoder reads them
}

// Setters: each reads the next value as encoding/json would into a field
// that starts out zero (null leaves it so), and reports false for a value
// it would not take quietly.

func (s *scanner) string(dst *string) bool {
	if s.null() {
		return true
	}
	b, _, ok := s.str()
	if ok {
		*dst = string(b)
	}
	return ok
}

// finish is string for a finish reason, which takes one of a few values
// in every event (Friendli sends the string "null" with each token).
func (s *scanner) finish(dst *string) bool {
	if s.null() {
		return true
	}
	b, _, ok := s.str()
	if ok {
		*dst = finishString(b)
	}
	return ok
}

// finishString is string(b), without copying the usual values.
func finishString(b []byte) string {
	switch string(b) {
	case "null":
		return "null"
	case "length":
		return "length"
	case "stop":
		return "stop"
	case "tool_calls":
		return "tool_calls"
	}
	return string(b)
}

func (s *scanner) intField(dst *int) bool {
	if s.null() {
		return true
	}
	n, ok := s.int()
	*dst = n
	return ok
}

// ints reads a list of integers: null is nil, [] an empty list.
func (s *scanner) ints() ([]int, bool) {
	out := []int{}
	present, ok := s.each('[', ']', func() bool {
		n, ok := s.int()
		out = append(out, n)
		return ok
	})
	if !present || !ok {
		return nil, ok
	}
	return out, true
}

func (s *scanner) tokenIDs(dst *tokenIDs) bool {
	switch s.peek() {
	case 'n':
		return s.null()
	case '[':
		l, ok := s.ints()
		*dst = tokenIDs{list: l}
		return ok
	}
	n, ok := s.int()
	*dst = tokenIDs{one: n, has: true}
	return ok
}

// usage reads a usage object; null leaves dst nil.
func (s *scanner) usage(dst **Usage) bool {
	if s.null() {
		return true
	}
	u := &Usage{}
	*dst = u
	_, ok := s.object(usageKeys, func(key string) bool {
		switch key {
		case "prompt_tokens":
			return s.intField(&u.PromptTokens)
		case "completion_tokens":
			return s.intField(&u.CompletionTokens)
		case "total_tokens":
			return s.intField(&u.TotalTokens)
		}
		// prompt_tokens_details is rare, and nested: the strict decoder
		// reads it.
		return s.null()
	})
	return ok
}

// scanObjects appends to dst one element per object of the list that is
// next (null is no list), each read by s.object with field. A null
// element is for the strict decoder.
func scanObjects[T any](s *scanner, dst *[]T, known *keySet, field func(s *scanner, c *T, key string) bool) bool {
	_, ok := s.each('[', ']', func() bool {
		if s.peek() != '{' {
			return false
		}
		*dst = append(*dst, *new(T))
		s.elem = len(*dst) - 1
		c := &(*dst)[len(*dst)-1]
		_, ok := s.object(known, func(key string) bool { return field(s, c, key) })
		return ok
	})
	return ok
}
