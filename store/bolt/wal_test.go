package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// openUnflushed opens a store that flushes only when a reader asks, so that a Crash
// leaves the acknowledged writes in the write-ahead log alone.
func openUnflushed(t *testing.T, dir string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(bolt.Config{Dir: dir, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// putMessages stores n messages with orders concurrently, control IDs prefix0..n-1,
// and returns their IDs by control ID.
func putMessages(t *testing.T, db *bolt.DB, prefix string, n int) map[string]string {
	t.Helper()
	var mu sync.Mutex
	ids := map[string]string{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctl := fmt.Sprint(prefix, i)
			m := &store.Message{Kind: "hl7v2", Sender: "S", ControlID: ctl, Dedupe: true, AckCode: "AA"}
			err := db.Update(context.Background(), func(tx store.Tx) error {
				o := newOrder("S", ctl)
				if err := tx.PutOrder(o); err != nil {
					return err
				}
				m.OrderIDs = []string{o.ID}
				return tx.PutMessage(m, []byte("MSH|^~\\&|"+ctl))
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[ctl] = m.ID
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ids
}

// checkFile fails the test when bbolt's consistency check finds a problem in db's
// B+tree file.
func checkFile(t *testing.T, db *bolt.DB) {
	t.Helper()
	for _, err := range bolt.CheckFile(db) {
		t.Errorf("B+tree file check: %v", err)
	}
}

// checkMessages asserts that every message in ids is stored under its ID with its raw
// bytes and its order, and that the store counts exactly msgs messages and orders
// orders.
func checkMessages(t *testing.T, db *bolt.DB, ids map[string]string, msgs, orders int) {
	t.Helper()
	err := db.View(t.Context(), func(tx store.ReadTx) error {
		for ctl, id := range ids {
			m, err := tx.MessageByKey("S", ctl, "")
			if err != nil || m.ID != id {
				t.Errorf("message %s: %v, %v; want ID %s", ctl, m, err, id)
				continue
			}
			if raw, err := tx.Raw(id); err != nil || string(raw) != "MSH|^~\\&|"+ctl {
				t.Errorf("raw of %s = %q, %v", id, raw, err)
			}
			if o, err := tx.OrderByKey(newOrder("S", ctl).Key()); err != nil || o.ID != m.OrderIDs[0] {
				t.Errorf("order of %s: %v, %v", ctl, o, err)
			}
		}
		if _, n, _ := tx.Messages(store.MessageQuery{}); n != msgs {
			t.Errorf("%d messages counted, want %d", n, msgs)
		}
		if _, n, _ := tx.Orders(store.OrderQuery{}); n != orders {
			t.Errorf("%d orders counted, want %d", n, orders)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDB_Crash_ReplaysLog(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	ids := putMessages(t, db, "C", 300)
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, bolt.WALFileName)); err != nil || st.Size() == 0 {
		t.Fatalf("write-ahead log after the crash: %v, %v", st, err)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	checkMessages(t, db, ids, 300, 300)
	// IDs go on past the replayed records and every ID that may have been handed out
	// before the crash: past the mark the first reservation wrote, IDChunk past ID 1.
	if id, want := reserve(t, db, store.KindMessage), store.FormatID(store.KindMessage, 1+bolt.IDChunk+1); id != want {
		t.Errorf("first message ID after recovery = %s, want %s (past the high-water mark)", id, want)
	}
	// A second crash right after recovery loses nothing either.
	more := putMessages(t, db, "D", 20)
	db.Close()
	db = openUnflushed(t, dir)
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	for k, v := range more {
		ids[k] = v
	}
	checkMessages(t, db, ids, 320, 320)
}

// After a flush the log starts over at its beginning: records from before must not be
// applied again on top of later changes.
func TestDB_Crash_AfterFlush_OldRecordsIgnored(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	o := newOrder("S", "P1")
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
		t.Fatal(err)
	}
	ids := putMessages(t, db, "A", 50)                                                    // a long log before the flush
	if err := db.View(t.Context(), func(store.ReadTx) error { return nil }); err != nil { // flushes
		t.Fatal(err)
	}
	o.Status = order.StatusCancelled
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	checkMessages(t, db, ids, 50, 51)
	view(t, db, func(tx store.ReadTx) error {
		got, err := tx.Order(o.ID)
		if err != nil || got.Status != order.StatusCancelled {
			t.Errorf("order after recovery: %+v, %v; want the canceled version", got, err)
		}
		if list, _, _ := tx.Orders(store.OrderQuery{Status: order.StatusReceived}); len(list) != 50 {
			t.Errorf("%d received orders, want 50 (the canceled one left its old status)", len(list))
		}
		return nil
	})
}

// A record whose write was torn by the crash was never acknowledged: recovery stops
// before it and keeps everything before.
func TestDB_Crash_TornLastRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(data []byte, end int) []byte
	}{
		{"truncated", func(d []byte, end int) []byte { return d[:end-5] }},
		{"flipped byte", func(d []byte, end int) []byte { d[end-3] ^= 0x40; return d }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openUnflushed(t, dir)
			ids := putMessages(t, db, "T", 10)
			path := filepath.Join(dir, bolt.WALFileName)
			before, _ := os.ReadFile(path)
			end := logEnd(before)
			if err := db.Update(t.Context(), func(tx store.Tx) error {
				return tx.PutMessage(&store.Message{Sender: "S", ControlID: "torn", Dedupe: true}, []byte("last"))
			}); err != nil {
				t.Fatal(err)
			}
			if err := bolt.Crash(db); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			last := logEnd(data)
			if last <= end {
				t.Fatalf("the last update wrote no record (log end %d, before %d)", last, end)
			}
			if err := os.WriteFile(path, tc.corrupt(data, last), 0o600); err != nil {
				t.Fatal(err)
			}
			db = openDB(t, dir)
			checkFile(t, db)
			checkMessages(t, db, ids, 10, 10)
			view(t, db, func(tx store.ReadTx) error {
				if _, err := tx.MessageByKey("S", "torn", ""); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the torn record was applied: %v", err)
				}
				return nil
			})
			// The store goes on writing after it.
			more := putMessages(t, db, "U", 3)
			for k, v := range more {
				ids[k] = v
			}
			checkMessages(t, db, ids, 13, 13)
		})
	}
}

// logEnd returns where the zero fill after the last record begins.
func logEnd(data []byte) int {
	end := len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	return end
}

// An update function that fails after writing leaves nothing behind, in the open
// transaction, in the log, or after recovery, while the others in its group stay.
func TestDB_FailedUpdate_LeavesNothing_AfterCrash(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	var wg sync.WaitGroup
	errs := make([]error, 60)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.PutOrder(newOrder("S", fmt.Sprint("F", i))); err != nil {
					return err
				}
				if err := tx.PutMessage(&store.Message{Sender: "S", ControlID: fmt.Sprint(i), Dedupe: true}, nil); err != nil {
					return err
				}
				if i%4 == 1 {
					return errors.New("refused after writing")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	check := func(db *bolt.DB, when string, orders int) {
		view(t, db, func(tx store.ReadTx) error {
			for i, uerr := range errs {
				_, merr := tx.MessageByKey("S", fmt.Sprint(i), "")
				_, oerr := tx.OrderByKey(newOrder("S", fmt.Sprint("F", i)).Key())
				if (uerr == nil) != (merr == nil) || (uerr == nil) != (oerr == nil) {
					t.Errorf("%s: update %d returned %v; message %v, order %v", when, i, uerr, merr, oerr)
				}
			}
			if _, n, _ := tx.Orders(store.OrderQuery{}); n != orders {
				t.Errorf("%s: %d orders counted, want %d", when, n, orders)
			}
			return nil
		})
	}
	check(db, "before the crash", 45)
	// Writes after the rebuild of the transaction land too.
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(newOrder("S", "after")) }); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	check(db, "after recovery", 46)
	view(t, db, func(tx store.ReadTx) error {
		if _, err := tx.OrderByKey(newOrder("S", "after").Key()); err != nil {
			t.Errorf("order written after the failed updates: %v", err)
		}
		return nil
	})
}

// A group larger than the log's first allocation grows it.
func TestDB_Crash_LargeRecord(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	big := []byte(strings.Repeat("OBX|1|TX|||large report text|\r", 120_000)) // ~3.6 MB
	m := &store.Message{Sender: "S", ControlID: "big", Dedupe: true}
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutMessage(m, big) }); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	view(t, db, func(tx store.ReadTx) error {
		raw, err := tx.Raw(m.ID)
		if err != nil || string(raw) != string(big) {
			t.Errorf("large raw after recovery: %d bytes, %v; want %d", len(raw), err, len(big))
		}
		return nil
	})
}

// A reader sees an acknowledged write at once, not after the flush interval.
func TestDB_View_SeesAcknowledgedWrites(t *testing.T) {
	db := openUnflushed(t, t.TempDir())
	defer db.Close()
	for i := range 5 {
		o := newOrder("S", fmt.Sprint("V", i))
		if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := db.View(ctx, func(tx store.ReadTx) error {
			_, err := tx.Order(o.ID)
			return err
		})
		cancel()
		if err != nil {
			t.Fatalf("read after write %d: %v", i, err)
		}
	}
}

// Records that do not continue from what the B+tree holds mean the log lost records:
// Open refuses rather than start from a state that skips acknowledged writes.
func TestOpen_LogWithGap(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	for i := range 3 { // one after another: a record each
		putMessages(t, db, fmt.Sprint("G", i, "-"), 1)
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, bolt.WALFileName)
	data, _ := os.ReadFile(path)
	// Drop the first record: its length is in bytes 4..8 of its 24-byte header, below
	// the format bit.
	n := int(binary.BigEndian.Uint32(data[4:8]) &^ (1 << 31))
	if err := os.WriteFile(path, data[24+n:], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(bolt.Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "records are missing") {
		t.Fatalf("Open with a gap in the log = %v, want a refusal naming missing records", err)
	}
}

// A log write that fails puts the store out of service: the update is not
// acknowledged, every later call fails with the cause, and a restart recovers every
// write acknowledged before.
func TestDB_LogWriteFails_StoreFails(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	ids := putMessages(t, db, "K", 5)
	bolt.BreakLog(db)
	err := db.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutMessage(&store.Message{Sender: "S", ControlID: "lost", Dedupe: true}, []byte("x"))
	})
	if err == nil || !strings.Contains(err.Error(), "store failed") {
		t.Fatalf("Update with a broken log = %v, want the store failed", err)
	}
	if db.Err() == nil {
		t.Error("Err() = nil after the log failed")
	}
	if err := db.Update(t.Context(), func(store.Tx) error { return nil }); err == nil {
		t.Error("a later Update succeeded on a failed store")
	}
	if err := db.View(t.Context(), func(store.ReadTx) error { return nil }); err == nil {
		t.Error("View succeeded on a failed store")
	}
	db.Close() // the log's file is gone already: only the B+tree closes
	db = openDB(t, dir)
	if db.Err() != nil {
		t.Fatalf("after restart: %v", db.Err())
	}
	checkFile(t, db)
	checkMessages(t, db, ids, 5, 5)
	view(t, db, func(tx store.ReadTx) error {
		if _, err := tx.MessageByKey("S", "lost", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the unacknowledged update was kept: %v", err)
		}
		return nil
	})
}

// A backup taken while the store runs holds every acknowledged write, also those only
// in the log so far, and opens as a data directory of its own.
func TestDB_Backup(t *testing.T) {
	db := openUnflushed(t, t.TempDir())
	defer db.Close()
	ids := putMessages(t, db, "B", 40)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(t.Context(), f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n == 0 {
		t.Fatalf("Backup = %d, %v", n, err)
	}
	// Writes after the backup do not reach it.
	putMessages(t, db, "after", 3)
	copyDB := openDB(t, dir)
	checkFile(t, copyDB)
	checkMessages(t, copyDB, ids, 40, 40)
}

// logOffsets returns where each record of the log starts, reading the headers the
// store writes (24 bytes, the length below the format bit) up to the zero fill.
func logOffsets(data []byte) []int {
	var offs []int
	for off := 0; off+24 <= len(data); {
		word := binary.BigEndian.Uint32(data[off+4 : off+8])
		if word == 0 {
			break
		}
		offs = append(offs, off)
		off += 24 + int(word&^(1<<31))
	}
	return offs
}

// writeRecords stores n messages one Update after another, so that each is a log
// record and a write of its own, and crashes the store, leaving them in the log alone.
func writeRecords(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	db := openUnflushed(t, dir)
	ids := map[string]string{}
	for i := range n {
		for k, v := range putMessages(t, db, fmt.Sprint("M", i, "-"), 1) {
			ids[k] = v
		}
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A record in the middle of the log that does not read back was acknowledged (records
// written after it prove it): Open refuses, names it and the way out, and changes
// nothing.
func TestOpen_MidLogCorruption(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []byte, at int)
	}{
		{"payload byte", func(d []byte, at int) { d[at+40] ^= 0x01 }},
		{"length", func(d []byte, at int) { d[at+7] ^= 0x08 }},
		{"seq", func(d []byte, at int) { d[at+15] ^= 0x02 }},
		{"sector zeroed", func(d []byte, at int) { clear(d[at : at+64]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRecords(t, dir, 8)
			path := filepath.Join(dir, bolt.WALFileName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			offs := logOffsets(data)
			if len(offs) != 8 {
				t.Fatalf("%d records in the log, want 8", len(offs))
			}
			tc.damage(data, offs[3])
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			dbBefore, _ := os.ReadFile(filepath.Join(dir, bolt.FileName))
			_, err = bolt.Open(bolt.Config{Dir: dir})
			var le *bolt.LogError
			if !errors.As(err, &le) || !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Open with record 4 damaged = %v, want a LogError (ErrCorrupt)", err)
			}
			if le.Record != 4 || le.Offset != int64(offs[3]) || le.Later != 5 || !strings.Contains(err.Error(), "radbridge recover --data") {
				t.Errorf("LogError = %+v (%v); want record 4 at offset %d, record 5 after it, and the recover command", le, err, offs[3])
			}
			walAfter, _ := os.ReadFile(path)
			dbAfter, _ := os.ReadFile(filepath.Join(dir, bolt.FileName))
			if !bytes.Equal(walAfter, data) || !bytes.Equal(dbAfter, dbBefore) {
				t.Error("the refused Open changed the files")
			}
		})
	}
}
