package mllp

import "sync/atomic"

// Stats is a snapshot of a Server's counters, for metrics and health checks.
// Counters are cumulative since the Server was created, except ConnsOpen.
type Stats struct {
	ConnsOpen     int64  // connections currently open
	ConnsAccepted uint64 // connections accepted and served
	ConnsRefused  uint64 // connections closed at once because MaxConns was reached
	// ConnsRefusedPerAddr counts connections closed at once because their
	// remote address had MaxConnsPerAddr open.
	ConnsRefusedPerAddr uint64
	HandshakeErrors     uint64 // TLS handshakes that failed (including mTLS rejections)
	Frames              uint64 // frames read and passed to the Handler
	BytesIn             uint64 // payload bytes of those frames
	Acks                uint64 // answers written
	BytesOut            uint64 // payload bytes of those answers
	Discarded           uint64 // bytes outside any delivered frame (junk, abandoned frames)
	Oversized           uint64 // frames rejected for exceeding MaxMessageSize
	HandlerErrors       uint64 // Handler calls that returned an error or panicked
	IdleTimeouts        uint64 // connections closed by IdleTimeout
	ReadTimeouts        uint64 // connections closed by ReadTimeout (peer stalled mid-frame)
	// FramesOverBudget counts connections closed because their frame needed
	// more of FrameBudget than was left.
	FramesOverBudget uint64
	// FrameBytes is how many bytes frames being read hold now beyond the
	// first 64 KiB of each: what FrameBudget bounds.
	FrameBytes int64
}

// counters are the live values behind Stats.
type counters struct {
	connsOpen           atomic.Int64
	connsAccepted       atomic.Uint64
	connsRefused        atomic.Uint64
	connsRefusedPerAddr atomic.Uint64
	handshakeErrors     atomic.Uint64
	frames              atomic.Uint64
	bytesIn             atomic.Uint64
	acks                atomic.Uint64
	bytesOut            atomic.Uint64
	discarded           atomic.Uint64
	oversized           atomic.Uint64
	handlerErrors       atomic.Uint64
	idleTimeouts        atomic.Uint64
	readTimeouts        atomic.Uint64
	overBudget          atomic.Uint64
}

// Stats returns a snapshot of the Server's counters. Each counter is read
// atomically; the snapshot as a whole is not. It is safe for concurrent use.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		ConnsOpen:           c.connsOpen.Load(),
		ConnsAccepted:       c.connsAccepted.Load(),
		ConnsRefused:        c.connsRefused.Load(),
		ConnsRefusedPerAddr: c.connsRefusedPerAddr.Load(),
		HandshakeErrors:     c.handshakeErrors.Load(),
		Frames:              c.frames.Load(),
		BytesIn:             c.bytesIn.Load(),
		Acks:                c.acks.Load(),
		BytesOut:            c.bytesOut.Load(),
		Discarded:           c.discarded.Load(),
		Oversized:           c.oversized.Load(),
		HandlerErrors:       c.handlerErrors.Load(),
		IdleTimeouts:        c.idleTimeouts.Load(),
		ReadTimeouts:        c.readTimeouts.Load(),
		FramesOverBudget:    c.overBudget.Load(),
		FrameBytes:          s.mem.inUse(),
	}
}
