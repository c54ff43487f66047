package bolt

import (
	"bytes"
	"testing"
)

// The bytes of every record taken stay as written until reset, whether the record fit
// its chunk or outgrew it; after reset the chunks are used again.
func TestRecordArena(t *testing.T) {
	var a recordArena
	type kept struct{ rec, want []byte }
	var all []kept
	for i, n := range []int{100, 5000, arenaChunk - 70000, 20000, 3 * arenaChunk, 10, 0, 300} {
		rec := a.next()
		if len(rec) != 0 {
			t.Fatalf("record %d: next returned %d bytes, want an empty buffer", i, len(rec))
		}
		for j := range n {
			rec = append(rec, byte(i*31+j))
		}
		a.take(rec)
		all = append(all, kept{rec, bytes.Clone(rec)})
	}
	for i, k := range all {
		if !bytes.Equal(k.rec, k.want) {
			t.Fatalf("record %d changed after later records were built", i)
		}
	}
	chunks := len(a.full) + 1
	if chunks < 2 {
		t.Fatalf("%d chunks used for more than a chunk of records", chunks)
	}
	a.reset()
	if a.used != 0 || len(a.full) != 0 || len(a.spare) != chunks-1 {
		t.Fatalf("after reset: used %d, %d full, %d spare; want 0, 0, %d", a.used, len(a.full), len(a.spare), chunks-1)
	}
	// Filling the current chunk again takes a spare one rather than allocating.
	spare := a.spare[len(a.spare)-1]
	a.take(append(a.next(), make([]byte, arenaChunk-arenaMinRest+1)...))
	if got := a.next(); &got[:1][0] != &spare[0] {
		t.Error("the arena allocated a chunk while a spare one was free")
	}
}
