package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server answers the Friendli inference API from a deterministic model.
// It is an http.Handler; Start runs one on a loopback port.
type Server struct {
	cfg   Config
	seed  uint64
	tok   *Tokenizer
	lm    *lm
	stats *counters
	slots *slots

	routes    map[string]route
	endpoints map[string]uint64 // endpoint ID -> base model key
	adapters  map[string]bool
	models    map[string]uint64 // serverless code -> model key

	lead     lead          // how early timers fire (see lead)
	faultSeq atomic.Uint64 // requests subject to faults, in arrival order
	replySeq atomic.Uint64 // ids and unseeded draws
	bufs     sync.Pool
}

type family int

const (
	dedicated family = iota
	serverless
	container
)

type op int

const (
	opHealth op = iota
	opMetrics
	opCompletions
	opChat
	opToolsChat
	opTokenize
	opDetokenize
	opRender
)

type route struct {
	path   string
	family family
	op     op
}

// maxBody bounds a request body.
const maxBody = 32 << 20

// New checks cfg, fills its defaults and builds a Server.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		seed:      mix(uint64(cfg.Seed)),
		tok:       NewTokenizer(),
		stats:     newCounters(),
		routes:    map[string]route{},
		endpoints: map[string]uint64{},
		adapters:  map[string]bool{},
		models:    map[string]uint64{},
	}
	s.lm = newLM(s.tok, s.seed)
	s.slots = newSlots(cfg.Capacity, s.stats)
	for _, e := range cfg.Endpoints {
		s.endpoints[e] = hashString(s.seed^saltModel, "endpoint\x00"+e)
	}
	for _, a := range cfg.Adapters {
		s.adapters[a] = true
	}
	for _, m := range cfg.Models {
		s.models[m] = hashString(s.seed^saltModel, "serverless\x00"+m)
	}
	add := func(path string, f family, o op) { s.routes[path] = route{path, f, o} }
	add("/health", container, opHealth)
	add("/metrics", container, opMetrics)
	for _, p := range []struct {
		prefix string
		f      family
	}{{"/dedicated/v1", dedicated}, {"/serverless/v1", serverless}, {"/v1", container}} {
		add(p.prefix+"/completions", p.f, opCompletions)
		add(p.prefix+"/chat/completions", p.f, opChat)
		add(p.prefix+"/tokenize", p.f, opTokenize)
		add(p.prefix+"/detokenize", p.f, opDetokenize)
		if p.f != container {
			add(p.prefix+"/chat/render", p.f, opRender)
		}
	}
	add("/serverless/tools/v1/chat/completions", serverless, opToolsChat)
	s.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	return s, nil
}

// Config returns the settings in use, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Tokenizer returns the server's tokenizer.
func (s *Server) Tokenizer() *Tokenizer { return s.tok }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	s.stats.enter()
	defer s.stats.leave()
	rt, ok := s.routes[r.URL.Path]
	if !ok {
		s.fail(w, "other", errorf(http.StatusNotFound, "no route for %s %s", r.Method, r.URL.Path))
		return
	}
	switch rt.op {
	case opHealth, opMetrics:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.fail(w, rt.path, errorf(http.StatusMethodNotAllowed, "%s %s: method not allowed", r.Method, r.URL.Path))
			return
		}
		if rt.op == opHealth {
			s.reply(w, rt.path, http.StatusOK, "application/json", []byte(`{"status":"ok"}`))
			return
		}
		s.reply(w, rt.path, http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", s.appendMetrics(nil))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.fail(w, rt.path, errorf(http.StatusMethodNotAllowed, "%s %s: method not allowed", r.Method, r.URL.Path))
		return
	}
	if s.cfg.Token != "" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="simulator"`)
		s.fail(w, rt.path, errorf(http.StatusUnauthorized, "missing or invalid bearer token in the Authorization header"))
		return
	}
	f := s.decideFault(rt.op)
	if f.early(s, w, rt.path) {
		return
	}
	body, apiErr := readBody(w, r)
	if apiErr != nil {
		s.fail(w, rt.path, apiErr)
		return
	}
	switch rt.op {
	case opCompletions:
		s.completions(w, r, rt, f, body, arrived)
	case opChat, opToolsChat:
		s.chat(w, r, rt, f, body, arrived)
	case opTokenize:
		s.tokenize(w, r, rt, body)
	case opDetokenize:
		s.detokenize(w, r, rt, body)
	case opRender:
		s.render(w, rt, body)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.Token)) == 1
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, maxBody), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", maxBody)
		}
		return nil, errorf(http.StatusBadRequest, "reading request body: %v", err)
	}
	return body, nil
}

// readAll is io.ReadAll with the buffer sized from the declared length up
// front: io.ReadAll starts at 512 bytes and grows through chunks, which
// showed in the profile of every request. The declared length is only a
// hint (-1 for a chunked body), capped so that a false one costs little.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	size := 512
	if declared > 0 {
		size = int(min(declared, 1<<20)) + 1 // + 1: room to read the EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// decode parses a JSON body into v, turning decoding failures into 422s
// that name the field.
func decode(body []byte, v any) *apiError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return errorf(http.StatusUnprocessableEntity, "request body is empty; a JSON object is required")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return errorf(http.StatusUnprocessableEntity, "request body must be a JSON object, got %s", te.Value)
		}
		return invalid(field, "expected %s, got %s", typeName(te.Type.String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errorf(http.StatusUnprocessableEntity, "request body is not valid JSON at byte %d: %v", se.Offset, err)
	}
	return errorf(http.StatusUnprocessableEntity, "request body: %v", err)
}

func typeName(goType string) string {
	switch strings.TrimLeft(goType, "*[]") {
	case "int":
		if strings.Contains(goType, "[]") {
			return "a list of integers"
		}
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "string":
		if strings.Contains(goType, "[]") {
			return "a list of strings"
		}
		return "a string"
	}
	return "another type"
}

// resolve maps the request's model field to a model. name is what replies
// report as "model" (the endpoint ID for dedicated endpoints, per the API
// notes), or "" to leave it out.
func (s *Server) resolve(f family, field *string) (m model, name string, e *apiError) {
	v := ""
	if field != nil {
		v = *field
	}
	switch f {
	case serverless:
		if v == "" {
			return m, "", invalid("model", "required: a serverless model code")
		}
		key, ok := s.models[v]
		if !ok {
			return m, "", errorf(http.StatusNotFound, "model %q is not found; serverless models: %s", v, strings.Join(s.cfg.Models, ", "))
		}
		return model{base: key}, v, nil
	case dedicated:
		if v == "" {
			return m, "", invalid("model", "required: ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE")
		}
		ep, ad, hasAdapter := strings.Cut(v, ":")
		key, ok := s.endpoints[ep]
		if !ok {
			return m, "", errorf(http.StatusNotFound, "endpoint %q is not found; this may be due to an invalid model name or endpoint ID", ep)
		}
		m = model{base: key}
		if hasAdapter {
			if !s.adapters[ad] {
				return m, "", errorf(http.StatusNotFound, "adapter route %q is not found on endpoint %q", ad, ep)
			}
			m.adapter = s.adapterKey(ep, ad)
		}
		return m, ep, nil
	}
	// Container: the model field is optional and routes to an adapter.
	ep := s.cfg.Endpoints[0]
	m = model{base: s.endpoints[ep]}
	if v == "" {
		return m, "", nil
	}
	if _, ok := s.endpoints[v]; ok {
		return model{base: s.endpoints[v]}, v, nil
	}
	if e, ad, ok := strings.Cut(v, ":"); ok {
		key, known := s.endpoints[e]
		if !known || !s.adapters[ad] {
			return m, "", errorf(http.StatusNotFound, "model %q is not found", v)
		}
		return model{base: key, adapter: s.adapterKey(e, ad)}, v, nil
	}
	if !s.adapters[v] {
		return m, "", errorf(http.StatusNotFound, "adapter %q is not found; adapters: %s", v, strings.Join(s.cfg.Adapters, ", "))
	}
	m.adapter = s.adapterKey(ep, v)
	return m, v, nil
}

func (s *Server) adapterKey(endpoint, adapter string) uint64 {
	return hashString(s.seed^saltModel, "adapter\x00"+endpoint+"\x00"+adapter) | 1
}

// reply writes a complete response and records its status.
func (s *Server) reply(w http.ResponseWriter, path string, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
	s.stats.reply(path, status)
}

func (s *Server) fail(w http.ResponseWriter, path string, e *apiError) {
	s.reply(w, path, e.status, "application/json", appendError(nil, s.cfg.Quirks.ErrorShape, e))
}

func (s *Server) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		*b = (*b)[:0]
		s.bufs.Put(b)
	}
}

// nextID returns a reply's sequence number; ids and unseeded draws hash it.
func (s *Server) nextID() uint64 { return s.replySeq.Add(1) }

// replyID is prefix and 32 hex digits, written by hand: fmt's reflection
// showed in the profile of every request.
func (s *Server) replyID(prefix string, n uint64) string {
	a, b := mix(s.seed^saltID^n), mix(s.seed^saltID^n^0xFFFF)
	id := append(make([]byte, 0, 64), prefix...) // on the stack for the prefixes in use
	for _, v := range [2]uint64{a, b} {
		for shift := 60; shift >= 0; shift -= 4 {
			id = append(id, hexDigits[v>>shift&0xF])
		}
	}
	return string(id)
}

func unixNow() int64 { return time.Now().Unix() }
