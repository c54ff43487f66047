package bolt_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// contents is everything a store holds, as read back.
type contents struct {
	msgs   map[string]*store.Message
	raws   map[string][]byte
	orders map[string]*order.Order
	items  map[string]*store.OutboxItem
	res    map[string]*store.Resource
}

// fillStore writes enough of every kind of record for several levels of pages, closes
// the store, and returns what it holds.
func fillStore(t *testing.T, dir string) contents {
	t.Helper()
	db := openDB(t, dir)
	c := contents{msgs: map[string]*store.Message{}, raws: map[string][]byte{}, orders: map[string]*order.Order{},
		items: map[string]*store.OutboxItem{}, res: map[string]*store.Resource{}}
	for g := range 8 {
		err := db.Update(t.Context(), func(tx store.Tx) error {
			for i := range 30 {
				n := g*30 + i
				o := newOrder("F", fmt.Sprint("P", n))
				o.Status = []order.Status{order.StatusReceived, order.StatusReady}[n%2]
				if err := tx.PutOrder(o); err != nil {
					return err
				}
				raw := []byte(fmt.Sprintf("MSH|^~\\&|EHR|F|||||ORM^O01|C%d|P|2.5.1\rPID|1||%s\r", n, strings.Repeat("x", n%300)))
				m := &store.Message{Kind: "hl7v2", Sender: "F", ControlID: fmt.Sprint("C", n), Digest: fmt.Sprint("d", n), Type: "ORM^O01",
					AckCode: "AA", Dedupe: true, OrderIDs: []string{o.ID}, Size: len(raw)}
				if err := tx.PutMessage(m, raw); err != nil {
					return err
				}
				it := &store.OutboxItem{Destination: fmt.Sprint("d", n%3), Kind: "hl7v2", OrderID: o.ID, Payload: raw, Key: fmt.Sprint("k", n), State: store.OutboxPending}
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
				r := &store.Resource{Type: "Patient", ID: fmt.Sprint("p", n), JSON: []byte(fmt.Sprintf(`{"n":%d}`, n)), Index: map[string][]string{"identifier": {fmt.Sprint("MRN", n)}}}
				if err := tx.PutResource(r); err != nil {
					return err
				}
				c.msgs[m.ID], c.raws[m.ID], c.orders[o.ID], c.items[it.ID], c.res[r.ID] = m, raw, o, it, r
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Read back what was stored, as stored (times and all).
	view(t, db, func(tx store.ReadTx) error {
		for id := range c.msgs {
			m, err := tx.Message(id)
			if err != nil {
				return err
			}
			c.msgs[id] = m
		}
		for id := range c.orders {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			c.orders[id] = o
		}
		for id := range c.items {
			it, err := tx.OutboxItem(id)
			if err != nil {
				return err
			}
			c.items[id] = it
		}
		for id := range c.res {
			r, err := tx.Resource("Patient", id)
			if err != nil {
				return err
			}
			c.res[id] = r
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}

// readBack reads every record of want from db and through its listings, and fails the
// test for any that reads back different from what was written: a read may fail, it
// may not return other data.
func readBack(t *testing.T, db *bolt.DB, want contents, at int) (read, failed int) {
	t.Helper()
	opts := cmpopts.EquateEmpty()
	same := func(what, id string, w, got any, err error) {
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("offset %d: %s %s: %v, want ErrCorrupt or ErrNotFound", at, what, id, err)
			}
			failed++
			return
		}
		read++
		// The records' JSON first, which is quick; cmp for the difference.
		wj, werr := json.Marshal(w)
		gj, gerr := json.Marshal(got)
		if werr != nil || gerr != nil || !bytes.Equal(wj, gj) {
			t.Errorf("offset %d: %s %s read back altered (-written +read):\n%s", at, what, id, cmp.Diff(w, got, opts))
		}
	}
	err := db.View(t.Context(), func(tx store.ReadTx) error {
		for id, m := range want.msgs {
			got, err := tx.Message(id)
			same("message", id, m, got, err)
			raw, err := tx.Raw(id)
			same("raw", id, want.raws[id], raw, err)
			if got, err := tx.MessageByKey(m.Sender, m.ControlID, m.Digest); err == nil {
				same("message by key", m.ControlID, m, got, nil)
			}
		}
		for id, o := range want.orders {
			got, err := tx.Order(id)
			same("order", id, o, got, err)
			if got, err := tx.OrderByKey(o.Key()); err == nil {
				same("order by key", o.Key(), o, got, nil)
			}
		}
		for id, it := range want.items {
			got, err := tx.OutboxItem(id)
			same("outbox item", id, it, got, err)
		}
		for id, r := range want.res {
			got, err := tx.Resource("Patient", id)
			same("resource", id, r, got, err)
		}
		if list, _, err := tx.Messages(store.MessageQuery{Limit: store.MaxLimit}); err == nil {
			for _, m := range list {
				same("listed message", m.ID, want.msgs[m.ID], m, nil)
			}
		}
		if list, _, err := tx.Orders(store.OrderQuery{Status: order.StatusReady, Limit: store.MaxLimit}); err == nil {
			for _, o := range list {
				same("listed order", o.ID, want.orders[o.ID], o, nil)
			}
		}
		if list, _, err := tx.Outbox(store.OutboxQuery{State: store.OutboxPending, Limit: store.MaxLimit}); err == nil {
			for _, it := range list {
				same("listed outbox item", it.ID, want.items[it.ID], it, nil)
			}
		}
		if list, _, err := tx.Resources("Patient", store.MaxLimit); err == nil {
			for _, r := range list {
				same("listed resource", r.ID, want.res[r.ID], r, nil)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("offset %d: View: %v", at, err)
	}
	return read, failed
}

// Bytes flipped all over the B+tree file: Open and Verify never panic (they may
// refuse, with ErrCorrupt), and when the store opens, every record that still reads
// is the one written.
func TestOpen_DamagedFile(t *testing.T) {
	src := t.TempDir()
	want := fillStore(t, src)
	orig, err := os.ReadFile(filepath.Join(src, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := os.ReadFile(filepath.Join(src, bolt.IDsFileName))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := bolt.Verify(bolt.Config{Dir: src}); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Verify of the intact store = %+v, %v", rep, err)
	}
	// The meta pages, the headers and first elements of a quarter of the pages, and
	// random bytes, all in the pages in use (bbolt grows the file ahead with zeros).
	used := len(bytes.TrimRight(orig, "\x00"))
	orig = orig[:(used+bolt.PageSize-1)/bolt.PageSize*bolt.PageSize] // the copies need no more
	var offsets []int
	for i := range 80 {
		offsets = append(offsets, i, bolt.PageSize+i)
	}
	for page := 2 * bolt.PageSize; page < used; page += 4 * bolt.PageSize {
		for i := range 20 {
			offsets = append(offsets, page+i)
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	n := 150
	switch {
	case raceEnabled:
		n, offsets = 12, offsets[:20]
	case testing.Short():
		n, offsets = 60, offsets[:80]
	}
	for range n {
		offsets = append(offsets, r.IntN(used))
	}
	dir := t.TempDir() // one directory, emptied after each try: an opened store's file grows
	refused, opened, changedNothing := 0, 0, 0
	for i, at := range append([]int{-1}, offsets...) { // -1: the copy as it is
		if i > 0 && t.Failed() && i > 20 {
			break // enough said
		}
		for _, name := range []string{bolt.FileName, bolt.WALFileName, bolt.IDsFileName} {
			os.Remove(filepath.Join(dir, name))
		}
		data := append([]byte(nil), orig...)
		if at >= 0 {
			data[at] ^= byte(1 << (at % 8))
		}
		if err := os.WriteFile(filepath.Join(dir, bolt.FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, bolt.IDsFileName), ids, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := bolt.Verify(bolt.Config{Dir: dir})
		if err != nil {
			t.Errorf("offset %d: Verify: %v", at, err)
		}
		db, err := bolt.Open(bolt.Config{Dir: dir})
		if at < 0 {
			if err != nil || rep == nil || len(rep.Problems) > 0 {
				t.Fatalf("the intact copy: Verify %+v, Open %v", rep, err)
			}
			if _, failed := readBack(t, db, want, at); failed > 0 {
				t.Fatalf("the intact copy: %d records do not read", failed)
			}
			db.Close()
			continue
		}
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("offset %d: Open = %v, want ErrCorrupt", at, err)
			}
			if rep != nil && len(rep.Problems) == 0 {
				t.Errorf("offset %d: Open refused (%v) a store Verify found intact", at, err)
			}
			refused++
			continue
		}
		opened++
		if _, failed := readBack(t, db, want, at); failed == 0 {
			changedNothing++
		} else if rep != nil && len(rep.Problems) == 0 {
			t.Errorf("offset %d: %d records do not read, yet Verify found nothing", at, failed)
		}
		if err := db.Close(); err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Logf("offset %d: Close: %v", at, err)
		}
	}
	t.Logf("%d flipped bytes: Open refused %d; opened %d, %d of them with every record reading back", len(offsets), refused, opened, changedNothing)
}

// latestMeta returns the offset of the meta page of the file's last commit (the one
// with the larger transaction id; bbolt writes integers in the machine's order).
func latestMeta(t *testing.T, data []byte) int {
	t.Helper()
	txid := func(page int) uint64 { return binary.NativeEndian.Uint64(data[page*bolt.PageSize+16+48:]) }
	if txid(1) > txid(0) {
		return bolt.PageSize
	}
	return 0
}

// A meta page that does not read makes bbolt open the commit before it. After a crash
// during a flush the log still holds what the lost commit wrote, and Open applies it;
// when the log has moved on, the commit's writes would be lost, and Open refuses.
func TestOpen_MetaPageDamaged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		after  int // messages written after the second flush, before the crash
		refuse bool
	}{
		{"crash during the flush", 0, false},
		{"log moved on", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openUnflushed(t, dir)
			ids := putMessages(t, db, "A", 5)
			view(t, db, func(store.ReadTx) error { return nil }) // flush
			for k, v := range putMessages(t, db, "B", 5) {
				ids[k] = v
			}
			view(t, db, func(store.ReadTx) error { return nil }) // the flush whose meta is damaged
			for k, v := range putMessages(t, db, "C", tc.after) {
				ids[k] = v
			}
			if err := bolt.Crash(db); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, bolt.FileName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[latestMeta(t, data)+16+20] ^= 0x04
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err = bolt.Open(bolt.Config{Dir: dir})
			if tc.refuse {
				if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "meta page") {
					t.Fatalf("Open = %v, want ErrCorrupt naming the meta page", err)
				}
				// Recover takes the commit before, and the log's records on top: the
				// flush lost takes B's messages with it, and says so.
				rep, err := bolt.Recover(bolt.Config{Dir: dir})
				if err != nil || rep.Fallback == "" || rep.LostCount() == 0 || !rep.Rebuilt {
					t.Fatalf("Recover = %+v, %v; want the fallback reported and records lost", rep, err)
				}
				for k := range ids {
					if strings.HasPrefix(k, "B") {
						delete(ids, k)
					}
				}
				db := openDB(t, dir)
				checkFile(t, db)
				checkMessages(t, db, ids, 5+tc.after, 5+tc.after)
				return
			}
			if err != nil {
				t.Fatalf("Open after a crash during a flush: %v", err)
			}
			defer db.Close()
			checkMessages(t, db, ids, 10, 10)
		})
	}
}
