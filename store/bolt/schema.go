package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// SchemaVersion is the layout this package writes. Open refuses a file with a newer
// version and upgrades an older one: schema 3 added the resource_order bucket, which
// upgrade fills for a schema 2 file; schema 4 seals every value with a checksum (see
// seal), which upgrade adds to the values of an older file.
const SchemaVersion = 4

// Buckets, by the number the write-ahead log names them with (never renumber: logs
// written by an earlier build are replayed by a later one). Record keys are 8-byte
// big-endian sequence numbers, so that a cursor walks records in arrival order; index
// keys are "value\x00" followed by that key.
const (
	bMeta        byte = iota
	bMessages         // seq -> JSON store.Message
	bRaw              // seq -> bytes as received
	bMsgIndex         // controlID\x00sender\x00tail -> seq (see messageIndexKey)
	bOrders           // seq -> JSON order.Order
	bOrderIndex       // placer\x00source key -> seq (see orderIndexKey)
	bOrderStatus      // status\x00seq -> nil
	bOutbox           // seq -> JSON store.OutboxItem
	bOutboxState      // state\x00destination\x00seq -> nil
	bResources        // type/id -> JSON store.Resource (current version)
	bHistory          // type/id\x00version -> JSON store.Resource
	bResIndex         // type\x00param\x00value\x00id -> nil
	bResOrder         // type\x00rank -> id: resources in order of creation (schema 3)
)

var (
	bucketNames = [...][]byte{
		bMeta: []byte("meta"), bMessages: []byte("messages"), bRaw: []byte("raw"),
		bMsgIndex: []byte("message_index"), bOrders: []byte("orders"), bOrderIndex: []byte("order_index"),
		bOrderStatus: []byte("order_status"), bOutbox: []byte("outbox"), bOutboxState: []byte("outbox_state"),
		bResources: []byte("resources"), bHistory: []byte("history"), bResIndex: []byte("resource_index"),
		bResOrder: []byte("resource_order"),
	}
	allBuckets = bucketNames[:]

	keySchemaVersion = []byte("schema_version")
	keyMessageCount  = []byte("message_count")
	keyOrderCount    = []byte("order_count")
	// keyWALSeq is the seq of the last write-ahead log record the B+tree holds.
	keyWALSeq = []byte("wal_seq")
	// keyIDMarks is a copy of the ids file's marks as of the last flush (see IDChunk).
	keyIDMarks = []byte("id_marks")
	// keyRebuild is set while a recovery owes the file a rebuild of what is derived
	// from the records (see Recover); Open refuses such a file.
	keyRebuild = []byte("rebuild_due")
)

// appendFill is the fill percent of buckets whose keys only grow (records keyed by
// sequence): pages split full instead of half full, as nothing is inserted before them.
const appendFill = 0.95

// kindBuckets gives, per store.Kind, the bucket whose sequence is the kind's last ID.
// Records of the first three kinds are keyed by their IDs' numbers; resources are keyed
// by type and id, and the resources bucket's sequence only counts store.KindResource.
var kindBuckets = [...]byte{store.KindMessage: bMessages, store.KindOrder: bOrders, store.KindOutbox: bOutbox,
	store.KindResource: bResources}

// openSchema checks the schema version and creates what is missing (everything in a new
// file, a bucket a later schema added) in a write transaction only when something is,
// so that opening an intact file writes nothing. An older file is upgraded by upgrade,
// after the write-ahead log is replayed.
func openSchema(b *bbolt.DB) error {
	missing := false
	err := b.View(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				missing = true
				return nil
			}
		}
		v := tx.Bucket(bucketNames[bMeta]).Get(keySchemaVersion)
		missing = v == nil
		return checkVersion(v)
	})
	if err != nil || !missing {
		return err
	}
	return b.Update(initSchema)
}

// initSchema creates the buckets and checks the schema version, recording it in a new
// file.
func initSchema(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketNames[bMeta])
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return meta.Put(keySchemaVersion, u64(SchemaVersion))
	}
	return checkVersion(v)
}

// checkVersion accepts a stored schema version this build reads (or none yet).
func checkVersion(v []byte) error {
	switch {
	case v == nil:
		return nil
	case len(v) != 8:
		return fmt.Errorf("schema version record is %d bytes", len(v))
	case binary.BigEndian.Uint64(v) > SchemaVersion:
		return fmt.Errorf("data was written by a newer radbridge (schema %d, this build reads %d)", binary.BigEndian.Uint64(v), SchemaVersion)
	case binary.BigEndian.Uint64(v) < 2:
		// Schema 1 existed only in development builds before the first release.
		return fmt.Errorf("data has schema %d, from a development build this release cannot read: move it aside and start with an empty data directory", binary.BigEndian.Uint64(v))
	}
	return nil
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// parseKey returns the record key of an ID of kind k: its number, big-endian.
func parseKey(k store.Kind, id string) ([]byte, error) {
	n, ok := store.ParseID(k, id)
	if !ok {
		return nil, errBadID
	}
	return u64(n), nil
}

var errBadID = errors.New("not an id of this kind")

// indexKey is value\x00key.
func indexKey(value string, key []byte) []byte {
	b := make([]byte, 0, len(value)+1+len(key))
	b = append(b, value...)
	b = append(b, 0)
	return append(b, key...)
}

// messageIndexKey is the message_index key of a message: its control ID, its sender,
// and "d" + its digest when it is an accepted message (so that a resend finds it), else
// "n" + its sequence (so that every message can be found by control ID).
func messageIndexKey(controlID, sender string, dedupe bool, digest string, key []byte) []byte {
	b := make([]byte, 0, len(controlID)+len(sender)+len(digest)+12)
	b = append(append(b, controlID...), 0)
	b = append(append(b, sender...), 0)
	if dedupe {
		return append(append(b, 'd'), digest...)
	}
	return append(append(b, 'n'), key...)
}

// orderIndexKey is the order_index key for an order key (order.Order.Key: the sender's
// source key, "|", and the escaped placer number): the escaped placer number, NUL and
// the source key, so that one index serves lookups by key and searches by placer.
func orderIndexKey(orderKey string) []byte {
	i := strings.LastIndexByte(orderKey, '|')
	return []byte(orderKey[i+1:] + "\x00" + orderKey[:i])
}

// escapePlacer escapes a placer number as order.Order.Key does.
func escapePlacer(s string) string {
	if !strings.ContainsAny(s, "%|") {
		return s
	}
	return strings.NewReplacer("%", "%25", "|", "%7C").Replace(s)
}

// addCount adds delta to a counter in the meta bucket.
func addCount(meta *bucket, name []byte, delta int64) error {
	n, err := count(meta, name)
	if err != nil {
		return err
	}
	return meta.Put(name, u64(uint64(int64(n)+delta)))
}

func count(meta *bucket, name []byte) (int, error) {
	v, err := meta.get(name)
	if len(v) == 8 {
		return int(binary.BigEndian.Uint64(v)), nil
	}
	return 0, err
}

// upgrade brings a file of an older schema to SchemaVersion. It runs after recovery,
// since the write-ahead log holds operations in the layout of the file's schema.
func upgrade(b *bbolt.DB) error {
	var version uint64
	if err := b.View(func(btx *bbolt.Tx) error { version = fileSchema(btx); return nil }); err != nil {
		return err
	}
	if version < 3 {
		err := b.Update(func(btx *bbolt.Tx) error {
			// 2 -> 3: resource_order, from the time of each resource's first version.
			if err := numberResources(btx); err != nil {
				return fmt.Errorf("upgrade to schema 3: %w", err)
			}
			return btx.Bucket(bucketNames[bMeta]).Put(keySchemaVersion, u64(3))
		})
		if err != nil {
			return err
		}
		version = 3
	}
	if version < 4 {
		if err := sealAll(b); err != nil {
			return fmt.Errorf("upgrade to schema 4: %w", err)
		}
	}
	return nil
}

// keySealing is where sealAll is: the number of the bucket it seals and the last key
// it sealed there. It is bare, like the schema version.
var keySealing = []byte("upgrade_sealing")

// sealBatch is how many values sealAll seals per transaction, so that upgrading a large
// file holds no more than that in memory.
var sealBatch = 20000

// sealAll seals every value of a schema 3 file, sealBatch values of one bucket per
// transaction, remembering where it is so that an upgrade interrupted by a crash goes
// on from there. The meta bucket comes last, in the transaction that records schema 4,
// so that until then it reads as schema 3 (the write-ahead log's seq in it above all).
func sealAll(b *bbolt.DB) error {
	for done := false; !done; {
		err := b.Update(func(btx *bbolt.Tx) error {
			meta := btx.Bucket(bucketNames[bMeta])
			id, after := byte(bMeta+1), []byte(nil)
			if at := meta.Get(keySealing); len(at) > 0 {
				id, after = at[0], bytes.Clone(at[1:])
			}
			if int(id) >= len(allBuckets) {
				done = true
				return sealMeta(meta)
			}
			bk := btx.Bucket(allBuckets[id])
			type kv struct{ k, v []byte }
			var batch []kv
			c := bk.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(batch) < sealBatch; k, v = c.Next() {
				batch = append(batch, kv{bytes.Clone(k), seal(nil, id, k, v)})
			}
			for _, e := range batch {
				if err := bk.Put(e.k, e.v); err != nil {
					return err
				}
			}
			next := []byte{id + 1}
			if len(batch) == sealBatch {
				next = append([]byte{id}, batch[len(batch)-1].k...)
			}
			return meta.Put(keySealing, next)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sealMeta seals the meta bucket's values but the schema version, and records schema 4.
func sealMeta(meta *bbolt.Bucket) error {
	if err := meta.Delete(keySealing); err != nil {
		return err
	}
	type kv struct{ k, v []byte }
	var all []kv
	c := meta.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if !bytes.Equal(k, keySchemaVersion) {
			all = append(all, kv{bytes.Clone(k), seal(nil, bMeta, k, v)})
		}
	}
	for _, e := range all {
		if err := meta.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return meta.Put(keySchemaVersion, u64(4))
}

// numberResources fills resource_order for the resources of a schema 2 file, which kept
// no creation order: by the LastUpdated of their first versions, then by key.
func numberResources(btx *bbolt.Tx) error {
	type created struct {
		key []byte
		at  time.Time
	}
	var all []created
	hist := btx.Bucket(bucketNames[bHistory])
	c := btx.Bucket(bucketNames[bResources]).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		var first struct {
			LastUpdated time.Time `json:"last_updated"`
		}
		if v := hist.Get(historyKey(k, 1)); v != nil {
			_ = json.Unmarshal(v, &first) // undated: it sorts first
		}
		all = append(all, created{key: bytes.Clone(k), at: first.LastUpdated})
	}
	slices.SortStableFunc(all, func(a, b created) int { return a.at.Compare(b.at) })
	ranks := btx.Bucket(bucketNames[bResOrder])
	for i, r := range all {
		typ, id, _ := bytes.Cut(r.key, []byte("/"))
		if err := ranks.Put(resOrderKey(string(typ), uint64(i+1)), id); err != nil {
			return err
		}
	}
	return ranks.SetSequence(uint64(len(all)))
}

// encodeMarks is the id_marks value: the marks by store.Kind, 8 bytes each.
func encodeMarks(marks [len(kindBuckets)]uint64) []byte {
	b := make([]byte, 0, 8*len(marks))
	for _, m := range marks {
		b = binary.BigEndian.AppendUint64(b, m)
	}
	return b
}

// readMarks reads the id_marks copy of a file of the current schema, zeros when there
// is none.
func readMarks(btx *bbolt.Tx) ([len(kindBuckets)]uint64, error) {
	var marks [len(kindBuckets)]uint64
	v, err := getMeta(btx, keyIDMarks, SchemaVersion)
	for k := range marks {
		if len(v) >= 8*(k+1) {
			marks[k] = binary.BigEndian.Uint64(v[8*k:])
		}
	}
	return marks, err
}
