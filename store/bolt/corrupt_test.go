package bolt_test

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// A record whose bytes no longer decode (bit rot, here written over in the file while
// the store is closed) reads as an error that is store.ErrCorrupt, by ID, by key and in
// a listing; the records beside it read as before.
func TestTx_Order_Corrupt(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	bad, good := newOrder("F", "P1"), newOrder("F", "P2")
	if err := update(t, db, func(tx store.Tx) error { return errors.Join(tx.PutOrder(bad), tx.PutOrder(good)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.View(t.Context(), func(store.ReadTx) error { return nil }); err != nil { // the B+tree file has them
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := binary.BigEndian.AppendUint64(nil, 1) // ord-1
	if err := b.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("orders")).Put(key, []byte("\x00{garbage")) }); err != nil {
		t.Fatal(err)
	}
	b.Close()

	db = openDB(t, dir)
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		for name, read := range map[string]func() error{
			"Order":      func() error { _, err := tx.Order(bad.ID); return err },
			"OrderByKey": func() error { _, err := tx.OrderByKey(bad.Key()); return err },
			"Orders":     func() error { _, _, err := tx.Orders(store.OrderQuery{Placer: "P1"}); return err },
		} {
			if err := read(); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("%s of the damaged order = %v, want ErrCorrupt", name, err)
			}
		}
		if o, err := tx.OrderByKey(good.Key()); err != nil || o.Placer != "P2" {
			t.Errorf("OrderByKey of the intact order = %v, %v", o, err)
		}
		if _, err := tx.Order("ord-99"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Order of no order = %v, want ErrNotFound", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
