package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// SchemaVersion is the layout this package writes. Open refuses a file with a newer
// version and upgrades an older one.
const SchemaVersion = 2

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
)

var (
	bucketNames = [...][]byte{
		bMeta: []byte("meta"), bMessages: []byte("messages"), bRaw: []byte("raw"),
		bMsgIndex: []byte("message_index"), bOrders: []byte("orders"), bOrderIndex: []byte("order_index"),
		bOrderStatus: []byte("order_status"), bOutbox: []byte("outbox"), bOutboxState: []byte("outbox_state"),
		bResources: []byte("resources"), bHistory: []byte("history"), bResIndex: []byte("resource_index"),
	}
	allBuckets = bucketNames[:]

	keySchemaVersion = []byte("schema_version")
	keyMessageCount  = []byte("message_count")
	keyOrderCount    = []byte("order_count")
	// keyWALSeq is the seq of the last write-ahead log record the B+tree holds.
	keyWALSeq = []byte("wal_seq")
)

// appendFill is the fill percent of buckets whose keys only grow (records keyed by
// sequence): pages split full instead of half full, as nothing is inserted before them.
const appendFill = 0.95

// ID prefixes make the record kind visible in an ID ("msg-12", "ord-7"); the number is
// the record's sequence.
const (
	prefixMessage = "msg-"
	prefixOrder   = "ord-"
	prefixOutbox  = "out-"
)

var errBadID = errors.New("malformed id")

// kindBuckets and kindPrefixes give, per store.Kind, the bucket whose sequence numbers
// its records and its ID prefix.
var (
	kindBuckets  = [...]byte{store.KindMessage: bMessages, store.KindOrder: bOrders, store.KindOutbox: bOutbox}
	kindPrefixes = [...]string{store.KindMessage: prefixMessage, store.KindOrder: prefixOrder, store.KindOutbox: prefixOutbox}
)

// initSchema creates the buckets and checks or records the schema version.
func initSchema(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketNames[bMeta])
	v := meta.Get(keySchemaVersion)
	switch {
	case v == nil:
		return meta.Put(keySchemaVersion, u64(SchemaVersion))
	case len(v) != 8:
		return fmt.Errorf("schema version record is %d bytes", len(v))
	case binary.BigEndian.Uint64(v) > SchemaVersion:
		return fmt.Errorf("data was written by a newer radbridge (schema %d, this build reads %d)", binary.BigEndian.Uint64(v), SchemaVersion)
	case binary.BigEndian.Uint64(v) < SchemaVersion:
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

func formatID(prefix string, seq uint64) string { return prefix + strconv.FormatUint(seq, 10) }

// parseID returns the record key of an ID with the given prefix.
func parseID(prefix, id string) ([]byte, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, prefix), 10, 64)
	if err != nil || !strings.HasPrefix(id, prefix) || n == 0 {
		return nil, errBadID
	}
	return u64(n), nil
}

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
	var n uint64
	if v := meta.Get(name); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	return meta.Put(name, u64(uint64(int64(n)+delta)))
}

func count(meta *bucket, name []byte) int {
	if v := meta.Get(name); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}
