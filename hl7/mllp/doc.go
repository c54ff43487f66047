// Package mllp implements the Minimal Lower Layer Protocol used to carry
// HL7 v2 messages over TCP: framing (Reader, AppendFrame), a Server modelled
// on net/http.Server, and a Client.
//
// The protocol is specified in "HL7 Version 2.x Implementation Guide:
// Transport Specification, MLLP, Release 2" and in Appendix C ("Lower Layer
// Protocols", C.4 MLLP) of HL7 v2.5.1. A message travels as one block:
//
//	<VT 0x0B> payload <FS 0x1C><CR 0x0D>
//
// and the receiver answers each block with one block holding the
// acknowledgement. This package knows bytes, not HL7: the Handler builds the
// ACK and the Client's CheckAck hook judges it, both supplied by callers that
// understand HL7 (package hl7). It imports no other radbridge package.
//
// # Robustness
//
// The Reader accepts what real senders produce: junk between frames is
// skipped and counted, the CR after FS is optional, a VT inside a frame
// restarts the frame, and frames over the size cap (16 MiB by default) are
// discarded without being buffered whole. The Server then asks the Handler
// for an answer through the optional OversizeHandler interface (typically an
// AR ACK) and keeps the connection; without it the connection is closed so
// the sender does not wait forever. Every connection has an idle timeout, a
// per-frame read timeout (a peer stalling mid-frame is disconnected) and a
// write timeout; the Server caps connections in all and per remote address.
//
// # Memory
//
// A connection reads through a 32 KiB buffer, and a frame that fits in it is
// handed over without copying. A longer frame is assembled in a buffer that
// doubles as it grows and goes back to the Server once the frame is
// answered, to be reused by a later frame on any connection, so an idle
// connection holds 32 KiB whatever it received before. The growth of all
// frames in progress is drawn from one Server-wide budget
// (Server.FrameBudget); a connection whose frame would exceed it is closed
// without an answer and the sender resends later. Memory held by frames
// being read is therefore bounded by FrameBudget plus 64 KiB per connection
// reading a frame (and the buffers kept for reuse, at most MaxMessageSize),
// however many peers send large or unterminated frames.
//
// # Ordering and delivery
//
// The Server handles one frame at a time per connection, in order, and writes
// its answer before reading the next frame; pipelined frames wait in the read
// buffer and are answered in order. Different connections are served
// concurrently. Handlers should return the ACK only after the message is
// durably committed. Shutdown lets every message being read or handled finish
// and get its answer written; frames not yet read get no answer and the
// sender resends them.
//
// The Client never resends a message that may have reached the peer: such
// failures wrap ErrNoAck and the caller decides. Delivery is therefore
// at-least-once when callers retry, and receivers must tolerate duplicates
// (radbridge answers a resend with the original ACK).
//
// # Caveats
//
//   - Message bytes passed to a Handler are valid only during the call.
//   - Nothing here logs payload bytes: they hold PHI. FrameTooLargeError.Head
//     holds payload bytes too and must not be logged.
//   - MLLP release 2's optional commit acknowledgement blocks (a bare ACK/NAK
//     byte inside a block) are not interpreted; such blocks are passed to the
//     Handler like any other payload.
//   - The payload must not contain VT or FS bytes; AppendFrame does not check.
//   - Connection liveness checks in the Client peek at the socket and are
//     available on Unix only; elsewhere a connection the peer closed while
//     idle surfaces as ErrNoAck on the next Send.
package mllp
