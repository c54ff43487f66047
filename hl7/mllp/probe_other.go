//go:build !unix

package mllp

import "net"

// connProbe cannot peek at sockets on this platform: a connection the peer
// closed is found dead only by the next exchange, which then fails with
// ErrNoAck instead of reconnecting transparently.
type connProbe struct{}

func newConnProbe(net.Conn) *connProbe { return nil }

func (*connProbe) isStale() bool { return false }
