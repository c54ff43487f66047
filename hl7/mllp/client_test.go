package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePeer is a hand-driven MLLP listener: each accepted connection is passed
// to the test on conns.
type fakePeer struct {
	addr  string
	conns chan *rawConn
}

func newFakePeer(t testing.TB) *fakePeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePeer{addr: ln.Addr().String(), conns: make(chan *rawConn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			p.conns <- &rawConn{Conn: c, r: NewReader(c, 0)}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(p.conns)
		for c := range p.conns {
			c.Close()
		}
	})
	return p
}

// accept returns the next connection; cleanup closes it.
func (p *fakePeer) accept(t testing.TB) *rawConn {
	t.Helper()
	c := recv(t, p.conns)
	t.Cleanup(func() { c.Close() })
	return c
}

func newClient(t testing.TB, c *Client) *Client {
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClient_Send_ReusesConnection(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	c := newClient(t, &Client{Addr: startServer(t, s)})
	for i := range 3 {
		msg := fmt.Sprintf("MSG%d", i)
		if ack, err := c.Send(t.Context(), []byte(msg)); err != nil || string(ack) != "ACK "+msg {
			t.Fatalf("Send(%q) = %q, %v, want %q", msg, ack, err, "ACK "+msg)
		}
	}
	if st := s.Stats(); st.ConnsAccepted != 1 {
		t.Errorf("Stats().ConnsAccepted = %d, want 1", st.ConnsAccepted)
	}
}

func TestClient_Send_ReconnectsAfterServerClose(t *testing.T) {
	pki := newTestPKI(t)
	for _, tc := range []struct {
		name      string
		serverTLS *tls.Config
		clientTLS *tls.Config
	}{
		{name: "tcp"},
		{
			name:      "tls",
			serverTLS: &tls.Config{Certificates: []tls.Certificate{pki.server}},
			clientTLS: &tls.Config{RootCAs: pki.pool},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			s := &Server{Handler: echo, TLSConfig: tc.serverTLS, IdleTimeout: 20 * time.Millisecond}
			done := connDone(s)
			c := newClient(t, &Client{Addr: startServer(t, s), TLSConfig: tc.clientTLS})
			if _, err := c.Send(t.Context(), []byte("one")); err != nil {
				t.Fatalf("Send(one) = %v", err)
			}
			recv(t, done) // the server closed the idle connection
			if ack, err := c.Send(t.Context(), []byte("two")); err != nil || string(ack) != "ACK two" {
				t.Fatalf("Send(two) after server close = %q, %v, want %q", ack, err, "ACK two")
			}
			if st := s.Stats(); st.ConnsAccepted != 2 || st.Frames != 2 {
				t.Errorf("Stats() = %+v, want 2 connections and 2 frames", st)
			}
		})
	}
}

func TestClient_Send_NoResendAfterWrite(t *testing.T) {
	checkGoroutines(t)
	p := newFakePeer(t)
	c := newClient(t, &Client{Addr: p.addr})
	go func() {
		// The peer reads the message and hangs up without an ACK.
		conn := <-p.conns
		conn.r.ReadFrame()
		conn.Close()
	}()
	if _, err := c.Send(t.Context(), []byte("once")); !errors.Is(err, ErrNoAck) {
		t.Fatalf("Send() = %v, want ErrNoAck", err)
	}
	// The next Send dials again; the message sent first must not reappear.
	sent := make(chan error, 1)
	go func() {
		_, err := c.Send(t.Context(), []byte("next"))
		sent <- err
	}()
	conn := p.accept(t)
	if got := conn.readFrame(t); got != "next" {
		t.Fatalf("first frame on the new connection = %q, want %q", got, "next")
	}
	conn.write(t, frame("ACK next"))
	if err := recv(t, sent); err != nil {
		t.Fatalf("Send(next) = %v", err)
	}
}

func TestClient_Send_AckTimeout(t *testing.T) {
	checkGoroutines(t)
	p := newFakePeer(t)
	c := newClient(t, &Client{Addr: p.addr, AckTimeout: 50 * time.Millisecond})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Send(t.Context(), []byte("slow"))
		errc <- err
	}()
	silent := p.accept(t)
	silent.readFrame(t) // and never answer
	err := recv(t, errc)
	if !errors.Is(err, ErrNoAck) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send() = %v, want ErrNoAck and os.ErrDeadlineExceeded", err)
	}
	// The timed-out connection is dropped: a late ACK on it cannot be taken
	// for the next message's.
	silent.write(t, frame("late ACK"))
	go func() {
		ack, err := c.Send(t.Context(), []byte("fast"))
		if err == nil && string(ack) != "ACK fast" {
			err = fmt.Errorf("ACK = %q", ack)
		}
		errc <- err
	}()
	conn := p.accept(t)
	conn.write(t, frame("ACK "+conn.readFrame(t)))
	if err := recv(t, errc); err != nil {
		t.Fatalf("Send() after timeout = %v, want nil", err)
	}
}

func TestClient_Send_ContextCanceledWhileWaiting(t *testing.T) {
	checkGoroutines(t)
	p := newFakePeer(t)
	c := newClient(t, &Client{Addr: p.addr})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, []byte("x"))
		errc <- err
	}()
	p.accept(t).readFrame(t)
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrNoAck) {
		t.Errorf("Send() = %v, want context.Canceled and ErrNoAck", err)
	}
}

func TestClient_Send_CheckAck(t *testing.T) {
	checkGoroutines(t)
	errNegative := errors.New("MSA-1 is AE")
	s := &Server{Handler: echo}
	c := newClient(t, &Client{Addr: startServer(t, s), CheckAck: func(msg, ack []byte) error {
		if strings.HasPrefix(string(msg), "bad") {
			return errNegative
		}
		return nil
	}})
	ack, err := c.Send(t.Context(), []byte("bad one"))
	if !errors.Is(err, errNegative) || string(ack) != "ACK bad one" {
		t.Errorf("Send(bad) = %q, %v, want the ACK and the CheckAck error", ack, err)
	}
	if _, err := c.Send(t.Context(), []byte("good")); err != nil {
		t.Errorf("Send(good) = %v, want nil", err)
	}
	if st := s.Stats(); st.ConnsAccepted != 1 {
		t.Errorf("a CheckAck failure dropped the connection: %d connections, want 1", st.ConnsAccepted)
	}
}

func TestClient_Send_ConcurrentCallersShareOneConnection(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	c := newClient(t, &Client{Addr: startServer(t, s)})
	var wg sync.WaitGroup
	errs := make(chan error, 16*25)
	for g := range 16 {
		wg.Go(func() {
			for i := range 25 {
				msg := fmt.Sprintf("G%d-M%d", g, i)
				ack, err := c.Send(t.Context(), []byte(msg))
				if err == nil && string(ack) != "ACK "+msg {
					err = fmt.Errorf("Send(%q) = %q, want %q", msg, ack, "ACK "+msg)
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := s.Stats(); st.ConnsAccepted != 1 || st.Frames != 400 {
		t.Errorf("Stats() = %+v, want 1 connection and 400 frames", st)
	}
}

func TestClient_Send_OversizedAck(t *testing.T) {
	checkGoroutines(t)
	c := newClient(t, &Client{Addr: startServer(t, &Server{Handler: echo}), MaxMessageSize: 10})
	_, err := c.Send(t.Context(), []byte(strings.Repeat("x", 100)))
	if !errors.Is(err, ErrNoAck) || !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("Send() = %v, want ErrNoAck and ErrMessageTooLarge", err)
	}
}

func TestClient_Send_DialErrorIsNotNoAck(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, &Client{Addr: addr})
	if _, err := c.Send(t.Context(), []byte("x")); err == nil || errors.Is(err, ErrNoAck) {
		t.Errorf("Send() to a closed port = %v, want a dial error without ErrNoAck", err)
	}
}

func TestClient_Close(t *testing.T) {
	checkGoroutines(t)
	p := newFakePeer(t)
	c := &Client{Addr: p.addr}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Send(t.Context(), []byte("x"))
		errc <- err
	}()
	p.accept(t).readFrame(t)
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := recv(t, errc); !errors.Is(err, ErrNoAck) {
		t.Errorf("Send() interrupted by Close = %v, want ErrNoAck", err)
	}
	if _, err := c.Send(t.Context(), []byte("y")); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Send() after Close = %v, want ErrClientClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestClient_Send_Validate(t *testing.T) {
	for _, c := range []*Client{{}, {Addr: "x:1", MaxMessageSize: -1}} {
		if _, err := c.Send(t.Context(), nil); err == nil {
			t.Errorf("Send() with %+v = nil error, want a configuration error", c)
		}
	}
}
