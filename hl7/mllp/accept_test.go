package mllp

import (
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// errTemporary is an Accept error worth retrying, like EMFILE.
type errTemporary struct{}

func (errTemporary) Error() string   { return "too many open files" }
func (errTemporary) Temporary() bool { return true }
func (errTemporary) Timeout() bool   { return false }

// flakyListener fails Accept with err the first failures times.
type flakyListener struct {
	net.Listener
	failures atomic.Int64
	err      error
	calls    chan struct{}
}

func (l *flakyListener) Accept() (net.Conn, error) {
	select {
	case l.calls <- struct{}{}:
	default:
	}
	if l.failures.Add(-1) >= 0 {
		return nil, l.err
	}
	return l.Listener.Accept()
}

func newFlakyListener(t testing.TB, failures int64, err error) *flakyListener {
	t.Helper()
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		t.Fatal(err2)
	}
	l := &flakyListener{Listener: ln, err: err, calls: make(chan struct{}, 100)}
	l.failures.Store(failures)
	return l
}

func TestServer_Serve_RetriesTemporaryAcceptErrors(t *testing.T) {
	checkGoroutines(t)
	ln := newFlakyListener(t, 3, errTemporary{})
	s := &Server{Handler: echo}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	if got := dialRaw(t, ln.Addr().String()).roundTrip(t, "x"); got != "ACK x" {
		t.Errorf("ACK after temporary Accept errors = %q, want %q", got, "ACK x")
	}
	s.Close()
	if err := recv(t, errc); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve() = %v, want ErrServerClosed", err)
	}
}

func TestServer_Serve_CloseDuringAcceptBackoff(t *testing.T) {
	checkGoroutines(t)
	ln := newFlakyListener(t, 1<<40, errTemporary{})
	s := &Server{Handler: echo}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	recv(t, ln.calls)
	recv(t, ln.calls) // backing off
	s.Close()
	if err := recv(t, errc); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve() = %v, want ErrServerClosed", err)
	}
}

func TestServer_pause_CancelledByClose(t *testing.T) {
	s := &Server{Handler: echo}
	res := make(chan bool, 1)
	go func() { res <- s.pause(time.Hour) }()
	s.Close()
	if recv(t, res) {
		t.Error("pause(1h) = true after Close, want false")
	}
}

func TestServer_Serve_PermanentAcceptError(t *testing.T) {
	checkGoroutines(t)
	boom := errors.New("listener broken")
	ln := newFlakyListener(t, 1, boom)
	err := (&Server{Handler: echo}).Serve(ln)
	if !errors.Is(err, boom) || errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve() = %v, want %v", err, boom)
	}
}

func TestServer_Serve_AfterShutdown(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, Addr: "127.0.0.1:0"}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve() after Shutdown = %v, want ErrServerClosed", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("Serve() after Shutdown left the listener open")
	}
	if err := s.ListenAndServe(); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ListenAndServe() after Shutdown = %v, want ErrServerClosed", err)
	}
}

func TestServer_Validate(t *testing.T) {
	tests := []struct {
		name    string
		s       *Server
		wantErr bool
	}{
		{name: "minimal", s: &Server{Handler: echo}},
		{name: "no handler", s: &Server{}, wantErr: true},
		{name: "negative size", s: &Server{Handler: echo, MaxMessageSize: -1}, wantErr: true},
		{name: "negative conns", s: &Server{Handler: echo, MaxConns: -1}, wantErr: true},
		{name: "negative conns per address", s: &Server{Handler: echo, MaxConnsPerAddr: -1}, wantErr: true},
		{name: "frame budget below the size cap", s: &Server{Handler: echo, MaxMessageSize: 1 << 20, FrameBudget: 1<<20 - 1}, wantErr: true},
		{name: "frame budget below the default size cap", s: &Server{Handler: echo, FrameBudget: 1 << 20}, wantErr: true},
		{name: "frame budget equal to the size cap", s: &Server{Handler: echo, MaxMessageSize: 1 << 20, FrameBudget: 1 << 20}},
		{name: "negative frame budget means none", s: &Server{Handler: echo, FrameBudget: -1}},
		{name: "negative timeouts mean none", s: &Server{Handler: echo, IdleTimeout: -1, ReadTimeout: -1, WriteTimeout: -1}},
		{name: "TLS without certificate", s: &Server{Handler: echo, TLSConfig: &tls.Config{}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}
