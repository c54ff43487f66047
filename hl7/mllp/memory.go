package mllp

import (
	"sync"
	"sync/atomic"
)

// frameMemory provides the assembly buffers of a Server's connections. It
// charges what they hold beyond their first smallAssembly bytes to the
// FrameBudget, and keeps the buffers given back for reuse, by capacity, up to
// maxFree bytes of them: frames growing and ending on many connections then
// recycle one another's buffers instead of leaving them to the garbage
// collector. Capacities are smallAssembly<<k, the largest capped at the size
// cap, so that buffers of one capacity serve every frame of that class.
//
// A reused buffer holds an earlier frame's bytes beyond the length it is
// handed out with; only the bytes of the current payload are ever exposed.
// It is safe for concurrent use.
type frameMemory struct {
	limit   int64 // FrameBudget in bytes, negative for none; set before serving
	maxFree int64 // bytes of free buffers kept; set before serving
	used    atomic.Int64

	mu        sync.Mutex
	free      map[int][][]byte // by capacity
	freeBytes int64

	testHookResize func(used int64) // after each change; nil outside white-box tests
}

// charge is the part of an assembly buffer of capacity c that counts
// against the budget.
func charge(c int) int64 { return int64(max(c-smallAssembly, 0)) }

// grow returns a buffer of capacity c holding a copy of buf, taken from the
// free buffers when one fits, and gives buf back. It fails, changing
// nothing, when the budget has not enough left for c.
func (m *frameMemory) grow(buf []byte, c int) ([]byte, bool) {
	if !m.resize(cap(buf), c) {
		return nil, false
	}
	nb := append(m.take(c), buf...)
	m.give(buf)
	return nb, true
}

// release gives buf back with its charge. buf must not be used afterwards.
func (m *frameMemory) release(buf []byte) {
	m.resize(cap(buf), 0)
	m.give(buf)
}

// resize moves the charge of one buffer from capacity from to capacity to.
// Shrinking always succeeds. Growing fails, changing nothing, when the budget
// has too little left.
func (m *frameMemory) resize(from, to int) bool {
	d := charge(to) - charge(from)
	if d <= 0 {
		m.changed(m.used.Add(d), d)
		return true
	}
	for {
		u := m.used.Load()
		if m.limit >= 0 && u+d > m.limit {
			return false
		}
		if m.used.CompareAndSwap(u, u+d) {
			m.changed(u+d, d)
			return true
		}
	}
}

func (m *frameMemory) changed(used, d int64) {
	if h := m.testHookResize; h != nil && d != 0 {
		h(used)
	}
}

// take returns an empty buffer of capacity c, a free one if there is one.
func (m *frameMemory) take(c int) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.free[c]
	if len(l) == 0 {
		return make([]byte, 0, c)
	}
	b := l[len(l)-1]
	l[len(l)-1] = nil
	m.free[c] = l[:len(l)-1]
	m.freeBytes -= int64(c)
	return b
}

// give keeps b for reuse, unless that would keep more than maxFree bytes;
// then b is left to the garbage collector.
func (m *frameMemory) give(b []byte) {
	c := cap(b)
	if c == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freeBytes+int64(c) > m.maxFree {
		return
	}
	if m.free == nil {
		m.free = make(map[int][][]byte)
	}
	m.free[c] = append(m.free[c], b[:0])
	m.freeBytes += int64(c)
}

// inUse returns the bytes charged now.
func (m *frameMemory) inUse() int64 { return m.used.Load() }

// pooled returns the bytes of free buffers kept.
func (m *frameMemory) pooled() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.freeBytes
}
