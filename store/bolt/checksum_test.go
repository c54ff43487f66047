package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// A byte flipped on the disk inside a stored value never reads back as other data:
// bbolt does not see it, the value's checksum does, and every read of it fails with
// ErrCorrupt, through a lookup and through a listing alike.
func TestRead_FlippedValueByte(t *testing.T) {
	for _, tc := range []struct {
		name   string
		marker string // found in the file, then flipped
		read   func(tx store.ReadTx, id string) error
	}{
		{"raw bytes", "RAW-MARKER-0123456789", func(tx store.ReadTx, id string) error { _, err := tx.Raw(id); return err }},
		{"message record", "CTL-MARKER-0123456789", func(tx store.ReadTx, id string) error { _, err := tx.Message(id); return err }},
		{"message listing", "CTL-MARKER-0123456789", func(tx store.ReadTx, _ string) error {
			_, _, err := tx.Messages(store.MessageQuery{Sender: "S"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openDB(t, dir)
			m := &store.Message{Kind: "hl7v2", Sender: "S", ControlID: "CTL-MARKER-0123456789", AckCode: "AA", Dedupe: true}
			if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutMessage(m, []byte("MSH|RAW-MARKER-0123456789")) }); err != nil {
				t.Fatal(err)
			}
			putMessages(t, db, "other", 5)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, bolt.FileName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The marker is in the record's value (and, for the control ID, in an index
			// key too): flip a byte of every copy.
			n := 0
			for i := bytes.Index(data, []byte(tc.marker)); i >= 0; i = bytes.Index(data, []byte(tc.marker)) {
				data[i+12] ^= 0x01
				n++
			}
			if n == 0 {
				t.Fatalf("marker %q not in the file", tc.marker)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			db = openDB(t, dir)
			err = db.View(t.Context(), func(tx store.ReadTx) error { return tc.read(tx, m.ID) })
			if !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("read of a damaged value = %v, want ErrCorrupt", err)
			}
			// The other records still read.
			err = db.View(t.Context(), func(tx store.ReadTx) error {
				_, err := tx.MessageByKey("S", "other0", "")
				return err
			})
			if err != nil {
				t.Errorf("an intact record next to the damaged one: %v", err)
			}
		})
	}
}
