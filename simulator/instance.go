package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Instance is a Server listening on a TCP address.
type Instance struct {
	srv    *Server
	hs     *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	stop   func() bool
}

// Start runs a Server for cfg on addr ("" means 127.0.0.1 on a free port).
// It stops when ctx is done or Close is called.
func Start(ctx context.Context, cfg Config, addr string) (*Instance, error) {
	srv, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: listen on %s: %w", addr, err)
	}
	// Handlers see a context cancelled by Close, so open streams end
	// promptly instead of holding shutdown up.
	base, cancel := context.WithCancel(context.Background())
	i := &Instance{
		srv: srv, ln: ln, cancel: cancel, done: make(chan error, 1),
		hs: &http.Server{
			Handler:           srv,
			ReadHeaderTimeout: 30 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return base },
		},
	}
	go func() { i.done <- i.hs.Serve(ln) }()
	// The callback may run before AfterFunc returns (ctx already done), so
	// it must not touch i.stop: it calls shutdown, not Close.
	i.stop = context.AfterFunc(ctx, i.shutdown)
	return i, nil
}

// URL is the base URL, e.g. "http://127.0.0.1:8000".
func (i *Instance) URL() string { return "http://" + i.ln.Addr().String() }

// Server returns the handler, for Stats and its Tokenizer.
func (i *Instance) Server() *Server { return i.srv }

// Close stops the server: handlers are cancelled, connections closed.
// It is safe to call more than once.
func (i *Instance) Close() error {
	i.stop()
	i.shutdown()
	return i.err
}

// shutdown stops serving, once; i.err holds the outcome.
func (i *Instance) shutdown() {
	i.once.Do(func() {
		i.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := i.hs.Shutdown(ctx); err != nil {
			i.hs.Close()
		}
		if err := <-i.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			i.err = fmt.Errorf("simulator: serve: %w", err)
		}
	})
}

// EmbeddedProcs is the GOMAXPROCS for a process that runs an Instance
// beside the client it serves, given the process's default procs. Run as
// two processes, client and server would each have procs; embedded, they
// share one scheduler, and with procs Ps a burst of replies waits for a P
// while the CPUs are not busy (both sides spend a fifth of their time in
// loopback syscalls and wake-ups). Measured on 2 cores, 64 letter requests
// in flight at 20 ms: wall time 1.17× the latency bound with 2 Ps, 1.10×
// with 4, 1.13× with the server in its own process.
func EmbeddedProcs(procs int) int { return 2 * max(procs, 1) }
