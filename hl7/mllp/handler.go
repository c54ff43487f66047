package mllp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
)

// Handler answers the messages a Server receives.
//
// ServeMLLP is called once per frame, in order, for each connection; the next
// frame on the same connection is not read until it returns and its answer is
// written. Calls for different connections run concurrently.
//
// msg is the frame payload. It is valid only until ServeMLLP returns and must
// not be modified; copy it to retain it.
//
// The returned bytes (the ACK) are framed and written back; nil means write
// nothing. A non-nil error means the message could not be answered (for
// example the store is down): the Server logs the error (so it must not carry
// PHI), writes nothing and closes the connection, so the sender sees no ACK
// and resends. A panic is recovered and treated the same way. Per the
// radbridge ACK rules, return an ACK only after the message is durably
// committed.
//
// ctx is cancelled when the connection ends or Server.Close is called; it is
// not cancelled by Server.Shutdown, which lets in-flight messages finish.
type Handler interface {
	ServeMLLP(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error)
}

// HandlerFunc adapts an ordinary function to a Handler.
type HandlerFunc func(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error)

var _ Handler = HandlerFunc(nil)

// ServeMLLP calls f(ctx, msg, info).
func (f HandlerFunc) ServeMLLP(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error) {
	return f(ctx, msg, info)
}

// OversizeHandler is implemented by a Handler that answers frames whose
// payload exceeds Server.MaxMessageSize, typically with an AR ACK that says
// the message is too large.
//
// The Server discards an oversized frame without buffering it whole and then
// calls ServeMLLPOversize with the first bytes of the payload (head, at most
// 4 KiB, enough for the MSH segment and its control id) and the full payload
// size. The answer and error are treated as for ServeMLLP; after a nil error
// the connection stays open for the next frame. head follows the same
// lifetime rule as msg in ServeMLLP.
//
// If the Handler does not implement OversizeHandler, the Server closes the
// connection after discarding the frame, so the sender is not left waiting
// for an ACK that will never come.
type OversizeHandler interface {
	ServeMLLPOversize(ctx context.Context, head []byte, size int64, info ConnInfo) ([]byte, error)
}

// ConnInfo describes the connection a message arrived on. It carries no
// payload data and is safe to log.
type ConnInfo struct {
	// ID identifies the connection within its Server, starting at 1.
	ID uint64
	// RemoteAddr is the peer's address.
	RemoteAddr net.Addr
	// LocalAddr is the address the connection was accepted on.
	LocalAddr net.Addr
	// PeerSubject is the subject distinguished name of the client
	// certificate, set only when the certificate chain was verified (mTLS
	// with ClientAuth VerifyClientCertIfGiven or RequireAndVerifyClientCert).
	// Empty for plain TCP or when no verified certificate was presented.
	PeerSubject string
	// PeerCertificate is the verified client certificate (the leaf of the first
	// verified chain), set exactly when PeerSubject is. It must not be modified.
	PeerCertificate *x509.Certificate
	// TLS is the state of the TLS connection after the handshake; nil for
	// plain TCP. It must not be modified.
	TLS *tls.ConnectionState
}
