package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/evalbench/evalbench/endpoint"
)

// errorKind names the kind of a failed request for the per-kind counts:
// "http_<status>" for a reply with an error status, else the way the
// exchange broke. A client-side resource error ("client_fd_limit") is
// named apart so nobody mistakes it for the server's.
func errorKind(err error) string {
	var ae *endpoint.APIError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return "http_" + strconv.Itoa(ae.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.EADDRNOTAVAIL):
		return "client_fd_limit"
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Checked before resets: a stream that dies mid-way is a cut
		// stream, however the connection went.
		return "stream_cut"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF):
		return "connection_reset"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	// The endpoint client reports these without a sentinel error; its
	// messages are stable (see endpoint/stream.go and send.go).
	msg := err.Error()
	switch {
	case strings.Contains(msg, "error mid-stream"):
		return "stream_error"
	case strings.Contains(msg, "decode stream event"):
		return "decode"
	case strings.Contains(msg, "asked for a stream, got a JSON reply"):
		return "not_a_stream"
	case errors.As(err, &ne):
		return "connection"
	}
	return "other"
}
