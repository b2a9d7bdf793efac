//go:build unix

package endpoint

import (
	"net"
	"syscall"
)

// alive says a pooled connection is still open and quiet. The standard
// Transport learns that a server closed an idle connection from a
// goroutine reading each one; a peek that does not wait learns the same
// when the connection is taken, for one system call.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := true
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EOF (0 bytes, no error) is a closed connection; bytes are a
		// reply nobody asked for; EAGAIN is the quiet open connection.
		open = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true // never wait for readability
	})
	return err == nil && open
}
