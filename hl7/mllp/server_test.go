package mllp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestServer_Serve_SplitFrameByteByByte(t *testing.T) {
	checkGoroutines(t)
	addr := startServer(t, &Server{Handler: echo})
	c := dialRaw(t, addr)
	for _, b := range []byte(frame(sampleORM)) {
		c.write(t, string([]byte{b}))
	}
	if got, want := c.readFrame(t), "ACK "+sampleORM; got != want {
		t.Errorf("ACK = %q, want %q", got, want)
	}
}

func TestServer_Serve_Pipelined100(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	done := connDone(s)
	addr := startServer(t, s)
	c := dialRaw(t, addr)
	var all strings.Builder
	for i := range 100 {
		all.WriteString(frame(fmt.Sprintf("MSG%03d", i)))
	}
	c.write(t, all.String())
	for i := range 100 {
		if got, want := c.readFrame(t), fmt.Sprintf("ACK MSG%03d", i); got != want {
			t.Fatalf("ACK %d = %q, want %q", i, got, want)
		}
	}
	c.Close()
	recv(t, done) // the last ACK is counted once its Write returns
	if st := s.Stats(); st.Frames != 100 || st.Acks != 100 || st.BytesIn != 600 || st.ConnsAccepted != 1 {
		t.Errorf("Stats() = %+v, want 100 frames and ACKs, 600 bytes in, 1 connection", st)
	}
}

func TestServer_Serve_JunkBeforeVT(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	c := dialRaw(t, startServer(t, s))
	if got := c.roundTrip(t, "a"); got != "ACK a" {
		t.Fatalf("ACK = %q, want %q", got, "ACK a")
	}
	c.write(t, "\r\njunk")
	if got := c.roundTrip(t, "b"); got != "ACK b" {
		t.Fatalf("ACK = %q, want %q", got, "ACK b")
	}
	if st := s.Stats(); st.Discarded != 6 {
		t.Errorf("Stats().Discarded = %d, want 6", st.Discarded)
	}
}

func TestServer_Serve_HalfCloseAnswersQueuedFrames(t *testing.T) {
	checkGoroutines(t)
	c := dialRaw(t, startServer(t, &Server{Handler: echo}))
	c.write(t, frame("a")+frame("b")+frame("c"))
	c.Conn.(*net.TCPConn).CloseWrite()
	for _, want := range []string{"ACK a", "ACK b", "ACK c"} {
		if got := c.readFrame(t); got != want {
			t.Fatalf("ACK = %q, want %q", got, want)
		}
	}
	c.expectClosed(t)
}

func TestServer_Serve_NilAckWritesNothing(t *testing.T) {
	checkGoroutines(t)
	h := HandlerFunc(func(_ context.Context, msg []byte, _ ConnInfo) ([]byte, error) {
		if string(msg) == "silent" {
			return nil, nil
		}
		return echo(context.Background(), msg, ConnInfo{})
	})
	c := dialRaw(t, startServer(t, &Server{Handler: h}))
	c.write(t, frame("silent")+frame("loud"))
	if got := c.readFrame(t); got != "ACK loud" {
		t.Errorf("first answer = %q, want %q", got, "ACK loud")
	}
}

// sizeAware answers oversized frames with a reject naming size and head.
type sizeAware struct{ Handler }

func (sizeAware) ServeMLLPOversize(_ context.Context, head []byte, size int64, _ ConnInfo) ([]byte, error) {
	return fmt.Appendf(nil, "AR size=%d head=%s", size, head[:min(len(head), 8)]), nil
}

func TestServer_Oversize_AnswersAndKeepsConnection(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: sizeAware{echo}, MaxMessageSize: 1000}
	c := dialRaw(t, startServer(t, s))
	big := "MSH|^~\\&" + strings.Repeat("x", 5000)
	c.write(t, frame(big)+frame("small"))
	if got, want := c.readFrame(t), "AR size=5008 head=MSH|^~\\&"; got != want {
		t.Errorf("answer to oversized frame = %q, want %q", got, want)
	}
	if got := c.readFrame(t); got != "ACK small" {
		t.Errorf("answer after oversized frame = %q, want %q", got, "ACK small")
	}
	if st := s.Stats(); st.Oversized != 1 || st.Frames != 1 {
		t.Errorf("Stats() = %+v, want 1 oversized, 1 frame", st)
	}
}

func TestServer_Oversize_ClosesWithoutOversizeHandler(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, MaxMessageSize: 1000}
	addr := startServer(t, s)
	c := dialRaw(t, addr)
	c.write(t, frame(strings.Repeat("x", 5000))+frame("never read"))
	c.expectClosed(t)
	if got := dialRaw(t, addr).roundTrip(t, "next"); got != "ACK next" {
		t.Errorf("server after oversize: ACK = %q, want %q", got, "ACK next")
	}
	if st := s.Stats(); st.Oversized != 1 || st.Frames != 1 {
		t.Errorf("Stats() = %+v, want 1 oversized, 1 frame", st)
	}
}

func TestServer_ReadTimeout_StalledMidFrame(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, ReadTimeout: 50 * time.Millisecond}
	addr := startServer(t, s)
	c := dialRaw(t, addr)
	c.write(t, "\x0bMSH|^~\\&|stalled")
	c.expectClosed(t)
	if st := s.Stats(); st.ReadTimeouts != 1 || st.Frames != 0 {
		t.Errorf("Stats() = %+v, want 1 read timeout, 0 frames", st)
	}
	if got := dialRaw(t, addr).roundTrip(t, "next"); got != "ACK next" {
		t.Errorf("ACK = %q, want %q", got, "ACK next")
	}
}

func TestServer_IdleTimeout_ClosesSilentPeer(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, IdleTimeout: 50 * time.Millisecond}
	c := dialRaw(t, startServer(t, s))
	c.expectClosed(t)
	if st := s.Stats(); st.IdleTimeouts != 1 {
		t.Errorf("Stats().IdleTimeouts = %d, want 1", st.IdleTimeouts)
	}
}

func TestServer_Serve_500Concurrent(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	done := connDone(s)
	addr := startServer(t, s)
	const n = 500
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs <- oneShot(addr, fmt.Sprintf("MSG%d", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for range n {
		recv(t, done) // an ACK is counted once its Write returns
	}
	if st := s.Stats(); st.Acks != n || st.ConnsAccepted != n {
		t.Errorf("Stats() = %+v, want %d ACKs and connections", st, n)
	}
}

// oneShot dials addr, sends msg and checks its ACK.
func oneShot(addr, msg string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(AppendFrame(nil, []byte(msg))); err != nil {
		return err
	}
	ack, err := NewReader(c, 0).ReadFrame()
	if err != nil {
		return fmt.Errorf("%s: reading ACK: %w", msg, err)
	}
	if string(ack) != "ACK "+msg {
		return fmt.Errorf("ACK = %q, want %q", ack, "ACK "+msg)
	}
	return nil
}

func TestServer_Shutdown_UnderLoadAnswersEveryReadMessage(t *testing.T) {
	checkGoroutines(t)
	var handled atomic.Int64
	loaded, release := make(chan struct{}), make(chan struct{})
	var loadedOnce sync.Once
	h := HandlerFunc(func(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error) {
		if handled.Add(1) >= 200 {
			loadedOnce.Do(func() { close(loaded) })
			<-release // in flight while Shutdown starts
		}
		return echo(ctx, msg, info)
	})
	s := &Server{Handler: h}
	shutdownStarted := make(chan struct{})
	var startedOnce sync.Once
	s.testHookShutdownClosed = func() { startedOnce.Do(func() { close(shutdownStarted) }) }
	addr := startServer(t, s)

	const clients = 20
	var acked atomic.Int64
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := &Client{Addr: addr}
			defer c.Close()
			for j := 0; ; j++ {
				if _, err := c.Send(t.Context(), fmt.Appendf(nil, "C%d-M%d", i, j)); err != nil {
					return // the server is gone
				}
				acked.Add(1)
			}
		})
	}
	recv(t, loaded)
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- s.Shutdown(t.Context()) }()
	recv(t, shutdownStarted)
	close(release)
	if err := recv(t, shutdownErr); err != nil {
		t.Errorf("Shutdown() = %v, want nil", err)
	}
	wg.Wait()
	if h, a := handled.Load(), acked.Load(); h != a || a < 200 {
		t.Errorf("handled %d messages, clients got %d ACKs; want equal and at least 200", h, a)
	}
	if st := s.Stats(); st.ConnsOpen != 0 || int64(st.Acks) != handled.Load() {
		t.Errorf("Stats() = %+v, want 0 open connections and %d ACKs", st, handled.Load())
	}
}

func TestServer_Shutdown_ClosesIdleConnections(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	c := dialRaw(t, startServer(t, s))
	c.roundTrip(t, "a")
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	c.expectClosed(t)
}

func TestServer_Shutdown_ContextEndsFirst(t *testing.T) {
	checkGoroutines(t)
	entered, release := make(chan struct{}), make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error) {
		close(entered)
		<-release
		return echo(ctx, msg, info)
	})
	s := &Server{Handler: h}
	c := dialRaw(t, startServer(t, s))
	c.write(t, frame("slow"))
	recv(t, entered)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(cancelled) = %v, want context.Canceled", err)
	}
	close(release)
	if got := c.readFrame(t); got != "ACK slow" {
		t.Errorf("ACK = %q, want %q", got, "ACK slow")
	}
	c.expectClosed(t)
}

func TestServer_Close_CancelsHandlerContext(t *testing.T) {
	checkGoroutines(t)
	entered := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, _ []byte, _ ConnInfo) ([]byte, error) {
		close(entered)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	s := &Server{Handler: h}
	done := connDone(s)
	c := dialRaw(t, startServer(t, s))
	c.write(t, frame("x"))
	recv(t, entered)
	s.Close()
	recv(t, done)
	c.expectClosed(t)
}

func TestServer_MaxConns_RefusesExtra(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, MaxConns: 2}
	done := connDone(s)
	addr := startServer(t, s)
	c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
	c1.roundTrip(t, "1") // both are now tracked
	c2.roundTrip(t, "2")
	dialRaw(t, addr).expectClosed(t)
	if st := s.Stats(); st.ConnsRefused != 1 || st.ConnsOpen != 2 {
		t.Errorf("Stats() = %+v, want 1 refused, 2 open", st)
	}
	c1.Close()
	recv(t, done)
	if got := dialRaw(t, addr).roundTrip(t, "3"); got != "ACK 3" {
		t.Errorf("ACK after a slot freed = %q, want %q", got, "ACK 3")
	}
}

func TestServer_MaxConnsPerAddr_RefusesExtraFromOneAddress(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, MaxConnsPerAddr: 2}
	done := connDone(s)
	addr := startServer(t, s)
	c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
	c1.roundTrip(t, "1") // both are now tracked
	c2.roundTrip(t, "2")
	dialRaw(t, addr).expectClosed(t)
	if got := dialRawFrom(t, "127.0.0.2", addr).roundTrip(t, "other"); got != "ACK other" {
		t.Errorf("ACK from another address = %q, want %q", got, "ACK other")
	}
	if st := s.Stats(); st.ConnsRefusedPerAddr != 1 || st.ConnsRefused != 0 || st.ConnsOpen != 3 {
		t.Errorf("Stats() = %+v, want 1 refused per address, 0 refused by MaxConns, 3 open", st)
	}
	c1.Close()
	recv(t, done)
	if got := dialRaw(t, addr).roundTrip(t, "3"); got != "ACK 3" {
		t.Errorf("ACK after a slot freed = %q, want %q", got, "ACK 3")
	}
}

func TestServer_MaxConns_CountsEveryAddress(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo, MaxConns: 2, MaxConnsPerAddr: 2}
	addr := startServer(t, s)
	dialRaw(t, addr).roundTrip(t, "1")
	dialRawFrom(t, "127.0.0.2", addr).roundTrip(t, "2")
	dialRawFrom(t, "127.0.0.3", addr).expectClosed(t)
	if st := s.Stats(); st.ConnsRefused != 1 || st.ConnsRefusedPerAddr != 0 {
		t.Errorf("Stats() = %+v, want 1 refused by MaxConns, 0 per address", st)
	}
}

func TestRemoteIP(t *testing.T) {
	tests := []struct {
		name   string
		addr   net.Addr
		want   string
		wantOK bool
	}{
		{name: "IPv4", addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}, want: "192.0.2.7", wantOK: true},
		{name: "IPv4-mapped IPv6 counts as IPv4", addr: &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 1}, want: "192.0.2.7", wantOK: true},
		{name: "IPv6", addr: &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 2575}, want: "2001:db8::1", wantOK: true},
		{name: "other type with an IP", addr: &net.UDPAddr{IP: net.ParseIP("192.0.2.8"), Port: 9}, want: "192.0.2.8", wantOK: true},
		{name: "Unix socket", addr: &net.UnixAddr{Name: "/run/mllp.sock", Net: "unix"}},
		{name: "nil", addr: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip, ok := remoteIP(tc.addr)
			if ok != tc.wantOK || (ok && ip.String() != tc.want) {
				t.Errorf("remoteIP(%v) = %v, %v; want %s, %v", tc.addr, ip, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestServer_HandlerError_ClosesWithoutAck(t *testing.T) {
	checkGoroutines(t)
	h := HandlerFunc(func(context.Context, []byte, ConnInfo) ([]byte, error) {
		return []byte("ignored"), errors.New("store unavailable")
	})
	s := &Server{Handler: h}
	c := dialRaw(t, startServer(t, s))
	c.write(t, frame("x"))
	c.expectClosed(t)
	if st := s.Stats(); st.HandlerErrors != 1 || st.Acks != 0 {
		t.Errorf("Stats() = %+v, want 1 handler error, 0 ACKs", st)
	}
}

func TestServer_HandlerPanic_ClosesConnectionOnly(t *testing.T) {
	checkGoroutines(t)
	h := HandlerFunc(func(ctx context.Context, msg []byte, info ConnInfo) ([]byte, error) {
		if string(msg) == "boom" {
			panic("handler bug")
		}
		return echo(ctx, msg, info)
	})
	s := &Server{Handler: h}
	addr := startServer(t, s)
	c := dialRaw(t, addr)
	c.write(t, frame("boom"))
	c.expectClosed(t)
	if got := dialRaw(t, addr).roundTrip(t, "ok"); got != "ACK ok" {
		t.Errorf("ACK after panic = %q, want %q", got, "ACK ok")
	}
}

func TestServer_Handler_ConnInfo(t *testing.T) {
	checkGoroutines(t)
	infos := make(chan ConnInfo, 2)
	h := HandlerFunc(func(_ context.Context, _ []byte, info ConnInfo) ([]byte, error) {
		infos <- info
		return []byte("ok"), nil
	})
	addr := startServer(t, &Server{Handler: h})
	c := dialRaw(t, addr)
	c.roundTrip(t, "a")
	c.roundTrip(t, "b")
	i1, i2 := <-infos, <-infos
	if i1.ID == 0 || i1.ID != i2.ID || i1.RemoteAddr.String() != c.LocalAddr().String() || i1.TLS != nil {
		t.Errorf("ConnInfo = %+v then %+v, want one non-zero ID, RemoteAddr %s, no TLS", i1, i2, c.LocalAddr())
	}
}
