package mllp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	s.budget.testHookResize = func(used int64) { ch <- used }
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
	tests := []struct {
		name     string
		size     int
		wantKept int // assembly buffer capacity kept while idle afterwards
	}{
		{name: "fits the read buffer", size: 1 << 10, wantKept: 0},
		{name: "medium frame keeps its small buffer", size: 40 << 10, wantKept: smallAssembly},
		{name: "1 MiB frame", size: 1 << 20, wantKept: 0},
		{name: "15 MiB frame", size: 15 << 20, wantKept: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			h := capRecorder{caps: make(chan int, 1)}
			s := &Server{Handler: h}
			idle := awaitCaps(s)
			c := dialRaw(t, startServer(t, s))
			if got := recv(t, idle); got != 0 {
				t.Fatalf("assembly buffer before the first frame: cap %d, want 0", got)
			}
			if got, want := c.roundTrip(t, strings.Repeat("x", tc.size)), fmt.Sprintf("ACK %d", tc.size); got != want {
				t.Fatalf("answer = %q, want %q", got, want)
			}
			if got := recv(t, h.caps); got < tc.size {
				t.Errorf("payload capacity %d, want at least its size %d", got, tc.size)
			}
			if got := recv(t, idle); got != tc.wantKept {
				t.Errorf("assembly buffer after a %d-byte frame: cap %d, want %d", tc.size, got, tc.wantKept)
			}
			if st := s.Stats(); st.FrameBytes != 0 {
				t.Errorf("Stats().FrameBytes = %d after the frame, want 0", st.FrameBytes)
			}
		})
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
	if st := s.Stats(); st.FrameBytes != 0 || st.FramesOverBudget != 0 {
		t.Errorf("Stats() = %+v while a frame is held, want no frame bytes counted", st)
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &frameBudget{limit: tc.limit}
			r := NewReader(bytes.NewReader(in), 0)
			r.budget = b
			p, err := r.ReadFrame()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFrame() = %d bytes, %v; want %v", len(p), err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(p, big) {
				t.Fatalf("ReadFrame() = %d bytes, want the %d-byte payload", len(p), len(big))
			}
			if got := b.inUse(); got != charge(cap(r.buf)) || got > tc.limit {
				t.Errorf("budget in use %d, want the buffer's charge %d within the limit %d", got, charge(cap(r.buf)), tc.limit)
			}
			r.release(0)
			if got := b.inUse(); got != 0 {
				t.Errorf("budget in use after release = %d, want 0", got)
			}
		})
	}
}
