package mllp

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"
)

// checkGoroutines fails t if more goroutines run after the test's cleanups
// than before the test. Call it first so its cleanup runs last. Goroutines
// exit asynchronously after their connections close, so it polls, bounded.
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		limit := time.After(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for runtime.NumGoroutine() > before {
			select {
			case <-tick.C:
			case <-limit:
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d running, %d before the test\n%s", runtime.NumGoroutine(), before, buf)
				return
			}
		}
	})
}

// startServer serves s on a loopback port and returns its address. Cleanup
// shuts s down (forcing it after 5 s) and checks that Serve returned
// ErrServerClosed.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v, want nil", err)
			s.Close()
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// echo answers "ACK " + msg.
var echo = HandlerFunc(func(_ context.Context, msg []byte, _ ConnInfo) ([]byte, error) {
	return append([]byte("ACK "), msg...), nil
})

// rawConn is a hand-driven MLLP peer for server tests.
type rawConn struct {
	net.Conn
	r *Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	return dialRawWith(t, &net.Dialer{}, addr)
}

// dialRawFrom dials addr from the local IP address from, skipping t where that
// address cannot be bound (127.0.0.2 is a loopback address on Linux only).
func dialRawFrom(t testing.TB, from, addr string) *rawConn {
	t.Helper()
	local := &net.TCPAddr{IP: net.ParseIP(from)}
	if l, err := net.ListenTCP("tcp", local); err != nil {
		t.Skipf("cannot bind %s: %v", from, err)
	} else {
		l.Close()
	}
	return dialRawWith(t, &net.Dialer{LocalAddr: local}, addr)
}

func dialRawWith(t testing.TB, d *net.Dialer, addr string) *rawConn {
	t.Helper()
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a hung test fails instead of hanging
	return &rawConn{Conn: c, r: NewReader(c, 0)}
}

func (c *rawConn) write(t testing.TB, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readFrame returns the next frame as a string, failing t on error.
func (c *rawConn) readFrame(t testing.TB) string {
	t.Helper()
	p, err := c.r.ReadFrame()
	if err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	return string(p)
}

// roundTrip sends payload and returns the answer.
func (c *rawConn) roundTrip(t testing.TB, payload string) string {
	t.Helper()
	c.write(t, frame(payload))
	return c.readFrame(t)
}

// expectClosed fails t unless the server closes the connection without
// sending another frame.
func (c *rawConn) expectClosed(t testing.TB) {
	t.Helper()
	p, err := c.r.ReadFrame()
	if err == nil {
		t.Fatalf("ReadFrame() = %q, want the connection closed", p)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("ReadFrame() = %v, want the connection closed", err)
	}
}

// connDone returns a channel receiving the ConnInfo of each connection s
// finishes, and installs the hook on s. Call before serving.
func connDone(s *Server) <-chan ConnInfo {
	ch := make(chan ConnInfo, 1024)
	s.testHookConnDone = func(info ConnInfo) { ch <- info }
	return ch
}

// recv returns the next value from ch, failing t after 20 s.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting on channel")
		panic("unreachable")
	}
}
