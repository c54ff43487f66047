package mllp

import (
	"errors"
	"fmt"
)

// ErrMessageTooLarge is reported for a frame whose payload exceeds the
// configured size cap. The concrete error is a *FrameTooLargeError, which
// matches ErrMessageTooLarge under errors.Is.
var ErrMessageTooLarge = errors.New("mllp: message too large")

// ErrServerClosed is returned by Server.Serve, ListenAndServe and
// ListenAndServeTLS after a call to Server.Shutdown or Server.Close.
var ErrServerClosed = errors.New("mllp: server closed")

// ErrClientClosed is returned by Client.Send after Client.Close.
var ErrClientClosed = errors.New("mllp: client closed")

// ErrNoAck is wrapped by Client.Send when the message was written to the
// connection but no ACK frame was received (timeout, cancellation, peer closed
// or reset the connection, oversized ACK). The peer may or may not have
// received and processed the message: the caller decides whether to resend,
// which makes delivery at-least-once.
var ErrNoAck = errors.New("mllp: no ACK received; the message may have been delivered")

// errFrameBudget is returned by Reader.ReadFrame when the frame being read
// cannot grow its assembly buffer within the Server's FrameBudget. The Server
// closes the connection. A Reader made by NewReader has no budget and never
// returns it.
var errFrameBudget = errors.New("mllp: frame exceeds the server's frame budget")

// FrameTooLargeError describes a frame rejected because its payload exceeds
// the size cap. Reader.ReadFrame returns it after discarding the rest of the
// frame, so the stream stays positioned at the next frame.
type FrameTooLargeError struct {
	// Size is the payload size of the rejected frame in bytes.
	Size int64
	// Limit is the size cap that was exceeded.
	Limit int
	// Head is a copy of the first bytes of the payload (at most 4 KiB, never
	// more than Limit), enough to hold an HL7 MSH segment so that a reject
	// ACK can echo the message control id. It may contain PHI: do not log it.
	Head []byte
}

// Error implements the error interface. It never includes payload bytes.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("mllp: message too large: %d bytes, limit %d", e.Size, e.Limit)
}

// Unwrap returns ErrMessageTooLarge.
func (e *FrameTooLargeError) Unwrap() error { return ErrMessageTooLarge }
