package bolt

import "unsafe"

// recordArena hands out the buffers that log records are built in. The write
// transaction points into a record until the next flush, so a record's bytes must stay
// put until then; allocating a fresh buffer per group made the committer the largest
// allocator in the process. The arena carves records out of large chunks instead and
// takes every chunk back at a flush.
type recordArena struct {
	chunk []byte   // the chunk records are carved from now
	used  int      // chunk[:used] holds records
	full  [][]byte // chunks handed out since the last flush, chunk excluded
	spare [][]byte // chunks free for reuse
}

const (
	arenaChunk   = 1 << 20 // bytes per chunk
	arenaMinRest = 64 << 10
	arenaSpare   = 8 // chunks kept for reuse after a flush; more are left to the GC
)

// next returns an empty buffer for the next record: the rest of the current chunk, or
// a chunk of its own when little is left. Appending past its capacity moves the record
// to the heap; take then retires the chunk, whose bytes the transaction may point into.
func (a *recordArena) next() []byte {
	if len(a.chunk)-a.used < arenaMinRest {
		if a.chunk != nil {
			a.full = append(a.full, a.chunk)
		}
		if n := len(a.spare); n > 0 {
			a.chunk, a.spare = a.spare[n-1], a.spare[:n-1]
		} else {
			a.chunk = make([]byte, arenaChunk)
		}
		a.used = 0
	}
	return a.chunk[a.used:a.used:len(a.chunk)]
}

// take marks rec, a buffer from next after the group wrote its record into it, as in
// use until the next flush.
func (a *recordArena) take(rec []byte) {
	if len(rec) == 0 {
		return
	}
	if a.used < len(a.chunk) && unsafe.SliceData(rec) == &a.chunk[a.used] {
		a.used += len(rec)
		return
	}
	a.used = len(a.chunk) // rec outgrew the chunk, which may hold the start of it
}

// reset makes every chunk free again: nothing points into them any more.
func (a *recordArena) reset() {
	for _, c := range a.full {
		if len(a.spare) < arenaSpare {
			a.spare = append(a.spare, c)
		}
	}
	clear(a.full)
	a.full = a.full[:0]
	a.used = 0
}
