package bolt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// A schema 2 file, which kept no creation order of resources, opens as schema 3 with
// its resources, those still in its write-ahead log too, listed newest first by the
// time of their first versions.
func TestOpen_UpgradesSchema2(t *testing.T) {
	dir := t.TempDir()
	b, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(btx *bbolt.Tx, typ, id string, created time.Duration, versions int) []byte {
		var ops []byte
		for v := 1; v <= versions; v++ {
			r := store.Resource{Type: typ, ID: id, Version: v, LastUpdated: base.Add(created + time.Duration(v)*time.Hour), JSON: []byte(`{}`)}
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			key := resourceKey(typ, id)
			ops = appendPut(ops, bHistory, historyKey(key, uint64(v)), data)
			ops = appendPut(ops, bResources, key, data)
		}
		if btx != nil {
			if err := replay(btx, ops); err != nil {
				t.Fatal(err)
			}
		}
		return ops
	}
	err = b.Update(func(btx *bbolt.Tx) error {
		if err := initSchema(btx); err != nil {
			return err
		}
		put(btx, "Patient", "res-9", 2*time.Minute, 3)
		put(btx, "Patient", "a", 3*time.Minute, 1)
		put(btx, "Patient", "z", time.Minute, 2)
		put(btx, "Subscription", "sub-4", 0, 1)
		return btx.Bucket(bucketNames[bMeta]).Put(keySchemaVersion, u64(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	// A log record of the old build, not yet in the B+tree: a resource created last.
	if err := os.WriteFile(filepath.Join(dir, WALFileName), record(1, put(nil, "Patient", "late", time.Hour, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		list, total, err := tx.Resources("Patient", 0)
		if err != nil {
			return err
		}
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if want := []string{"late", "a", "res-9", "z"}; !slices.Equal(ids, want) || total != 4 {
			t.Errorf("Resources(Patient) after the upgrade = %v (total %d), want %v", ids, total, want)
		}
		if list, _, err := tx.Resources("Subscription", 0); err != nil || len(list) != 1 {
			t.Errorf("Resources(Subscription) = %v, %v", list, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A resource created after the upgrade comes first.
	if err := db.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutResource(&store.Resource{Type: "Patient", ID: "new", JSON: []byte(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		list, _, err := tx.Resources("Patient", 1)
		if err != nil || len(list) != 1 || list[0].ID != "new" {
			t.Errorf("newest Patient = %v, %v; want new", list, err)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.View(func(btx *bbolt.Tx) error {
		if v := btx.Bucket(bucketNames[bMeta]).Get(keySchemaVersion); string(v) != string(u64(SchemaVersion)) {
			t.Errorf("schema version after the upgrade = %x", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A schema 3 file gets every value sealed on open, in batches; an upgrade interrupted
// after some batches goes on where it was, sealing each value once.
func TestOpen_UpgradesSchema3_Resumes(t *testing.T) {
	defer func(n int) { sealBatch = n }(sealBatch)
	sealBatch = 7
	dir := t.TempDir()
	b, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []store.Message
	err = b.Update(func(btx *bbolt.Tx) error {
		if err := initSchema(btx); err != nil {
			return err
		}
		for i := uint64(1); i <= 30; i++ {
			m := store.Message{ID: store.FormatID(store.KindMessage, i), Sender: "S", ControlID: fmt.Sprint("C", i), Dedupe: true}
			data, _ := json.Marshal(m)
			// The layout of schema 3: bare values.
			if err := btx.Bucket(bucketNames[bMessages]).Put(u64(i), data); err != nil {
				return err
			}
			if err := btx.Bucket(bucketNames[bMsgIndex]).Put(messageIndexKey(m.ControlID, m.Sender, true, "", nil), u64(i)); err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		meta := btx.Bucket(bucketNames[bMeta])
		if err := meta.Put(keyMessageCount, u64(30)); err != nil {
			return err
		}
		if err := btx.Bucket(bucketNames[bMessages]).SetSequence(30); err != nil {
			return err
		}
		return meta.Put(keySchemaVersion, u64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	// Interrupted: the first 14 messages sealed, and the note saying so.
	err = b.Update(func(btx *bbolt.Tx) error {
		bk := btx.Bucket(bucketNames[bMessages])
		for i := uint64(1); i <= 14; i++ {
			if err := bk.Put(u64(i), seal(nil, bMessages, u64(i), bk.Get(u64(i)))); err != nil {
				return err
			}
		}
		return btx.Bucket(bucketNames[bMeta]).Put(keySealing, append([]byte{bMessages}, u64(14)...))
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	db, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		list, total, err := tx.Messages(store.MessageQuery{Limit: 100})
		if err != nil || total != 30 || len(list) != 30 {
			t.Errorf("Messages after the upgrade = %d (total %d), %v; want 30", len(list), total, err)
		}
		for _, m := range msgs {
			got, err := tx.MessageByKey("S", m.ControlID, "")
			if err != nil || got.ID != m.ID {
				t.Errorf("MessageByKey(%s) = %v, %v", m.ControlID, got, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
