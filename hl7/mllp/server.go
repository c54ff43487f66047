package mllp

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Default timeouts and address of a Server (see the Server fields).
const (
	defaultAddr         = ":2575" // IANA "hl7"
	defaultIdleTimeout  = 5 * time.Minute
	defaultReadTimeout  = 2 * time.Minute
	defaultWriteTimeout = 30 * time.Second
	maxAcceptBackoff    = time.Second
)

// Server accepts MLLP connections and passes each frame to a Handler, writing
// back the answer. It is modelled on net/http.Server: set the fields, then
// call Serve, ListenAndServe or ListenAndServeTLS. The fields must not be
// changed once serving has started. The methods are safe for concurrent use.
type Server struct {
	// Addr is the TCP address ListenAndServe and ListenAndServeTLS listen on.
	// Default (empty): ":2575", the port registered for HL7.
	Addr string

	// Handler answers each message. Required.
	Handler Handler

	// TLSConfig, when non-nil, makes Serve and ListenAndServe speak TLS on
	// every connection, with the handshake done before the first frame. For
	// mTLS set ClientAuth and ClientCAs (see TLSConfigFromFiles). Default:
	// nil, plain TCP.
	TLSConfig *tls.Config

	// MaxMessageSize caps a frame's payload in bytes. Larger frames are
	// discarded without being buffered whole (see OversizeHandler). Zero
	// means DefaultMaxMessageSize (16 MiB); negative is invalid.
	MaxMessageSize int

	// MaxConns caps the number of open connections, counted over every
	// listener the Server serves. A connection accepted beyond it is closed
	// at once, before anything is read, and counted in Stats.ConnsRefused.
	// Zero means no limit; negative is invalid.
	MaxConns int

	// MaxConnsPerAddr caps the open connections from one remote IP address
	// (whatever their ports), so that one sender, or one host leaking
	// sockets, cannot take every connection MaxConns allows and lock the
	// others out. A connection beyond it is closed at once and counted in
	// Stats.ConnsRefusedPerAddr. Connections whose remote address is not an
	// IP address are not counted against it. Zero means no limit; negative
	// is invalid.
	MaxConnsPerAddr int

	// FrameBudget bounds the memory that frames still being read may hold,
	// in bytes, summed over all connections. Each connection reads through a
	// 32 KiB buffer. A frame longer than that is assembled in a buffer of its
	// own, which doubles as the frame grows (up to MaxMessageSize) and goes
	// back to the Server once the frame is answered, so an idle connection
	// holds only the 32 KiB. What these buffers hold beyond their first
	// 64 KiB is drawn from FrameBudget. A connection whose frame needs more
	// than is left is closed without an answer, logged and counted in
	// Stats.FramesOverBudget: the Server is busy, the message is not wrong,
	// so the sender should resend it later, where a rejection (such as the
	// OversizeHandler's) would tell it not to. Frames over MaxMessageSize are
	// still answered through OversizeHandler: their buffer goes back once
	// they cross the cap, so discarding the rest holds nothing. Buffers given
	// back are kept for reuse by later frames, up to MaxMessageSize bytes of
	// them. Assembly buffers thus hold at most FrameBudget plus 64 KiB per
	// connection reading a frame, plus MaxMessageSize kept for reuse. Zero
	// means four times MaxMessageSize (64 MiB with the default cap);
	// negative means no budget; a positive value below MaxMessageSize is
	// invalid, since a frame of the maximum size could never be read.
	FrameBudget int64

	// IdleTimeout is how long a connection may wait for the start of its
	// next frame (and for its first one) before the Server closes it, so
	// that silent or forgotten connections give their descriptor and their
	// MaxConns slot back. Senders reconnect when they next have a message
	// (Client does so transparently). Zero means five minutes; negative
	// means no limit (TCP keep-alives still detect dead peers when the
	// listener enables them, as net.Listen does).
	IdleTimeout time.Duration

	// ReadTimeout bounds reading one frame, from its first byte to its end
	// block, so a peer that stalls mid-frame is disconnected; it also bounds
	// the TLS handshake. Zero means two minutes; negative means no limit.
	ReadTimeout time.Duration

	// WriteTimeout bounds writing one answer. Zero means 30 seconds;
	// negative means no limit.
	WriteTimeout time.Duration

	// Logger receives connection-level events (never payload bytes). Nil
	// means discard.
	Logger *slog.Logger

	// BaseContext, if non-nil, returns the context from which the Handler's
	// contexts derive for connections accepted on l. Nil means
	// context.Background().
	BaseContext func(l net.Listener) context.Context

	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	perAddr    map[netip.Addr]int // open connections by remote IP, when MaxConnsPerAddr is set
	inShutdown bool
	done       chan struct{} // closed by the first Shutdown or Close
	drained    chan struct{} // closed once shutting down with nothing left
	nextID     atomic.Uint64
	stats      counters
	mem        frameMemory // assembly buffers and FrameBudget; set up by initLocked

	// Test hooks, nil outside white-box tests.
	testHookConnDone       func(ConnInfo)
	testHookShutdownClosed func()
	testHookAwaitFrame     func(bufCap int) // a connection waits for a frame; its assembly buffer's capacity
}

// Validate reports the first invalid field, without side effects.
func (s *Server) Validate() error {
	if err := s.validateBase(); err != nil {
		return err
	}
	if s.TLSConfig != nil && !hasCertificate(s.TLSConfig) {
		return errors.New("mllp: Server.TLSConfig has no certificate")
	}
	return nil
}

// validateBase checks every field but TLSConfig.
func (s *Server) validateBase() error {
	switch {
	case s.Handler == nil:
		return errors.New("mllp: Server.Handler is nil")
	case s.MaxMessageSize < 0:
		return fmt.Errorf("mllp: Server.MaxMessageSize %d is negative", s.MaxMessageSize)
	case s.MaxConns < 0:
		return fmt.Errorf("mllp: Server.MaxConns %d is negative", s.MaxConns)
	case s.MaxConnsPerAddr < 0:
		return fmt.Errorf("mllp: Server.MaxConnsPerAddr %d is negative", s.MaxConnsPerAddr)
	case s.FrameBudget > 0 && s.FrameBudget < int64(s.maxMessageSize()):
		return fmt.Errorf("mllp: Server.FrameBudget %d is below MaxMessageSize %d", s.FrameBudget, s.maxMessageSize())
	}
	return nil
}

// ListenAndServe listens on Addr and calls Serve. It always returns a
// non-nil error; ErrServerClosed after Shutdown or Close.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := net.Listen("tcp", cmp.Or(s.Addr, defaultAddr))
	if err != nil {
		return fmt.Errorf("mllp: listen: %w", err)
	}
	return s.Serve(l)
}

// ListenAndServeTLS listens on Addr and serves TLS with the certificate and
// key in the given PEM files, added to a copy of TLSConfig (which may be nil).
// With empty file names the certificates must already be in TLSConfig. It
// always returns a non-nil error; ErrServerClosed after Shutdown or Close.
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("mllp: loading key pair: %w", err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	if !hasCertificate(cfg) {
		return errors.New("mllp: ListenAndServeTLS: no certificate")
	}
	if err := s.validateBase(); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cmp.Or(s.Addr, defaultAddr))
	if err != nil {
		return fmt.Errorf("mllp: listen: %w", err)
	}
	return s.serve(tls.NewListener(l, cfg))
}

// Serve accepts connections on l and serves each in its own goroutine. If
// TLSConfig is set, l is wrapped with TLS (pass a plain listener). Serve
// always returns a non-nil error and closes l; ErrServerClosed after Shutdown
// or Close. Temporary Accept errors (such as running out of file descriptors)
// are logged and retried with a backoff of up to one second.
func (s *Server) Serve(l net.Listener) error {
	if err := s.Validate(); err != nil {
		l.Close()
		return err
	}
	if s.TLSConfig != nil {
		l = tls.NewListener(l, s.TLSConfig)
	}
	return s.serve(l)
}

func (s *Server) serve(l net.Listener) error {
	l = &onceCloseListener{Listener: l}
	defer l.Close()
	if !s.trackListener(&l, true) {
		return ErrServerClosed
	}
	defer s.trackListener(&l, false)

	base := context.Background()
	if s.BaseContext != nil {
		base = s.BaseContext(l)
	}
	var backoff time.Duration
	for {
		rw, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			if !isTemporary(err) {
				return fmt.Errorf("mllp: accept: %w", err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), maxAcceptBackoff)
			s.logger().Error("mllp accept failed; retrying", "err", err, "backoff", backoff)
			if !s.pause(backoff) {
				return ErrServerClosed
			}
			continue
		}
		backoff = 0
		if c := s.newConn(base, rw); c != nil {
			go c.serve()
		}
	}
}

// Shutdown gracefully stops the Server: it closes the listeners and the idle
// connections, lets every message being read or handled finish and get its
// answer written, then closes those connections too. Complete frames that are
// queued behind them (pipelined) are not read; the sender gets no ACK for them
// and resends. Shutdown returns nil once every connection is closed, or
// ctx.Err() if ctx ends first; call Close then to force the rest. Serve
// returns ErrServerClosed as soon as Shutdown starts.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	lnErr := s.beginShutdownLocked()
	var idle []*conn
	for c := range s.conns {
		if c.idle {
			idle = append(idle, c)
		}
	}
	if s.drained == nil {
		s.drained = make(chan struct{})
		s.checkDrainedLocked()
	}
	drained := s.drained
	s.mu.Unlock()

	for _, c := range idle {
		c.rwc.Close()
	}
	if h := s.testHookShutdownClosed; h != nil {
		h()
	}
	select {
	case <-drained:
		return lnErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close immediately closes the listeners and all connections and cancels the
// Handler contexts. Messages being handled get no answer. It does not wait
// for the connection goroutines, which exit once their Handler returns. Close
// returns the first error from closing a listener.
func (s *Server) Close() error {
	s.mu.Lock()
	err := s.beginShutdownLocked()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.cancel()
		c.rwc.Close()
	}
	return err
}

// beginShutdownLocked marks the Server as shutting down and closes its
// listeners. s.mu must be held.
func (s *Server) beginShutdownLocked() error {
	s.initLocked()
	if !s.inShutdown {
		s.inShutdown = true
		close(s.done)
	}
	var err error
	for l := range s.listeners {
		if cerr := (*l).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (s *Server) initLocked() {
	if s.done == nil {
		s.done = make(chan struct{})
		s.listeners = make(map[*net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
		s.perAddr = make(map[netip.Addr]int)
		s.mem.limit = cmp.Or(s.FrameBudget, 4*int64(s.maxMessageSize()))
		s.mem.maxFree = int64(s.maxMessageSize())
	}
}

// checkDrainedLocked closes s.drained when shutting down with no listener or
// connection left. s.mu must be held.
func (s *Server) checkDrainedLocked() {
	if s.drained == nil || len(s.listeners) > 0 || len(s.conns) > 0 {
		return
	}
	select {
	case <-s.drained:
	default:
		close(s.drained)
	}
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inShutdown
}

// trackListener adds or removes l; adding fails once shutting down.
func (s *Server) trackListener(l *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if add {
		if s.inShutdown {
			return false
		}
		s.listeners[l] = struct{}{}
		return true
	}
	delete(s.listeners, l)
	s.checkDrainedLocked()
	return true
}

// newConn tracks a new connection, or closes it and returns nil when the
// Server is shutting down or a connection cap is reached.
func (s *Server) newConn(base context.Context, rw net.Conn) *conn {
	c := &conn{srv: s, rwc: rw, info: ConnInfo{
		ID:         s.nextID.Add(1),
		RemoteAddr: rw.RemoteAddr(),
		LocalAddr:  rw.LocalAddr(),
	}}
	if s.MaxConnsPerAddr > 0 {
		c.ip, c.hasIP = remoteIP(c.info.RemoteAddr)
	}
	s.mu.Lock()
	tooMany := s.MaxConns > 0 && len(s.conns) >= s.MaxConns
	tooManyHere := !tooMany && c.hasIP && s.perAddr[c.ip] >= s.MaxConnsPerAddr
	closing := s.inShutdown
	ok := !closing && !tooMany && !tooManyHere
	if ok {
		c.ctx, c.cancel = context.WithCancel(base)
		s.conns[c] = struct{}{}
		if c.hasIP {
			s.perAddr[c.ip]++
		}
		s.stats.connsOpen.Add(1)
		s.stats.connsAccepted.Add(1)
	}
	s.mu.Unlock()
	if ok {
		return c
	}
	rw.Close()
	switch {
	case closing:
	case tooMany:
		s.stats.connsRefused.Add(1)
		s.logger().Warn("mllp connection refused: too many connections",
			"remote_addr", c.info.RemoteAddr.String(), "max_conns", s.MaxConns)
	case tooManyHere:
		s.stats.connsRefusedPerAddr.Add(1)
		s.logger().Warn("mllp connection refused: too many connections from this address",
			"remote_addr", c.info.RemoteAddr.String(), "max_conns_per_addr", s.MaxConnsPerAddr)
	}
	return nil
}

// remoteIP returns the IP address of a connection's remote address, with
// IPv4-mapped IPv6 addresses unmapped so that both forms count as one.
func remoteIP(a net.Addr) (netip.Addr, bool) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip := ta.AddrPort().Addr().Unmap()
		return ip, ip.IsValid()
	}
	if a == nil {
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// removeConn untracks c after its net.Conn is closed.
func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.hasIP {
		if n := s.perAddr[c.ip] - 1; n > 0 {
			s.perAddr[c.ip] = n
		} else {
			delete(s.perAddr, c.ip)
		}
	}
	s.stats.connsOpen.Add(-1)
	s.checkDrainedLocked()
	s.mu.Unlock()
}

// setConnIdle records whether c waits for a new frame; it reports false when
// the Server is shutting down and c must close instead.
func (s *Server) setConnIdle(c *conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown {
		return false
	}
	c.idle = idle
	return true
}

// pause waits for d, reporting false if the Server shuts down first.
func (s *Server) pause(d time.Duration) bool {
	s.mu.Lock()
	s.initLocked()
	done := s.done
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) maxMessageSize() int { return cmp.Or(s.MaxMessageSize, DefaultMaxMessageSize) }

// timeout resolves a timeout field: zero means def, negative means none (0).
func timeout(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// deadline returns the deadline for a timeout resolved by timeout; the zero
// time means none.
func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

func hasCertificate(cfg *tls.Config) bool {
	return len(cfg.Certificates) > 0 || cfg.GetCertificate != nil || cfg.GetConfigForClient != nil
}

// isTemporary reports whether an Accept error is worth retrying. net.Error's
// Temporary is deprecated in general but remains the signal for Accept
// (EMFILE, ENFILE, ECONNABORTED), as in net/http.
func isTemporary(err error) bool {
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}

// onceCloseListener makes Close idempotent: both Serve and Shutdown close it.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
