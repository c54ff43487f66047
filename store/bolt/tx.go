package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// tx implements store.Tx over a bbolt transaction.
type tx struct {
	btx *bbolt.Tx
	db  *DB
	// redo, in the committer's write transaction, collects the changes of the update
	// function running now as write-ahead log operations; nil elsewhere.
	redo *[]byte
	// scratch is the committer's buffer for encoding records (see putJSON).
	scratch []byte
	bks     [len(bucketNames)]*bucket
	// bad is the first stored value this transaction found failing its checksum since
	// it was reset (see corrupt); View and Update fail with it.
	bad error
}

// corrupt records a value that fails its checksum.
func (t *tx) corrupt(err error) {
	if t.bad == nil {
		t.bad = err
	}
}

// newKey returns the record key for id (reserving an ID when it is empty) and whether
// no record exists under it yet; for a new record it raises the bucket's sequence to
// the key, so that the DB's ID counters resume past it after a restart.
func (t *tx) newKey(k store.Kind, b *bucket, id *string) ([]byte, bool, error) {
	if *id == "" {
		var err error
		if *id, err = t.db.reserve(k); err != nil {
			return nil, false, err
		}
	}
	key, err := parseKey(k, *id)
	if err != nil {
		return nil, false, fmt.Errorf("bolt: %s id %q: %w", k, *id, err)
	}
	// No key exceeds the bucket's sequence, so a key past it (an ID just reserved, the
	// usual case) needs no lookup.
	if seq := binary.BigEndian.Uint64(key); seq > b.Sequence() {
		if err := b.SetSequence(seq); err != nil {
			return nil, false, err
		}
		t.db.raise(k, seq)
		return key, true, nil
	}
	v, err := b.get(key)
	return key, v == nil, err
}

// ReserveID implements store.Tx.
func (t *tx) ReserveID(k store.Kind) (string, error) { return t.db.reserve(k) }

var _ store.Tx = (*tx)(nil)

// b returns a bucket of the transaction.
func (t *tx) b(id byte) *bucket {
	if bk := t.bks[id]; bk != nil {
		return bk
	}
	bk := &bucket{Bucket: t.btx.Bucket(bucketNames[id]), id: id, t: t}
	t.bks[id] = bk
	return bk
}

func getJSON[T any](b *bucket, key []byte) (*T, error) {
	v, err := b.get(key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, store.ErrNotFound
	}
	out := new(T)
	if err := json.Unmarshal(v, out); err != nil {
		return nil, fmt.Errorf("bolt: decode %s record %x in %s: %w: %w", bucketNames[b.id], key, b.Tx().DB().Path(), store.ErrCorrupt, err)
	}
	return out, nil
}

// Message implements store.ReadTx.
func (t *tx) Message(id string) (*store.Message, error) {
	k, err := parseKey(store.KindMessage, id)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return getJSON[store.Message](t.b(bMessages), k)
}

// MessageByKey implements store.ReadTx.
func (t *tx) MessageByKey(sender, controlID, digest string) (*store.Message, error) {
	k, err := t.b(bMsgIndex).get(messageIndexKey(controlID, sender, true, digest, nil))
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, store.ErrNotFound
	}
	return getJSON[store.Message](t.b(bMessages), k)
}

// Raw implements store.ReadTx.
func (t *tx) Raw(id string) ([]byte, error) {
	k, err := parseKey(store.KindMessage, id)
	if err != nil {
		return nil, store.ErrNotFound
	}
	v, err := t.b(bRaw).get(k)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(v), nil
}

// Messages implements store.ReadTx: newest first.
func (t *tx) Messages(q store.MessageQuery) ([]*store.Message, int, error) {
	limit := store.ClampLimit(q.Limit)
	match := func(m *store.Message) bool {
		return (q.Sender == "" || m.Sender == q.Sender) && (q.Type == "" || m.Type == q.Type) &&
			(q.ControlID == "" || m.ControlID == q.ControlID)
	}
	// before bounds the keys listed; a Before that is no message ID lists none.
	var before []byte
	if q.Before != "" {
		var err error
		if before, err = parseKey(store.KindMessage, q.Before); err != nil {
			before = u64(0)
		}
	}
	msgs := t.b(bMessages)
	if q.Sender == "" && q.Type == "" && q.ControlID == "" {
		out, _, err := scan[store.Message](msgs, keysBefore(msgs, before), limit, nil, false, nil)
		if err != nil {
			return nil, 0, err
		}
		n, err := count(t.b(bMeta), keyMessageCount)
		return out, n, err
	}
	var keys func(yield func([]byte) bool)
	if q.ControlID != "" {
		prefix := q.ControlID + "\x00"
		if q.Sender != "" {
			prefix += q.Sender + "\x00"
		}
		keys = valuesNewestFirst(t.b(bMsgIndex), prefix)
	} else {
		keys = allKeys(msgs)
	}
	return scan[store.Message](msgs, keys, limit, match, true, before)
}

// Order implements store.ReadTx.
func (t *tx) Order(id string) (*order.Order, error) {
	k, err := parseKey(store.KindOrder, id)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return getJSON[order.Order](t.b(bOrders), k)
}

// OrderByKey implements store.ReadTx.
func (t *tx) OrderByKey(key string) (*order.Order, error) {
	if !strings.Contains(key, "|") { // not an order.Order.Key (and "" finds nothing)
		return nil, store.ErrNotFound
	}
	k, err := t.b(bOrderIndex).get(orderIndexKey(key))
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, store.ErrNotFound
	}
	return getJSON[order.Order](t.b(bOrders), k)
}

// Orders implements store.ReadTx: newest first.
func (t *tx) Orders(q store.OrderQuery) ([]*order.Order, int, error) {
	limit := store.ClampLimit(q.Limit)
	orders := t.b(bOrders)
	switch {
	case q.Placer != "":
		return collectCounted[order.Order](orders, valuesNewestFirst(t.b(bOrderIndex), escapePlacer(q.Placer)+"\x00"), limit,
			func(o *order.Order) bool { return q.Status == "" || o.Status == q.Status })
	case q.Status != "":
		return collectCounted[order.Order](orders, indexKeys(t.b(bOrderStatus), string(q.Status)), limit, nil)
	}
	out, err := collect[order.Order](orders, allKeys(orders), limit, nil)
	if err != nil {
		return nil, 0, err
	}
	n, err := count(t.b(bMeta), keyOrderCount)
	return out, n, err
}

// PutMessage implements store.Tx.
func (t *tx) PutMessage(m *store.Message, raw []byte) error {
	msgs := t.b(bMessages)
	msgs.FillPercent = appendFill
	key, fresh, err := t.newKey(store.KindMessage, msgs, &m.ID)
	if err != nil {
		return err
	}
	if fresh { // count it and index it
		if err := addCount(t.b(bMeta), keyMessageCount, 1); err != nil {
			return err
		}
		idx := t.b(bMsgIndex)
		ik := messageIndexKey(m.ControlID, m.Sender, m.Dedupe, m.Digest, key)
		if m.Dedupe {
			if cur, err := idx.get(ik); err != nil {
				return err
			} else if cur != nil {
				return fmt.Errorf("bolt: message %s/%s: %w", m.Sender, m.ControlID, store.ErrConflict)
			}
		}
		if err := idx.Put(ik, key); err != nil {
			return err
		}
	}
	if raw != nil {
		rb := t.b(bRaw)
		rb.FillPercent = appendFill
		if err := rb.Put(key, raw); err != nil {
			return err
		}
	}
	return putJSON(msgs, key, m)
}

// PutOrder implements store.Tx.
func (t *tx) PutOrder(o *order.Order) error {
	return t.putOrder(o, nil)
}

// PutOrderJSON implements store.Tx.
func (t *tx) PutOrderJSON(o *order.Order, data []byte) error {
	if o.ID == "" {
		return errors.New("bolt: PutOrderJSON needs an order with its ID set")
	}
	return t.putOrder(o, data)
}

func (t *tx) putOrder(o *order.Order, data []byte) error {
	orders := t.b(bOrders)
	orders.FillPercent = appendFill
	key, fresh, err := t.newKey(store.KindOrder, orders, &o.ID)
	if err != nil {
		return err
	}
	var prev *order.Order
	if fresh {
		if err := addCount(t.b(bMeta), keyOrderCount, 1); err != nil {
			return err
		}
	} else if prev, err = getJSON[order.Order](orders, key); err != nil {
		return err
	}
	if err := t.indexOrder(key, prev, o); err != nil {
		return err
	}
	if data == nil {
		return putJSON(orders, key, o)
	}
	return orders.Put(key, data)
}

// indexOrder moves the order's index entries from prev (nil for a new order) to o.
func (t *tx) indexOrder(key []byte, prev, o *order.Order) error {
	idx := t.b(bOrderIndex)
	k := o.Key()
	var was order.Order
	if prev != nil {
		was = *prev
		if pk := prev.Key(); pk != "" && pk != k {
			if err := idx.Delete(orderIndexKey(pk)); err != nil {
				return err
			}
		}
	}
	if k != "" && (prev == nil || prev.Key() != k) {
		ik := orderIndexKey(k)
		cur, err := idx.get(ik)
		if err != nil {
			return err
		}
		if cur != nil && !bytes.Equal(cur, key) {
			return fmt.Errorf("bolt: order key %s: %w", k, store.ErrConflict)
		}
		if err := idx.Put(ik, key); err != nil {
			return err
		}
	}
	return reindex(t.b(bOrderStatus), key, string(was.Status), string(o.Status), prev != nil)
}

// reindex replaces the index entry old\x00key by new\x00key.
func reindex(b *bucket, key []byte, old, new string, hadOld bool) error {
	if hadOld && old == new {
		return nil
	}
	if hadOld && old != "" {
		if err := b.Delete(indexKey(old, key)); err != nil {
			return err
		}
	}
	if new == "" {
		return nil
	}
	return b.Put(indexKey(new, key), nil)
}

// The capacities of the buffers orders and messages are encoded into: a typical record
// (an order of about 1.5 KB, a message of about 400 bytes) fits without the buffer
// growing.
const (
	orderJSONSize   = 2048
	messageJSONSize = 512
)

// putJSON stores v under key, encoded as json.Marshal encodes it. Orders and messages,
// written for every inbound message, are encoded by their AppendJSON methods, which
// write the same bytes without reflection.
func putJSON(b *bucket, key []byte, v any) error {
	// In the committer's transaction Put copies the value into the log record, so
	// one buffer serves every record there; elsewhere bbolt keeps the value until
	// the transaction ends.
	var buf []byte
	if b.t.redo != nil {
		buf = b.t.scratch[:0]
	}
	var data []byte
	var err error
	switch v := v.(type) {
	case *order.Order:
		data, err = v.AppendJSON(slices.Grow(buf, orderJSONSize))
	case *store.Message:
		data, err = v.AppendJSON(slices.Grow(buf, messageJSONSize))
	default:
		data, err = json.Marshal(v)
	}
	if err != nil {
		return fmt.Errorf("bolt: encode record: %w", err)
	}
	if b.t.redo != nil && cap(data) <= 1<<20 {
		b.t.scratch = data[:0]
	}
	return b.Put(key, data)
}

// allKeys yields every key of b, newest (highest sequence) first.
func allKeys(b *bucket) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		c := b.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if !yield(k) {
				return
			}
		}
	}
}

// valuesNewestFirst yields the record keys stored as values under a key prefix of an
// index, newest (highest sequence) first.
func valuesNewestFirst(idx *bucket, prefix string) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		var keys [][]byte
		c := idx.Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if len(v) == 8 {
				keys = append(keys, v)
			}
		}
		slices.SortFunc(keys, func(a, b []byte) int { return bytes.Compare(b, a) })
		for _, k := range keys {
			if !yield(k) {
				return
			}
		}
	}
}

// indexKeys yields the record keys an index holds for value, newest first.
func indexKeys(idx *bucket, value string) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		prefix := append([]byte(value), 0)
		c := idx.Cursor()
		// Seek past the last entry for value, then walk back.
		end := append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if !yield(k[len(prefix):]) {
				return
			}
		}
	}
}

// collect decodes up to limit records whose keys the iterator yields and that match.
func collect[T any](b *bucket, keys func(func([]byte) bool), limit int, match func(*T) bool) ([]*T, error) {
	out, _, err := scan(b, keys, limit, match, false, nil)
	return out, err
}

// collectCounted is collect that also counts every match.
func collectCounted[T any](b *bucket, keys func(func([]byte) bool), limit int, match func(*T) bool) ([]*T, int, error) {
	return scan(b, keys, limit, match, true, nil)
}

// scan decodes up to limit records whose keys the iterator yields and that match, and
// when counting, counts every match. When before is not nil, only records with smaller
// keys are listed; the others still count.
func scan[T any](b *bucket, keys func(func([]byte) bool), limit int, match func(*T) bool, counting bool, before []byte) (out []*T, total int, err error) {
	out = []*T{}
	defer func() {
		if err == nil && b.t.bad != nil { // an index or a cursor met a damaged value
			out, total, err = nil, 0, b.t.bad
		}
	}()
	keys(func(k []byte) bool {
		listed := before == nil || bytes.Compare(k, before) < 0
		if match == nil && (len(out) >= limit || !listed) {
			total++ // an index entry is a match; no need to decode it
			return counting || !listed
		}
		var rec *T
		if rec, err = getJSON[T](b, k); err != nil {
			return false
		}
		if match != nil && !match(rec) {
			return true
		}
		total++
		if listed && len(out) < limit {
			out = append(out, rec)
		}
		return counting || len(out) < limit
	})
	return out, total, err
}

// keysBefore yields the keys of b below before (all of them when it is nil), newest
// first.
func keysBefore(b *bucket, before []byte) func(yield func([]byte) bool) {
	if before == nil {
		return allKeys(b)
	}
	return func(yield func([]byte) bool) {
		c := b.Cursor()
		k, _ := c.Seek(before)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil; k, _ = c.Prev() {
			if !yield(k) {
				return
			}
		}
	}
}
