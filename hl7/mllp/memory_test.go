package mllp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// awaitCaps installs a hook on s that sends the assembly buffer capacity of each
// connection every time it starts waiting for a frame. Call before serving.
func awaitCaps(s *Server) <-chan int {
	ch := make(chan int, 1024)
	s.testHookAwaitFrame = func(c int) { ch <- c }
	return ch
}

// budgetUsed installs a hook on s's frame budget that sends the bytes in use after
// each change. Call before serving.
func budgetUsed(s *Server) <-chan int64 {
	ch := make(chan int64, 1<<16)
	s.mem.testHookResize = func(used int64) { ch <- used }
	return ch
}

// recvUntil receives from ch until ok accepts a value, failing t after 20 s.
func recvUntil[T any](t testing.TB, ch <-chan T, ok func(T) bool) T {
	t.Helper()
	for {
		if v := recv(t, ch); ok(v) {
			return v
		}
	}
}

// capRecorder answers "ACK <len>" and records the capacity of each payload it
// is handed, which for an assembled frame is its assembly buffer's.
type capRecorder struct{ caps chan int }

func (h capRecorder) ServeMLLP(_ context.Context, msg []byte, _ ConnInfo) ([]byte, error) {
	h.caps <- cap(msg)
	return fmt.Appendf(nil, "ACK %d", len(msg)), nil
}

func TestServer_LargeFrame_BufferReleasedAfterFrame(t *testing.T) {
	for _, size := range []int{1 << 10, 40 << 10, 1 << 20, 15 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			checkGoroutines(t)
			h := capRecorder{caps: make(chan int, 1)}
			s := &Server{Handler: h}
			idle := awaitCaps(s)
			c := dialRaw(t, startServer(t, s))
			if got := recv(t, idle); got != 0 {
				t.Fatalf("assembly buffer before the first frame: cap %d, want 0", got)
			}
			if got, want := c.roundTrip(t, strings.Repeat("x", size)), fmt.Sprintf("ACK %d", size); got != want {
				t.Fatalf("answer = %q, want %q", got, want)
			}
			if got := recv(t, h.caps); got < size {
				t.Errorf("payload capacity %d, want at least its size %d", got, size)
			}
			if got := recv(t, idle); got != 0 {
				t.Errorf("assembly buffer after a %d-byte frame: cap %d, want 0 (given back)", size, got)
			}
			if st := s.Stats(); st.FrameBytes != 0 {
				t.Errorf("Stats().FrameBytes = %d after the frame, want 0", st.FrameBytes)
			}
		})
	}
}

// A buffer given back after a frame serves the next frame of its size on
// another connection.
func TestServer_LargeFrame_BufferReused(t *testing.T) {
	checkGoroutines(t)
	data := make(chan *byte, 2)
	h := HandlerFunc(func(_ context.Context, msg []byte, _ ConnInfo) ([]byte, error) {
		data <- &msg[0]
		return []byte("ok"), nil
	})
	s := &Server{Handler: h}
	idle := awaitCaps(s)
	addr := startServer(t, s)
	for i := range 2 {
		c := dialRaw(t, addr)
		recv(t, idle)
		if got := c.roundTrip(t, strings.Repeat("r", 1<<20)); got != "ok" {
			t.Fatalf("answer %d = %q, want ok", i, got)
		}
		recv(t, idle) // the buffer is back
	}
	if a, b := recv(t, data), recv(t, data); a != b {
		t.Error("the second connection's 1 MiB frame was assembled in a new buffer, want the first one's, given back")
	}
	if got := s.mem.pooled(); got == 0 || got > int64(s.maxMessageSize()) {
		t.Errorf("free buffers kept: %d bytes, want some and at most %d", got, s.maxMessageSize())
	}
}

// Idle connections that each received a large frame pin no large buffer.
func TestServer_LargeFrame_IdleConnectionsPinNothing(t *testing.T) {
	checkGoroutines(t)
	const conns, size = 8, 2 << 20
	s := &Server{Handler: echo}
	idle := awaitCaps(s)
	addr := startServer(t, s)
	for range conns {
		c := dialRaw(t, addr)
		if got := recv(t, idle); got != 0 {
			t.Fatalf("new connection: assembly buffer cap %d, want 0", got)
		}
		if got := c.roundTrip(t, strings.Repeat("y", size)); len(got) != size+4 {
			t.Fatalf("answer of %d bytes, want %d", len(got), size+4)
		}
		if got := recv(t, idle); got != 0 {
			t.Errorf("connection idle after a %d-byte frame: assembly buffer cap %d, want 0", size, got)
		}
	}
	if st := s.Stats(); st.FrameBytes != 0 || st.ConnsOpen != conns {
		t.Errorf("Stats() = %+v, want %d open connections holding no frame bytes", st, conns)
	}
}

func TestServer_FrameBudget_ClosesConnectionOverBudget(t *testing.T) {
	checkGoroutines(t)
	const max = 1 << 20
	s := &Server{Handler: echo, MaxMessageSize: max, FrameBudget: max}
	used := budgetUsed(s)
	done := connDone(s)
	addr := startServer(t, s)

	// a holds most of the budget with a frame it has not finished.
	a := dialRaw(t, addr)
	head := "\x0b" + strings.Repeat("a", 900<<10)
	a.write(t, head)
	recvUntil(t, used, func(u int64) bool { return u == charge(max) })

	// b's frame needs more than is left: b is closed without an answer.
	b := dialRaw(t, addr)
	b.write(t, frame(strings.Repeat("b", 500<<10)))
	b.expectClosed(t)
	recv(t, done)
	if st := s.Stats(); st.FramesOverBudget != 1 || st.Frames != 0 || st.FrameBytes != charge(max) {
		t.Errorf("Stats() = %+v, want 1 frame over budget, 0 frames, %d frame bytes (a's)", st, charge(max))
	}

	// a finishes its frame and is answered; then the budget is free again.
	a.write(t, "\x1c\r")
	if got := a.readFrame(t); len(got) != 4+900<<10 {
		t.Errorf("answer to a's frame: %d bytes, want %d", len(got), 4+900<<10)
	}
	if got := dialRaw(t, addr).roundTrip(t, strings.Repeat("c", 500<<10)); len(got) != 4+500<<10 {
		t.Errorf("answer once the budget is free: %d bytes, want %d", len(got), 4+500<<10)
	}
	if st := s.Stats(); st.Frames != 2 || st.FramesOverBudget != 1 || st.FrameBytes != 0 {
		t.Errorf("Stats() = %+v, want 2 frames, 1 over budget, 0 frame bytes", st)
	}
}

// A frame cut short (the peer stalls until ReadTimeout, or goes away) gives its
// budget back.
func TestServer_FrameBudget_ReturnedWhenFrameCutShort(t *testing.T) {
	checkGoroutines(t)
	s := &Server{Handler: echo}
	used := budgetUsed(s)
	done := connDone(s)
	addr := startServer(t, s)
	c := dialRaw(t, addr)
	c.write(t, "\x0b"+strings.Repeat("z", 3<<20))
	recvUntil(t, used, func(u int64) bool { return u >= 3<<20-smallAssembly })
	c.Close()
	recv(t, done)
	if st := s.Stats(); st.FrameBytes != 0 {
		t.Errorf("Stats().FrameBytes = %d after the connection closed mid-frame, want 0", st.FrameBytes)
	}
}

// An oversized frame is still answered through OversizeHandler, and discarding
// it holds none of the budget: another connection's frame of the maximum size
// gets through meanwhile.
func TestServer_FrameBudget_OversizedFrameHoldsNothing(t *testing.T) {
	checkGoroutines(t)
	const max = 256 << 10
	s := &Server{Handler: sizeAware{echo}, MaxMessageSize: max, FrameBudget: max}
	used := budgetUsed(s)
	addr := startServer(t, s)
	big := dialRaw(t, addr)
	big.write(t, "\x0bMSH|^~\\&"+strings.Repeat("o", max)) // over the cap, not finished
	recvUntil(t, used, func(u int64) bool { return u > 0 })
	recvUntil(t, used, func(u int64) bool { return u == 0 }) // dropped at the cap
	other := dialRaw(t, addr)
	if got := other.roundTrip(t, strings.Repeat("m", max)); len(got) != 4+max {
		t.Errorf("answer to a maximum-size frame while another is discarded: %d bytes, want %d", len(got), 4+max)
	}
	big.write(t, strings.Repeat("o", 1000)+"\x1c\r")
	if got, want := big.readFrame(t), fmt.Sprintf("AR size=%d head=MSH|^~\\&", max+1008); got != want {
		t.Errorf("answer to the oversized frame = %q, want %q", got, want)
	}
	if got := big.roundTrip(t, "after"); got != "ACK after" {
		t.Errorf("answer after the oversized frame = %q, want %q", got, "ACK after")
	}
	if st := s.Stats(); st.Oversized != 1 || st.FramesOverBudget != 0 || st.FrameBytes != 0 {
		t.Errorf("Stats() = %+v, want 1 oversized, none over budget, 0 frame bytes", st)
	}
}

func TestServer_FrameBudget_NegativeMeansNone(t *testing.T) {
	checkGoroutines(t)
	const max = 256 << 10
	s := &Server{Handler: echo, MaxMessageSize: max, FrameBudget: -1}
	addr := startServer(t, s)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.write(t, "\x0b"+strings.Repeat("a", max-1)) // holds a frame of almost the cap
	if got := b.roundTrip(t, strings.Repeat("b", max)); len(got) != 4+max {
		t.Errorf("answer with no budget: %d bytes, want %d", len(got), 4+max)
	}
	if st := s.Stats(); st.FrameBytes != charge(max) || st.FramesOverBudget != 0 {
		t.Errorf("Stats() = %+v while a frame is held, want its %d frame bytes counted, none refused", st, charge(max))
	}
	a.write(t, "\x1c")
	if got := a.readFrame(t); len(got) != 4+max-1 {
		t.Errorf("answer with no budget: %d bytes, want %d", len(got), 4+max-1)
	}
}

func TestReader_ReadFrame_Budget(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 300<<10)
	in := AppendFrame(AppendFrame(nil, big), []byte("next"))
	tests := []struct {
		name    string
		limit   int64
		wantErr error
	}{
		{name: "enough", limit: charge(512 << 10)},
		{name: "too little", limit: charge(256 << 10), wantErr: errFrameBudget},
		{name: "none", limit: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &frameMemory{limit: tc.limit, maxFree: 1 << 20}
			r := NewReader(bytes.NewReader(in), 0)
			r.mem = m
			p, err := r.ReadFrame()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFrame() = %d bytes, %v; want %v", len(p), err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(p, big) {
				t.Fatalf("ReadFrame() = %d bytes, want the %d-byte payload", len(p), len(big))
			}
			if got := m.inUse(); got != charge(cap(r.buf)) || (tc.limit >= 0 && got > tc.limit) {
				t.Errorf("budget in use %d, want the buffer's charge %d within the limit %d", got, charge(cap(r.buf)), tc.limit)
			}
			r.release()
			if got := m.inUse(); got != 0 {
				t.Errorf("budget in use after release = %d, want 0", got)
			}
		})
	}
}

func TestFrameMemory_KeepsAtMostMaxFree(t *testing.T) {
	m := &frameMemory{limit: -1, maxFree: 3 * smallAssembly}
	var bufs [][]byte
	for range 4 {
		b, ok := m.grow(nil, smallAssembly)
		if !ok || cap(b) != smallAssembly {
			t.Fatalf("grow(nil, %d) = cap %d, %v", smallAssembly, cap(b), ok)
		}
		bufs = append(bufs, b)
	}
	for _, b := range bufs {
		m.release(b)
	}
	if got := m.pooled(); got != 3*smallAssembly {
		t.Errorf("after giving back 4 buffers: %d bytes kept, want %d (maxFree)", got, 3*smallAssembly)
	}
	for i := range 4 {
		b, _ := m.grow(nil, smallAssembly)
		if reused := i < 3; reused != slices.ContainsFunc(bufs, func(o []byte) bool { return &o[:1][0] == &b[:1][0] }) {
			t.Errorf("buffer %d taken: reused %v, want %v", i, !reused, reused)
		}
	}
	if got := m.pooled(); got != 0 {
		t.Errorf("after taking 4 buffers: %d bytes kept, want 0", got)
	}
}
