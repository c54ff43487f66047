package mllp

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Default timeouts of a Client (see the Client fields).
const (
	defaultDialTimeout = 10 * time.Second
	defaultAckTimeout  = 30 * time.Second
)

// Client sends messages over one MLLP connection and returns their ACKs.
//
// The connection is opened on the first Send and kept for the next ones. A
// Client is safe for concurrent use: Sends are serialised on the connection,
// each writing one message and reading its one ACK before the next starts.
// Set the fields before the first Send and do not change them afterwards.
//
// Delivery is at-least-once when the caller retries: Send resends nothing by
// itself once a message may have reached the peer. It reconnects transparently
// only when the kept connection is found closed by the peer (or holding
// unsolicited bytes) before anything is written; after any failure during an
// exchange it drops the connection and returns the error, and the next Send
// dials again.
type Client struct {
	// Addr is the host:port of the MLLP listener. Required.
	Addr string

	// TLSConfig, when non-nil, makes the Client speak TLS. For mTLS set
	// Certificates; ServerName defaults to the host in Addr. Default: nil,
	// plain TCP.
	TLSConfig *tls.Config

	// DialTimeout bounds connecting, including the TLS handshake. Zero means
	// 10 seconds; negative means no limit other than the Send context.
	DialTimeout time.Duration

	// AckTimeout bounds one exchange: writing the message and reading its ACK.
	// Zero means 30 seconds; negative means no limit other than the Send
	// context.
	AckTimeout time.Duration

	// MaxMessageSize caps the ACK payload in bytes. Zero means
	// DefaultMaxMessageSize (16 MiB); negative is invalid.
	MaxMessageSize int

	// CheckAck, if non-nil, is called with the message and its ACK after a
	// successful exchange; a non-nil error is wrapped and returned by Send
	// together with the ACK. Wire it to an HL7-aware checker (MSA-1 and
	// MSA-2); this package does not parse HL7.
	CheckAck func(msg, ack []byte) error

	initOnce sync.Once
	sem      chan struct{} // holds one token while a Send uses the connection
	out      []byte        // framed message; guarded by sem

	mu     sync.Mutex
	cc     *clientConn // nil when not connected
	closed bool
}

// clientConn is a Client's kept connection.
type clientConn struct {
	net.Conn
	r     *Reader
	probe *connProbe
}

// Send writes msg as one frame and returns the payload of the next frame the
// peer sends, its ACK. The returned slice is owned by the caller.
//
// Errors: ErrClientClosed after Close; a dial error (nothing written); a
// write error (the frame was not completely written, so a conforming peer
// cannot have received the message); an error wrapping ErrNoAck when the message
// was written but no ACK arrived (it may have been delivered: resend only if
// duplicates are acceptable, for example with an idempotent receiver); or the
// wrapped CheckAck error, with the ACK. A cancelled or expired ctx aborts the
// exchange and its error is wrapped in the returned error.
func (c *Client) Send(ctx context.Context, msg []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.initOnce.Do(func() { c.sem = make(chan struct{}, 1) })
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.sem }()

	cc, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	ack, err := c.exchange(ctx, cc, msg)
	if err != nil {
		return nil, err
	}
	if c.CheckAck != nil {
		if err := c.CheckAck(msg, ack); err != nil {
			return ack, fmt.Errorf("mllp: checking ACK: %w", err)
		}
	}
	return ack, nil
}

// Close closes the connection, interrupting a Send in progress. Later Sends
// return ErrClientClosed. It is safe to call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.cc == nil {
		return nil
	}
	err := c.cc.Close()
	c.cc = nil
	return err
}

// Validate reports the first invalid field, without side effects. Send calls
// it too.
func (c *Client) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("mllp: Client.Addr is empty")
	case c.MaxMessageSize < 0:
		return fmt.Errorf("mllp: Client.MaxMessageSize %d is negative", c.MaxMessageSize)
	}
	return nil
}

// connection returns the kept connection if it is still usable, else dials
// a new one.
func (c *Client) connection(ctx context.Context) (*clientConn, error) {
	c.mu.Lock()
	cc, closed := c.cc, c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClientClosed
	}
	if cc != nil {
		if cc.r.br.Buffered() == 0 && !cc.probe.isStale() {
			return cc, nil
		}
		c.drop(cc) // closed by the peer, or out of step: nothing written yet
	}

	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	cc = &clientConn{
		Conn:  conn,
		r:     NewReader(conn, cmp.Or(c.MaxMessageSize, DefaultMaxMessageSize)),
		probe: newConnProbe(conn),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, ErrClientClosed
	}
	c.cc = cc
	return cc, nil
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	if d := timeout(c.DialTimeout, defaultDialTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var (
		conn net.Conn
		err  error
	)
	if c.TLSConfig != nil {
		d := tls.Dialer{Config: c.TLSConfig}
		conn, err = d.DialContext(ctx, "tcp", c.Addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", c.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("mllp: dial %s: %w", c.Addr, err)
	}
	return conn, nil
}

// exchange writes msg and reads one ACK frame, returning a copy of it. It
// drops cc unless the exchange completed cleanly.
func (c *Client) exchange(ctx context.Context, cc *clientConn, msg []byte) ([]byte, error) {
	cc.SetDeadline(deadline(timeout(c.AckTimeout, defaultAckTimeout)))
	// A deadline in the past interrupts the blocked write or read.
	stop := context.AfterFunc(ctx, func() { cc.SetDeadline(time.Unix(1, 0)) })
	ack, err := c.roundTrip(ctx, cc, msg)
	if !stop() || err != nil {
		// On error the stream is out of step; if ctx ended, the deadline may
		// have been moved to the past behind our back. Either way, start over.
		c.drop(cc)
	}
	if err != nil {
		return nil, err
	}
	return ack, nil
}

func (c *Client) roundTrip(ctx context.Context, cc *clientConn, msg []byte) ([]byte, error) {
	c.out = AppendFrame(c.out[:0], msg)
	_, err := cc.Write(c.out)
	if cap(c.out) > maxRetainedBuffer {
		c.out = nil
	}
	if err != nil {
		return nil, fmt.Errorf("mllp: writing message: %w", ioCause(ctx, err))
	}
	ack, err := cc.r.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("%w: reading ACK: %w", ErrNoAck, ioCause(ctx, err))
	}
	return append([]byte(nil), ack...), nil
}

// ioCause returns ctx's error when ctx has ended, since the I/O error is then
// only the past deadline set to interrupt it; otherwise err.
func ioCause(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

// drop closes cc and forgets it if it is still the kept connection.
func (c *Client) drop(cc *clientConn) {
	cc.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc == cc {
		c.cc = nil
	}
}
