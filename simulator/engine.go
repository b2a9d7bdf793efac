package simulator

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// job is one generation request on its way out: what to generate, and how
// to write it.
type job struct {
	op           op // opCompletions, opChat or opToolsChat
	path         string
	gr           *genRequest
	seqs         []*seq
	stream       bool
	includeUsage bool
	legacy       bool // legacy completions stream
	chatLogprobs bool
	id           string
	idNum        uint64
	created      int64
	modelName    string
	f            fault
	arrived      time.Time
}

func (s *Server) newJob(o op, path string, gr *genRequest, f fault, modelName string, arrived time.Time) *job {
	n := s.nextID()
	prefix := "cmpl-"
	if o != opCompletions {
		prefix = "chatcmpl-"
	}
	j := &job{op: o, path: path, gr: gr, f: f, modelName: modelName, idNum: n, id: s.replyID(prefix, n), created: unixNow(), arrived: arrived}
	if gr.seeds == nil {
		// No seed given: draw one per choice and report it, as the API does.
		gr.seeds = make([]uint64, gr.n)
		for i := range gr.seeds {
			gr.seeds[i] = mix(s.seed^saltSeed^n<<8^uint64(i)) >> 33
		}
	}
	j.seqs = make([]*seq, gr.n)
	for i := range j.seqs {
		j.seqs[i] = newSeq(s.lm, gr, i)
	}
	return j
}

// run generates and writes a job: wait for capacity (FIFO), then emit tokens
// on the latency schedule, streaming or all at once.
func (s *Server) run(w http.ResponseWriter, r *http.Request, j *job) {
	ctx := r.Context()
	s.stats.promptTokens.Add(int64(len(j.gr.prompt)))
	var rc *http.ResponseController
	if j.stream {
		rc = http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		s.stats.reply(j.path, http.StatusOK)
	}
	taken, waited, err := s.slots.acquire(ctx, j.gr.n)
	if err != nil {
		return
	}
	// Generation starts when the request arrived, or when it got its slot
	// after queueing: the server's own parsing and tokenizing are part of
	// TTFT, as they are on a real server.
	start := j.arrived
	if waited {
		start = time.Now()
	}
	released := false
	release := func() {
		if !released {
			released = true
			s.slots.release(taken)
		}
	}
	defer release()

	var slow time.Duration
	if j.f.slow {
		slow = s.cfg.Faults.SlowDelay
		s.stats.slow.Add(1)
	}
	sched := newSchedule(start, s.cfg.Latency, len(j.gr.prompt), slow, mix(s.seed^j.idNum), &s.lead)
	defer sched.stop()

	if !j.stream {
		steps := 0
		for s.stepAll(j) {
			steps++
		}
		buf := s.getBuf()
		defer s.putBuf(buf)
		if j.op == opCompletions {
			*buf = s.appendCompletionsBody((*buf)[:0], j)
		} else {
			*buf = s.appendChatBody((*buf)[:0], j)
		}
		if sched.wait(ctx, steps-1) != nil {
			return
		}
		release()
		if j.f.cut {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(*buf)))
			w.WriteHeader(http.StatusOK)
			w.Write((*buf)[:len(*buf)/2])
			s.stats.reply(j.path, http.StatusOK)
			s.cut(w)
			return
		}
		s.reply(w, j.path, http.StatusOK, "application/json", *buf)
		sched.written()
		return
	}
	s.streamJob(ctx, w, rc, j, sched, release)
}

// stepAll advances every unfinished sequence by one decoding step and
// reports whether any was still generating.
func (s *Server) stepAll(j *job) bool {
	active := false
	var produced int64
	for _, q := range j.seqs {
		if q.finish == "" {
			active = true
			if q.step() {
				produced++
			}
		}
	}
	s.stats.outputTokens.Add(produced)
	return active
}

// streamJob writes the chunks of a job at their deadlines. The first chunk
// carries the first token alone at TTFT; later chunks carry ChunkTokens
// tokens each and go out at the deadline of their last token. A sequence
// that finishes flushes at once: "length" right after its last token,
// "stop" at the deadline of the step that sampled EOS.
func (s *Server) streamJob(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, j *job, sched *schedule, release func()) {
	c := s.cfg.Quirks.ChunkTokens
	cutAt := -1
	if j.f.cut {
		cutAt = j.f.cutAfter(min(1+(j.gr.maxOut+c-2)/c, 1024))
	}
	sent := 0
	buf := s.getBuf()
	defer s.putBuf(buf)
	write := func(b []byte) bool {
		if len(b) == 0 {
			return true
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	cutNow := func(b []byte) {
		write(b)
		s.cut(w)
	}
	for i := 0; ; i++ {
		active, finishedNow := false, false
		var produced int64
		for _, q := range j.seqs {
			if q.finish != "" {
				continue
			}
			active = true
			if q.step() {
				produced++
			}
			if q.finish != "" {
				finishedNow = true
			}
		}
		s.stats.outputTokens.Add(produced)
		if !active {
			break
		}
		if i != 0 && i%c != 0 && !finishedNow {
			continue
		}
		// Render before waiting, so the chunk leaves right at its deadline.
		b, cutHere := s.appendDue((*buf)[:0], j, &sent, cutAt)
		*buf = b
		if sched.wait(ctx, i) != nil {
			return
		}
		if cutHere {
			cutNow(b)
			return
		}
		if len(b) > 0 {
			if !write(b) {
				return
			}
			sched.written()
		}
	}
	release()
	if cutAt >= 0 {
		// The stream ended before the chosen chunk: cut before the end
		// marker, so a cut stream never looks complete.
		s.cut(w)
		return
	}
	b := (*buf)[:0]
	if j.legacy {
		b = s.appendLegacyComplete(b, j)
	} else {
		if j.includeUsage {
			object := "text_completion"
			if j.op != opCompletions {
				object = "chat.completion.chunk"
			}
			b = s.appendUsageChunk(b, j, object)
		}
		b = append(b, "data: [DONE]\n\n"...)
	}
	*buf = b
	write(b)
}

// appendDue renders the chunks due at this step: each sequence's new
// tokens, and the finish chunk of a sequence that just ended. cutHere
// reports that the stream is to be cut before the next chunk, b holding
// what goes out first.
func (s *Server) appendDue(b []byte, j *job, sent *int, cutAt int) (_ []byte, cutHere bool) {
	for _, q := range j.seqs {
		toks := q.toks[q.sentToks:]
		finishing := q.finish != "" && !q.finishSent
		if len(toks) == 0 && !finishing {
			continue
		}
		text := q.flushText()
		if len(toks) > 0 || (j.op != opCompletions && !q.started) {
			if *sent == cutAt {
				return b, true
			}
			switch {
			case j.legacy:
				for k, t := range toks {
					var part []byte
					if k == len(toks)-1 {
						part = text
					}
					b = appendLegacyToken(b, q.index, t, part)
				}
			case j.op == opCompletions:
				b = s.appendCompletionChunk(b, j, q, text)
			default:
				b = s.appendChatChunk(b, j, q, text, !q.started)
			}
			text = nil
			q.started = true
			q.sentToks = len(q.toks)
			*sent++
			if !j.legacy {
				q.clearPending()
			}
		}
		if finishing {
			q.finishSent = true
			if j.legacy {
				continue // the "complete" event carries the rest
			}
			if *sent == cutAt {
				return b, true
			}
			if j.op == opCompletions {
				b = s.appendCompletionFinish(b, j, q, text)
			} else {
				b = s.appendChatFinish(b, j, q, text)
			}
			*sent++
		}
	}
	return b, false
}
