package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
)

// conn is the server side of one connection. Its goroutine reads a frame,
// calls the Handler, writes the answer and only then reads the next frame.
type conn struct {
	srv    *Server
	rwc    net.Conn
	info   ConnInfo
	ctx    context.Context // cancelled when the connection ends or on Close
	cancel context.CancelFunc
	idle   bool       // waiting for a frame or handshake; guarded by srv.mu
	ip     netip.Addr // remote IP counted against MaxConnsPerAddr, if hasIP
	hasIP  bool

	log       *slog.Logger
	r         *Reader
	out       []byte // framed answer
	discarded int64  // part of r.Discarded() already added to the stats
}

func (c *conn) serve() {
	defer c.finish()
	c.log = c.srv.logger().With("conn_id", c.info.ID, "remote_addr", c.info.RemoteAddr.String())
	c.log.Debug("mllp connection opened")
	// A connection in its handshake holds no message yet: Shutdown may close it.
	if !c.srv.setConnIdle(c, true) || !c.handshake() {
		return
	}
	c.r = NewReader(c.rwc, c.srv.maxMessageSize())
	c.r.mem = &c.srv.mem
	for {
		if !c.srv.setConnIdle(c, true) {
			return
		}
		if h := c.srv.testHookAwaitFrame; h != nil {
			h(cap(c.r.buf))
		}
		c.rwc.SetReadDeadline(deadline(timeout(c.srv.IdleTimeout, defaultIdleTimeout)))
		err := c.r.awaitStart()
		c.syncDiscarded()
		if err != nil {
			c.logEnd(err, &c.srv.stats.idleTimeouts)
			return
		}
		if !c.srv.setConnIdle(c, false) {
			return // shutting down; this frame was not read and gets no ACK
		}
		c.rwc.SetReadDeadline(deadline(timeout(c.srv.ReadTimeout, defaultReadTimeout)))
		if !c.serveFrame() {
			return
		}
	}
}

// serveFrame reads one frame, has it answered and writes the answer. It
// reports whether the connection may continue.
func (c *conn) serveFrame() bool {
	msg, err := c.r.ReadFrame()
	c.syncDiscarded()
	if err != nil {
		return c.serveReadError(err)
	}
	c.srv.stats.frames.Add(1)
	c.srv.stats.bytesIn.Add(uint64(len(msg)))
	ok := c.reply(c.handle(msg))
	// The frame's buffer goes back now rather than when the next frame
	// starts, which may be an idle timeout away; not before the answer is
	// written, since another connection may reuse it at once.
	c.r.release()
	return ok
}

// serveReadError answers an oversized frame through the OversizeHandler, if
// any, and reports whether the connection may continue. Other read errors end
// the connection.
func (c *conn) serveReadError(err error) bool {
	if errors.Is(err, errFrameBudget) {
		c.srv.stats.overBudget.Add(1)
		c.log.Warn("mllp frame exceeds the frame budget; closing connection",
			"size", len(c.r.buf), "frame_budget", c.srv.mem.limit)
		return false
	}
	var tooLarge *FrameTooLargeError
	if !errors.As(err, &tooLarge) {
		c.logEnd(err, &c.srv.stats.readTimeouts)
		return false
	}
	c.srv.stats.oversized.Add(1)
	c.log.Warn("mllp message too large", "size", tooLarge.Size, "limit", tooLarge.Limit)
	oh, ok := c.srv.Handler.(OversizeHandler)
	if !ok {
		return false // nothing useful to answer: close so the sender does not wait
	}
	return c.reply(c.handleOversize(oh, tooLarge))
}

// reply writes a Handler's answer, or closes the connection on its error.
func (c *conn) reply(ack []byte, err error) bool {
	if err != nil {
		c.srv.stats.handlerErrors.Add(1)
		c.log.Error("mllp handler failed; closing connection", "err", err)
		return false
	}
	return c.write(ack)
}

func (c *conn) handle(msg []byte) (ack []byte, err error) {
	defer c.recoverHandler(&err)
	return c.srv.Handler.ServeMLLP(c.ctx, msg, c.info)
}

func (c *conn) handleOversize(oh OversizeHandler, e *FrameTooLargeError) (ack []byte, err error) {
	defer c.recoverHandler(&err)
	return oh.ServeMLLPOversize(c.ctx, e.Head, e.Size, c.info)
}

// recoverHandler turns a Handler panic into an error so that one bad message
// closes its connection instead of the whole engine. Only the panic's type
// and the stack are logged: the value may hold message data.
func (c *conn) recoverHandler(err *error) {
	if p := recover(); p != nil {
		c.log.Error("mllp handler panicked", "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		*err = fmt.Errorf("mllp: handler panicked (%T)", p)
	}
}

// write frames and writes ack; nil writes nothing.
func (c *conn) write(ack []byte) bool {
	if ack == nil {
		return true
	}
	c.out = AppendFrame(c.out[:0], ack)
	c.rwc.SetWriteDeadline(deadline(timeout(c.srv.WriteTimeout, defaultWriteTimeout)))
	_, err := c.rwc.Write(c.out)
	if cap(c.out) > maxRetainedBuffer {
		c.out = nil
	}
	if err != nil {
		c.log.Warn("mllp writing ACK failed", "err", err)
		return false
	}
	c.srv.stats.acks.Add(1)
	c.srv.stats.bytesOut.Add(uint64(len(ack)))
	return true
}

// handshake completes a TLS handshake, if any, and fills in c.info.
func (c *conn) handshake() bool {
	tc, ok := c.rwc.(*tls.Conn)
	if !ok {
		return true
	}
	c.rwc.SetDeadline(deadline(timeout(c.srv.ReadTimeout, defaultReadTimeout)))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.srv.stats.handshakeErrors.Add(1)
		c.log.Warn("mllp TLS handshake failed", "err", err)
		return false
	}
	st := tc.ConnectionState()
	c.info.TLS = &st
	if len(st.VerifiedChains) > 0 && len(st.VerifiedChains[0]) > 0 {
		c.info.PeerCertificate = st.VerifiedChains[0][0]
		c.info.PeerSubject = c.info.PeerCertificate.Subject.String()
	}
	c.log.Debug("mllp TLS handshake done", "peer_subject", c.info.PeerSubject)
	return true
}

// logEnd logs why reading stopped; timeouts are counted in *timeouts.
func (c *conn) logEnd(err error, timeouts interface{ Add(uint64) uint64 }) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log.Debug("mllp peer closed connection", "err", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		timeouts.Add(1)
		c.log.Info("mllp connection timed out", "err", err)
	default:
		c.log.Warn("mllp reading frame failed", "err", err)
	}
}

func (c *conn) syncDiscarded() {
	d := c.r.Discarded()
	c.srv.stats.discarded.Add(uint64(d - c.discarded))
	c.discarded = d
}

func (c *conn) finish() {
	c.rwc.Close()
	c.cancel()
	if c.r != nil {
		c.syncDiscarded()
		c.r.release() // a frame cut short gives its buffer and budget back
	}
	c.srv.removeConn(c)
	c.log.Debug("mllp connection closed by server")
	if h := c.srv.testHookConnDone; h != nil {
		h(c.info)
	}
}
