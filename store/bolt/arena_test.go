package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/store"
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

// Through the store: raw bodies of many sizes (some larger than a chunk) written by
// concurrent updates, some failing and so rebuilding the open transaction, across many
// flushes that hand the chunks out again. Every body reads back intact, before and after
// a crash.
func TestDB_RecordChunksReused(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Config{Dir: dir, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{10, 3000, arenaMinRest - 100, arenaMinRest + 100, arenaChunk / 3, arenaChunk + 5000}
	body := func(i int) []byte {
		b := make([]byte, sizes[i%len(sizes)])
		for j := range b {
			b[j] = byte(i + j/7)
		}
		return b
	}
	ids := make([]string, 120)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(ids); i += 8 {
				m := &store.Message{Kind: "hl7v2", Sender: "S", ControlID: fmt.Sprint("R", i), AckCode: "AA"}
				if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutMessage(m, body(i)) }); err != nil {
					t.Error(err)
					return
				}
				ids[i] = m.ID
				failing := errors.New("refused")
				err := db.Update(t.Context(), func(tx store.Tx) error {
					if err := tx.PutMessage(&store.Message{Kind: "hl7v2", Sender: "S", ControlID: fmt.Sprint("X", i)}, body(i+1)); err != nil {
						return err
					}
					return failing
				})
				if !errors.Is(err, failing) {
					t.Errorf("failing update %d: %v", i, err)
				}
				if i%10 == 0 { // a reader forces a flush
					if err := db.View(t.Context(), func(store.ReadTx) error { return nil }); err != nil {
						t.Errorf("flushing read %d: %v", i, err)
					}
				}
			}
		})
	}
	wg.Wait()
	check := func(db *DB) {
		t.Helper()
		err := db.View(t.Context(), func(tx store.ReadTx) error {
			for i, id := range ids {
				if raw, err := tx.Raw(id); err != nil || !bytes.Equal(raw, body(i)) {
					t.Errorf("message %d (%s): %d bytes, %v; want its %d-byte body", i, id, len(raw), err, len(body(i)))
				}
			}
			if _, n, _ := tx.Messages(store.MessageQuery{}); n != len(ids) {
				t.Errorf("%d messages counted, want %d", n, len(ids))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(db)
	more := &store.Message{Kind: "hl7v2", Sender: "S", ControlID: "last", AckCode: "AA"}
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutMessage(more, body(len(ids))) }); err != nil {
		t.Fatal(err)
	}
	if err := Crash(db); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, err := range CheckFile(db) {
		t.Errorf("B+tree file check after recovery: %v", err)
	}
	ids = append(ids, more.ID)
	check(db)
}
