package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// damageRecord flips a byte in the payload of the i-th record of dir's log (0-based).
func damageRecord(t *testing.T, dir string, i int) []byte {
	t.Helper()
	path := filepath.Join(dir, bolt.WALFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	offs := logOffsets(data)
	if i >= len(offs) {
		t.Fatalf("the log has %d records, not %d", len(offs), i+1)
	}
	data[offs[i]+30] ^= 0x20
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// recoverStore runs Recover, which must succeed, and checks the store opens after it.
func recoverStore(t *testing.T, dir string) *bolt.RecoverReport {
	t.Helper()
	if _, err := bolt.Open(bolt.Config{Dir: dir}); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Open before Recover = %v, want ErrCorrupt", err)
	}
	rep, err := bolt.Recover(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return rep
}

func TestRecover_KeepsEveryProvableRecord(t *testing.T) {
	dir := t.TempDir()
	ids := writeRecords(t, dir, 10) // records 1-10, message "M<i>-0" in record i+1
	damaged := damageRecord(t, dir, 3)
	rep := recoverStore(t, dir)
	if fmt.Sprint(rep.Lost) != "[4]" || rep.LostCount() != 1 || rep.KeptCount() != 9 || !rep.Rebuilt {
		t.Errorf("report: lost %v (%d), kept %v (%d), rebuilt %v; want record 4 lost, 9 kept, indexes rebuilt",
			rep.Lost, rep.LostCount(), rep.Kept, rep.KeptCount(), rep.Rebuilt)
	}
	if saved, err := os.ReadFile(rep.SavedLog); err != nil || !bytes.Equal(saved, damaged) {
		t.Errorf("saved log %q: %v; want the damaged log as it was", rep.SavedLog, err)
	}
	lost := ids["M3-0"]
	delete(ids, "M3-0")
	db := openDB(t, dir)
	checkFile(t, db)
	checkMessages(t, db, ids, 9, 9)
	view(t, db, func(tx store.ReadTx) error {
		if m, err := tx.MessageByKey("S", "M3-0", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the message of the lost record reads: %v, %v", m, err)
		}
		if list, total, err := tx.Orders(store.OrderQuery{Status: order.StatusReceived}); err != nil || len(list) != 9 || total != 9 {
			t.Errorf("orders by status after the rebuild: %d (total %d), %v; want 9", len(list), total, err)
		}
		return nil
	})
	// No ID handed out before the crash comes back, the lost record's message and
	// order included (the lost record's order was the one numbered after the last
	// order of the record before it).
	most := map[store.Kind]uint64{}
	for _, id := range append(slices.Collect(maps.Values(ids)), lost) {
		n, _ := store.ParseID(store.KindMessage, id)
		most[store.KindMessage] = max(most[store.KindMessage], n)
	}
	view(t, db, func(tx store.ReadTx) error {
		list, _, err := tx.Orders(store.OrderQuery{Limit: 1})
		if err == nil && len(list) == 1 {
			most[store.KindOrder], _ = store.ParseID(store.KindOrder, list[0].ID)
		}
		return err
	})
	for k, m := range most {
		for range 50 {
			id := reserve(t, db, k)
			if n, _ := store.ParseID(k, id); n <= m {
				t.Fatalf("ReserveID(%s) after Recover = %s, handed out before", k, id)
			}
		}
	}
	// The store works on; a resend of the lost message is a new message.
	more := putMessages(t, db, "M3-", 1)
	if more["M3-0"] == lost {
		t.Errorf("the lost message's ID %s was handed out again", lost)
	}
}

// Records after a lost one that change what it wrote are kept, and the store is
// consistent with them: the order a lost record created and a kept one changed is
// there, changed, and found through every index; a resource likewise.
func TestRecover_LaterRecordsOnTopOfLostOnes(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	o := newOrder("S", "P1")
	steps := []func(tx store.Tx) error{
		func(tx store.Tx) error { return tx.PutOrder(newOrder("S", "P0")) },
		func(tx store.Tx) error { // lost
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutResource(&store.Resource{Type: "Patient", ID: "res-1", JSON: []byte(`{"v":1}`), Index: map[string][]string{"identifier": {"A"}}})
		},
		func(tx store.Tx) error {
			o.Status = order.StatusReady
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutResource(&store.Resource{Type: "Patient", ID: "res-1", JSON: []byte(`{"v":2}`), Index: map[string][]string{"identifier": {"B"}}})
		},
		func(tx store.Tx) error { return tx.PutOrder(newOrder("S", "P3")) },
	}
	for _, step := range steps {
		if err := db.Update(t.Context(), step); err != nil {
			t.Fatal(err)
		}
	}
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	damageRecord(t, dir, 1)
	rep := recoverStore(t, dir)
	if fmt.Sprint(rep.Lost) != "[2]" {
		t.Errorf("lost %v, want [2]", rep.Lost)
	}
	db = openDB(t, dir)
	checkFile(t, db)
	view(t, db, func(tx store.ReadTx) error {
		got, err := tx.OrderByKey(o.Key())
		if err != nil || got.ID != o.ID || got.Status != order.StatusReady {
			t.Errorf("OrderByKey(%s) = %+v, %v; want %s ready", o.Key(), got, err, o.ID)
		}
		list, total, err := tx.Orders(store.OrderQuery{Status: order.StatusReady})
		if err != nil || total != 1 || list[0].ID != o.ID {
			t.Errorf("ready orders = %v (total %d), %v", list, total, err)
		}
		if _, total, _ := tx.Orders(store.OrderQuery{}); total != 3 {
			t.Errorf("%d orders counted, want 3", total)
		}
		r, err := tx.Resource("Patient", "res-1")
		if err != nil || r.Version != 2 {
			t.Errorf("resource = %+v, %v; want version 2", r, err)
		}
		if ids, err := tx.FindResources("Patient", "identifier", "B"); err != nil || len(ids) != 1 {
			t.Errorf("FindResources(B) = %v, %v", ids, err)
		}
		if ids, _ := tx.FindResources("Patient", "identifier", "A"); len(ids) != 0 {
			t.Errorf("FindResources(A), an index entry of the lost version, = %v", ids)
		}
		if list, _, err := tx.Resources("Patient", 0); err != nil || len(list) != 1 {
			t.Errorf("Resources(Patient) = %v, %v", list, err)
		}
		return nil
	})
	if id := reserve(t, db, store.KindResource); id == "res-1" {
		t.Errorf("ReserveID(resource) = %s, a stored resource's id", id)
	}
}

// Recover of an intact store changes nothing and loses nothing.
func TestRecover_IntactStore(t *testing.T) {
	dir := t.TempDir()
	ids := writeRecords(t, dir, 3)
	rep, err := bolt.Recover(bolt.Config{Dir: dir})
	if err != nil || len(rep.Lost) != 0 || rep.KeptCount() != 3 || rep.Rebuilt || rep.SavedLog != "" {
		t.Fatalf("Recover = %+v, %v; want the 3 records kept, nothing lost", rep, err)
	}
	db := openDB(t, dir)
	checkMessages(t, db, ids, 3, 3)
}

// When the ids file is unreadable too, the sequences jump past the highest ID known.
func TestRecover_IDsFileLost(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, 5)
	damageRecord(t, dir, 1)
	if err := os.WriteFile(filepath.Join(dir, bolt.IDsFileName), bytes.Repeat([]byte{0xee}, 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := recoverStore(t, dir)
	if !rep.IDsJumped {
		t.Error("report does not say the sequences jumped")
	}
	db := openDB(t, dir)
	for _, k := range []store.Kind{store.KindMessage, store.KindOrder, store.KindOutbox, store.KindResource} {
		if n, _ := store.ParseID(k, reserve(t, db, k)); n <= bolt.IDJump {
			t.Errorf("ReserveID(%s) after Recover without an ids file = %d, want past %d", k, n, bolt.IDJump)
		}
	}
}
