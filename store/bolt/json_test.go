package bolt_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// TestDB_Put_recordsAsJSONMarshal checks that orders and messages, which the store
// encodes with their AppendJSON methods, are stored as the bytes json.Marshal writes.
func TestDB_Put_recordsAsJSONMarshal(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 8, 0, 1, 123456789, time.FixedZone("EST", -5*3600))
	text := "DOE <&> \"Q\"\n\u2028\xff"
	o := newOrder("HOSP_A", "P1")
	o.Patient = order.Patient{Identifiers: []order.Identifier{}, Family: text}
	o.Results = []order.Result{{ID: "R1", Text: text, Issued: at, Presented: []order.Attachment{{Data: []byte{0, 0xff}}}}}
	o.Created = at
	m := &store.Message{Kind: "hl7v2", Sender: text, ControlID: "C1", Type: "ORM^O01", ReceivedAt: at,
		AckCode: "AA", Ack: []byte("MSH|ack\r"), OrderIDs: []string{"ord-1"}, Size: 42, Dedupe: true}
	err = db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		return tx.PutMessage(m, []byte("MSH|raw"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Each value is the record as json.Marshal writes it, sealed: followed by the
	// CRC-32C of the bucket's number (orders 4, messages 1), the key's length as a
	// uvarint, the key and the record.
	for _, tc := range []struct {
		bucket string
		number byte
		v      any
	}{{"orders", 4, o}, {"messages", 1, m}} {
		want, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		var key, got []byte
		if err := b.View(func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte(tc.bucket)).ForEach(func(k, v []byte) error {
				key, got = bytes.Clone(k), bytes.Clone(v)
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		sum := crc32.Checksum(append(append([]byte{tc.number, byte(len(key))}, key...), want...), crc32.MakeTable(crc32.Castagnoli))
		if want = binary.BigEndian.AppendUint32(want, sum); !bytes.Equal(got, want) {
			t.Errorf("%s record =\n%q\nwant json.Marshal's, sealed\n%q", tc.bucket, got, want)
		}
	}
}
