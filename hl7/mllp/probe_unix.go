//go:build unix

package mllp

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// connProbe tells whether a kept client connection can carry a new exchange.
// It is created once per connection so that probing does not allocate.
type connProbe struct {
	raw   syscall.RawConn
	stale bool
	buf   [1]byte
	peekf func(fd uintptr) bool
}

func newConnProbe(conn net.Conn) *connProbe {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &connProbe{raw: raw}
	p.peekf = p.peek
	return p
}

// isStale reports whether the connection must not be used: the peer closed or
// reset it, or it holds bytes nobody asked for (for TLS, any pending record,
// which may be a close_notify). It peeks at the socket without blocking and
// without consuming anything. A nil probe cannot tell and reports false.
func (p *connProbe) isStale() bool {
	if p == nil {
		return false // a dead connection then surfaces as ErrNoAck
	}
	p.stale = true
	if err := p.raw.Read(p.peekf); err != nil {
		return true
	}
	return p.stale
}

func (p *connProbe) peek(fd uintptr) bool {
	for {
		// Any outcome but "would block" is stale: n == 0 is EOF, n > 0
		// unsolicited bytes, an error a reset.
		_, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		p.stale = !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK)
		return true // never wait for readability
	}
}
