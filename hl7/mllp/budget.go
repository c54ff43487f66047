package mllp

import "sync/atomic"

// frameBudget is a Server's FrameBudget: how many bytes the assembly buffers
// of frames being read may hold, over all connections, beyond the first
// smallAssembly bytes of each. A nil *frameBudget is unbounded. It is safe
// for concurrent use.
type frameBudget struct {
	limit int64 // set before serving starts
	used  atomic.Int64

	testHookResize func(used int64) // after each change; nil outside white-box tests
}

// charge is the part of an assembly buffer of capacity c that counts
// against the budget.
func charge(c int) int64 { return int64(max(c-smallAssembly, 0)) }

// resize moves the charge of one buffer from capacity from to capacity to.
// Shrinking always succeeds. Growing fails, changing nothing, when the budget
// has too little left.
func (b *frameBudget) resize(from, to int) bool {
	if b == nil {
		return true
	}
	d := charge(to) - charge(from)
	if d <= 0 {
		b.changed(b.used.Add(d), d)
		return true
	}
	for {
		u := b.used.Load()
		if u+d > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+d) {
			b.changed(u+d, d)
			return true
		}
	}
}

func (b *frameBudget) changed(used, d int64) {
	if h := b.testHookResize; h != nil && d != 0 {
		h(used)
	}
}

// inUse returns the bytes charged now; zero for a nil budget.
func (b *frameBudget) inUse() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}
